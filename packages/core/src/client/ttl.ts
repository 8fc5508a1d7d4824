/**
 * Words for a room's message timer (`/ttl`). Every UI shows `ttlText` as it is: it says plainly
 * that a recipient can always copy what it was shown (self-destruct binds honest clients only).
 */
import { formatDuration } from './duration.js';

export const COPY_CAVEAT = 'A recipient can always copy what it was shown.';

/** `again`: the timer in force where this device just joined (from the group state: who set it is not known). */
export function ttlText(ms: number, who: string, roomName: string, again = false): string {
  if (again)
    return ms === 0
      ? `Messages in ${roomName} no longer disappear (the room's timer is off)`
      : `Messages in ${roomName} disappear ${formatDuration(ms)} after they are sent (the room's timer), judged on time proven by Roughtime; yours too. ${COPY_CAVEAT}`;
  if (ms === 0) return `${who} turned off disappearing messages in ${roomName}`;
  return `${who} set messages in ${roomName} to disappear ${formatDuration(ms)} after they are sent, judged on time proven by Roughtime. ${COPY_CAVEAT}`;
}
