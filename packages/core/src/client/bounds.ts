/**
 * Bounds on the client's state (issue 12, "bounded client state"). Everything the client keeps
 * because the relay or another member sent something is bounded here, once, with what happens at
 * the bound (the table in README.md "Bounds" says the same, with the file that enforces each):
 *   - what the user wrote is never dropped at a bound: the send is refused (`E_LIMIT`, a
 *     `SendResult` the UI shows) and the text stays with the user;
 *   - what a peer or the relay sent is not kept past the bound, and the client says so with an
 *     `E_LIMIT` error event, at most once per bound and room every `noticeEveryMs`, so that a
 *     flood cannot turn into a flood of events.
 */
import type { Clock } from './clock.js';
import type { ClientEvent } from './events.js';

export const BOUNDS = {
  /** Frames waiting for the relay's ack that a peer or the user can multiply: application
   *  messages (and signs of life, DM invitations) and Welcomes. A commit, a leave proposal and a
   *  join request are always taken: a room has at most one of each waiting. */
  outboxFrames: 1024,
  /** Of those, Welcomes (each answers a join request the relay delivered; a relay replaying one
   *  request would otherwise queue a ~60 KiB Welcome per replay). */
  outboxWelcomes: 64,
  /** Acked application messages kept for a resend after a relay restart (the last 60 s). */
  recentResend: 1024,
  /** Messages written while this device is out of the group (re-admission) or a leave waits, per room. */
  heldPerRoom: 256,
  /** Join requests waiting to be admitted, per room (each passed the invite proof). */
  joinIntents: 256,
  /** Formatted fingerprints cached (one per identity seen). */
  fingerprints: 4096,
  /** Members whose last epoch heard is remembered, per room (secrets.ts). */
  heardMembers: 1024,
  /** Direct messages waiting for their peer to join, per peer (direct.ts). */
  queuedDirect: 256,
} as const;

export type BoundName = keyof typeof BOUNDS | 'timedMessages' | 'rooms';

/** A send refused at a bound (`SendResult`): the UI says it, and the text stays with the user. */
export const OUTBOX_FULL = { ok: false, code: 'E_LIMIT', message: `not sent: ${BOUNDS.outboxFrames} messages already wait for the relay to acknowledge them; try again once they are delivered` } as const;
export const DIRECT_QUEUE_FULL = { ok: false, code: 'E_LIMIT', message: `not sent: ${BOUNDS.queuedDirect} direct messages already wait for this peer to join; try again once they are delivered` } as const;
export const HELD_FULL = { ok: false, code: 'E_LIMIT', message: `not sent: ${BOUNDS.heldPerRoom} messages already wait until this device is back in the room; try again once they are delivered` } as const;

/** At most one `E_LIMIT` event per bound and room this often. */
export const LIMIT_NOTICE_EVERY_MS = 10_000;

/** Says that a bound was hit, at most once per bound and room every `LIMIT_NOTICE_EVERY_MS`. */
export class LimitNotice {
  readonly #clock: Clock;
  readonly #emit: (e: ClientEvent) => void;
  /** When each (bound, room) was last reported; bounded by the bounds × rooms (64 per connection). */
  readonly #last = new Map<string, number>();

  constructor(clock: Clock, emit: (e: ClientEvent) => void) {
    this.#clock = clock;
    this.#emit = emit;
  }

  /** `message`: what was not kept, without any message text, key or name a peer chose. */
  hit(bound: BoundName, message: string, room?: string): void {
    const key = `${bound}/${room ?? ''}`;
    const now = this.#clock.now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < LIMIT_NOTICE_EVERY_MS) return;
    this.#last.delete(key);
    this.#last.set(key, now);
    if (this.#last.size > 1024) this.#last.delete(this.#last.keys().next().value ?? '');
    this.#emit({ type: 'error', code: 'E_LIMIT', message, ...(room === undefined ? {} : { room }) });
  }
}
