/** Byte helpers shared by every part of core (the lowest layer, so e2ee and roughtime may use it). */

/** Concatenates byte arrays into a new one; the inputs are not kept. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
