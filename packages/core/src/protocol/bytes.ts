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

/**
 * Byte equality: the one helper every part of Safehouse uses (core, relay, command line).
 *
 * Constant-time for inputs of equal length: every byte is looked at, whatever the first
 * difference, so it is safe on secrets and MACs (invite secrets, `verifyMac`). Only the length
 * is allowed to leak (it returns false at once when the lengths differ); every secret or MAC we
 * compare has a fixed length. Neither input is kept or changed.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}
