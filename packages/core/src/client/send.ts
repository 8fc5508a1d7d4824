/**
 * Sending an application message (docs/protocol.md "Inside MLS"): checked (length, blocked
 * keys, the outbox bound), timed on proven time if the room has a timer, encrypted in the room's
 * queue, and published; held while this device is out of the group or a leave waits (sent in
 * the epoch after); a relay's "not subscribed" is answered by subscribing and sending again,
 * never by dropping it. A text is echoed to the UI once it is on its way.
 */
import { pubHeader } from '../protocol/frames.js';
import { LIMITS } from '../protocol/limits.js';
import { randomId } from '../protocol/ids.js';
import { BOUNDS, HELD_FULL, OUTBOX_FULL } from './bounds.js';
import { encodeAppPayload, type AppPayload } from './envelope.js';
import type { OutboxEntry } from './outbox.js';
import type { Room, SendResult } from './room.js';

/** A relay's "not subscribed" to a message: subscribe and send it again, this many times. */
const MAX_RESENDS = 3;

/** What of the room a send needs beyond its public face. */
export interface SendHost {
  readonly room: Room;
  /** Sends waiting until this device is back in the group, or a leave is committed. */
  readonly held: Array<() => Promise<void>>;
  /** Out of the group, being re-admitted (readmission.ts). */
  away(): boolean;
  /** The next counter of our messages in this room (gaps.ts). */
  nextCounter(): number;
  /** Commits the leave proposals waiting, now (commits.ts). */
  commitProposalsNow(): void;
}

export async function sendMessage(h: SendHost, payload: AppPayload, options: { id?: string; echo?: boolean } = {}): Promise<SendResult> {
  const { room } = h;
  if ((payload.t === 'text' || payload.t === 'me') && new TextEncoder().encode(payload.text).length > LIMITS.maxTextBytes)
    return { ok: false, code: 'E_TEXT_TOO_LONG', message: `a message may have at most ${LIMITS.maxTextBytes} bytes` };
  const blocked = room.blockedMembers();
  if (blocked.length > 0) {
    const who = blocked.join(', ');
    return {
      ok: false,
      code: 'E_MEMBER_BLOCKED',
      message: `not sent: the verified key of ${who} changed; compare safety numbers (/verify ${blocked[0] ?? ''}) or accept the new key (/trust ${blocked[0] ?? ''})`,
    };
  }
  // At a bound, refused, never dropped: the text stays with the user (bounds.ts).
  if (!room.ctx.outbox.hasRoomFor('message')) return OUTBOX_FULL;
  const id = options.id ?? randomId();
  // A timed message's expiry comes from proven time, never from the local clock (expiry.ts).
  const timed = (payload.t === 'text' || payload.t === 'me') && room.ttlMs > 0;
  const expiresAt = timed ? await room.ctx.expiry.expiresAt(room.ttlMs) : undefined;
  if (timed && expiresAt === undefined)
    return { ok: false, code: 'E_TIME_UNPROVEN', message: 'not sent: this room has a message timer, and the time cannot be proven right now (too few Roughtime servers answered); try again later, or turn the timer off with /ttl off' };
  let result: SendResult = { ok: false, code: 'E_NO_ROOM', message: 'you are no longer a member of this room' };
  await room.enqueue(async () => {
    const session = room.session;
    if ((!session && !h.away()) || room.state !== 'member') return;
    if ((!session || session.pendingProposals() > 0) && h.held.length >= BOUNDS.heldPerRoom) return void (result = HELD_FULL);
    if (!room.ctx.outbox.hasRoomFor('message')) return void (result = OUTBOX_FULL); // filled while we waited our turn
    let immediate = false;
    let refused = false;
    const numbered = payload.t === 'text' || payload.t === 'me' ? { ...payload, n: h.nextCounter() } : payload;
    const exp = expiresAt === undefined ? {} : { expiresAt };
    const publish = async (): Promise<void> => {
      const now = room.session;
      if (!now || room.state !== 'member') return;
      const body = await now.encrypt(encodeAppPayload(numbered), { room: room.id, id, ...exp });
      room.noteSent();
      let tries = 0;
      const entry: OutboxEntry = {
        header: pubHeader({ room: room.id, id, kind: payload.t === 'dm' ? 'dm' : 'app', epoch: now.epoch(), exp: expiresAt }),
        body,
        onNack: (code) => {
          // Not subscribed at the relay right now (it restarted, or we are catching up): we
          // are still a member; subscribe and send it again (receivers dedup), never drop it.
          // In the room's queue: while we catch up, the relay subscribes us only once we prove
          // its current epoch, and the commits that bring us there (its log, sent before this
          // refusal) are queued already. Sent again at once, a `sub` for the epoch we are still
          // in would be refused as stale, and so would the message, every try in a few ms.
          // E_UNAVAILABLE: a cluster's relay could not carry it to the others just now (its bus was
          // down): the same, sent again once subscribed.
          if ((code === 'E_NOT_SUBSCRIBED' || code === 'E_UNAVAILABLE') && tries < MAX_RESENDS && room.isMember()) {
            tries++;
            void room.enqueue(async () => {
              // Removed as absent meanwhile: encrypted again once re-admitted (same id).
              if (room.readmitting()) return void h.held.push(publish);
              if (!room.isMember()) {
                room.ctx.emit({ type: 'error', code, message: `the relay refused a message to ${room.roomName} (${code}); it was not delivered`, room: room.id });
                return;
              }
              await room.subscribe();
              if (!room.ctx.outbox.add(entry)) room.ctx.emit({ type: 'error', code: 'E_LIMIT', message: `a message to ${room.roomName} the relay refused could not be sent again: the outbox is full; it was not delivered`, room: room.id });
            });
            return;
          }
          room.ctx.emit({ type: 'error', code, message: `the relay refused a message to ${room.roomName} (${code}); it was not delivered`, room: room.id });
        },
      };
      // Full since the check above (other sends went first): refused now; a message that
      // waited (held) and is refused is said, never dropped silently.
      if (room.ctx.outbox.add(entry)) return;
      if (immediate) refused = true;
      else room.ctx.emit({ type: 'error', code: 'E_LIMIT', message: `a message you wrote to ${room.roomName} earlier was not sent: the outbox is full (the relay has not acknowledged what was sent)`, room: room.id });
    };
    // RFC 9420 (and ts-mls) send no application message while a proposal waits: someone is
    // leaving. Held, and sent in the epoch after; we commit the leave ourselves, now.
    // Removed as absent while online: sent once re-admitted.
    if (!session) h.held.push(publish);
    else if (session.pendingProposals() > 0) {
      h.held.push(publish);
      h.commitProposalsNow();
    } else {
      immediate = true;
      await publish();
      immediate = false;
      if (refused) return void (result = OUTBOX_FULL);
    }
    result = { ok: true, id };
    if ((payload.t === 'text' || payload.t === 'me') && options.echo !== false) await room.echo(id, payload.text, payload.t === 'me', expiresAt);
  });
  return result;
}
