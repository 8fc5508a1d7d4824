/**
 * The room's message timer (`/ttl`), as authenticated group state: a GroupContext extension
 * (RFC 9420 §12.1.7, private-use type 0xf5a3) beside the room's policy (policy.ts, 0xf5a2).
 * Only a commit can change it, so every member of an epoch has the same timer, and a newcomer
 * reads it from the GroupContext in its Welcome. A relay can drop the commit that sets it to one
 * member, but then that member is stuck in the epoch before (and its messages are judged
 * against the room's timer by the others: client/timer.ts).
 *
 *   u8 version (1) | u32 milliseconds, big-endian (0 = messages do not expire)
 *
 * Any member may change it (as any member could `/ttl` before); only the policy stays an
 * admin's (group.ts `allowedByPolicy`).
 */
import { LIMITS } from '../protocol/limits.js';

export const TIMER_EXTENSION = 0xf5a3;
const VERSION = 1;
const SIZE = 5;

export function encodeTimer(ms: number): Uint8Array {
  if (!Number.isInteger(ms) || ms < 0 || ms > LIMITS.maxTtlMs) throw new TypeError(`"ms" expected an integer from 0 to ${LIMITS.maxTtlMs}, got ${String(ms)}`);
  const out = new Uint8Array(SIZE);
  out[0] = VERSION;
  new DataView(out.buffer).setUint32(1, ms, false);
  return out;
}

/** Undefined for anything that is not exactly a version-1 timer within the limits. */
export function decodeTimer(data: Uint8Array): number | undefined {
  if (!(data instanceof Uint8Array) || data.length !== SIZE || data[0] !== VERSION) return undefined;
  const ms = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1, false);
  return ms <= LIMITS.maxTtlMs ? ms : undefined;
}

/** The timer an extension list carries: 0 without one; undefined if the one it carries is malformed. */
export function timerIn(extensions: ReadonlyArray<{ extensionType: unknown; extensionData: Uint8Array }>): number | undefined {
  const found = extensions.filter((e) => e.extensionType === TIMER_EXTENSION);
  if (found.length > 1) return undefined; // two timers: which one? neither
  const ext = found[0];
  return ext === undefined ? 0 : decodeTimer(ext.extensionData);
}
