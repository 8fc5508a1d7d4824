/**
 * Words for a room's message timer (`/ttl`). Every UI shows `ttlText` as it is: it says plainly
 * that a recipient can always copy what it was shown (self-destruct binds honest clients only).
 */
/** 90000 → "1m 30s"; whole units only. */
export function formatTtl(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1_000, 's']];
  const out: string[] = [];
  let rest = ms;
  for (const [size, name] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out.push(`${n}${name}`);
    rest -= n * size;
  }
  return out.length > 0 ? out.join(' ') : `${ms}ms`;
}

export const COPY_CAVEAT = 'A recipient can always copy what it was shown.';

/** `again`: the timer in force where this device just joined (from the group state: who set it is not known). */
export function ttlText(ms: number, who: string, roomName: string, again = false): string {
  if (again)
    return ms === 0
      ? `Messages in ${roomName} no longer disappear (the room's timer is off)`
      : `Messages in ${roomName} disappear ${formatTtl(ms)} after they are sent (the room's timer), judged on time proven by Roughtime; yours too. ${COPY_CAVEAT}`;
  if (ms === 0) return `${who} turned off disappearing messages in ${roomName}`;
  return `${who} set messages in ${roomName} to disappear ${formatTtl(ms)} after they are sent, judged on time proven by Roughtime. ${COPY_CAVEAT}`;
}
