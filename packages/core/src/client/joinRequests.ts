/**
 * Opening the join requests a member receives (docs/protocol.md "Joining a room"). A `join`
 * frame body is sealed under a key derived from an invite secret (e2ee/joinSeal.ts), so only
 * link holders can read who is asking; a member tries the room's current secret, then the
 * secrets the room used before (secrets.ts: a member re-admitting itself may have missed a
 * ban's change of it). Whichever secret opens a request also carries its proof.
 *
 * A body that opens under none of them is someone without any link the room knew (or garbage
 * from the relay): the caller drops it silently and counts it, and nothing about it is logged.
 */
import type { E2ee, JoinRequest } from '../e2ee/api.js';
import type { OldSecret } from './secrets.js';

export type OpenedJoin =
  /** Opened under the room's current secret. */
  | { kind: 'current'; request: JoinRequest; secret: Uint8Array }
  /** Opened under a secret the room used before (`old` says when it was retired). */
  | { kind: 'old'; request: JoinRequest; old: OldSecret };

/** The request in `body`, and the secret it opened under; undefined if none opens it. Never throws. */
export async function openJoinRequest(
  e2ee: E2ee,
  room: string,
  body: Uint8Array,
  current: Uint8Array,
  old: () => readonly OldSecret[],
): Promise<OpenedJoin | undefined> {
  const request = await e2ee.openJoinRequest(body, room, current);
  if (request) return { kind: 'current', request, secret: current };
  // Only asked for when the current secret failed: most requests are for the current link.
  for (const o of old()) {
    const r = await e2ee.openJoinRequest(body, room, o.secret);
    if (r) return { kind: 'old', request: r, old: o };
  }
  return undefined;
}
