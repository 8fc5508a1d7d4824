/**
 * A room's message timer (`/ttl`; docs/protocol.md "Timed messages"), on the client's side.
 *
 * The timer is group state (e2ee/timer.ts): a GroupContext extension that only a commit changes,
 * so every member of an epoch has the same one, and a newcomer has it from its Welcome. This
 * file says so to the UI (`ttl` events, from the commit, for its author and for the others) and
 * judges each text message against it:
 *
 * - the timer that binds a message is the one of the epoch it was sent in, or the room's current
 *   one once that has been in force for longer than a message can be in flight
 *   (`inFlightGraceMs`): a relay that keeps one member in the epoch before the timer (it drops
 *   the commit to it) does not make that member's messages permanent;
 * - in a timed room, a message without an expiry, or with one later than proven time + the
 *   timer + `EXPIRY_SKEW_MS`, is flagged (`error E_UNTIMED` and `untimed` on the message) and
 *   timed by this device itself from proven time, never shown as permanent silently;
 * - in a room without a timer, a message with an expiry is honoured as it is.
 */
import type { GroupSession, Member } from '../e2ee/api.js';
import type { RoomContext } from './context.js';
import { formatDuration } from './duration.js';
import { ttlText } from './ttl.js';

/**
 * How far a sender's expiry may be past this device's proven latest present + the timer: the
 * sender's proven radius and the message's time in flight (the sender takes the middle of its
 * proven interval; radii are seconds at most).
 */
export const EXPIRY_SKEW_MS = 2 * 60_000;
/** Who a newcomer is told set the timer: the group state says what it is, not who set it. */
const ROOM = 'the room';
/** Epochs whose timer is remembered (a message of an epoch older than that is judged by the current timer). */
const EPOCHS_KEPT = 64;

export interface TimerHost {
  readonly ctx: RoomContext;
  readonly id: string;
  readonly roomName: string;
  readonly session: GroupSession | undefined;
}

/** What the room shows for one text message: its expiry, and whether it came without a valid one. */
export type Judged = { expiresAt?: number; untimed?: true };

export class RoomTimer {
  readonly #host: TimerHost;
  /** The timer of each epoch this device was in, by epoch. */
  readonly #epochs = new Map<number, number>();
  /** The timer last told to the UI, and since when (this device's clock) it is in force here. */
  #current = 0;
  #since = 0;

  constructor(host: TimerHost) {
    this.#host = host;
  }

  /** The room's timer now (ms; 0: messages do not expire). */
  get ms(): number {
    return this.#host.session?.timer() ?? 0;
  }

  /** Records the timer of the session's current epoch (after every epoch change, and on joining). */
  note(): void {
    const session = this.#host.session;
    if (!session) return;
    const ms = session.timer();
    this.#epochs.set(session.epoch(), ms);
    for (const e of this.#epochs.keys()) if (this.#epochs.size > EPOCHS_KEPT) this.#epochs.delete(e);
    if (ms !== this.#current) {
      this.#current = ms;
      this.#since = this.#host.ctx.clock.now();
    }
    if (ms > 0) this.#host.ctx.expiry.need();
  }

  /** A commit (ours: `self`) changed the timer: every member shows it, with the caveat. */
  changed(ms: number, from: string, self: boolean): void {
    this.note();
    this.#emit(ms, from, self, false);
  }

  /**
   * This device became a member (a Welcome; a re-admission): the timer comes from the group
   * state it joined; shown if there is one (or, after a re-admission, if it changed meanwhile).
   */
  joined(readmitted = false): void {
    const before = this.#current;
    this.note();
    const ms = this.#current;
    if (readmitted ? ms !== before : ms > 0) this.#emit(ms, ROOM, false, true);
  }

  #emit(ms: number, from: string, self: boolean, again: boolean): void {
    const { ctx, id, roomName } = this.#host;
    ctx.emit({ type: 'ttl', room: id, roomName, from, ms, self, text: ttlText(ms, self ? 'you' : from, roomName, again) });
  }

  /** The timer a message sent in `epoch` was bound by. */
  #binding(epoch: number): number {
    const then = this.#epochs.get(epoch);
    if (then === undefined) return this.#current;
    // Sent in an epoch without the timer now in force (none then, or a longer one), after it had
    // been for longer than a message is in flight: its sender is kept behind (by a relay dropping
    // commits to it). A timer turned off since leaves a message its expiry.
    const stricter = this.#current > 0 && (then === 0 || this.#current < then);
    if (stricter && this.#host.ctx.clock.now() - this.#since >= this.#host.ctx.timing.inFlightGraceMs) return this.#current;
    return then;
  }

  /** Judges a text message from `sender`, sent in `epoch` with `expiresAt` (from its authenticated data). */
  judge(sender: Member, epoch: number, expiresAt: number | undefined): Judged {
    const ms = this.#binding(epoch);
    if (ms === 0) return expiresAt === undefined ? {} : { expiresAt };
    const { ctx } = this.#host;
    // Too late only on proven time (the local clock may be a day off): the message is hidden
    // until time is proven anyway (expiry.ts).
    const bounds = ctx.expiry.bounds();
    const tooLate = expiresAt !== undefined && bounds !== undefined && expiresAt > bounds.latestMs + ms + EXPIRY_SKEW_MS;
    if (expiresAt !== undefined && !tooLate) return { expiresAt };
    // On the bounds at hand: measuring now would hold the room's queue for every such message.
    const own = bounds === undefined ? undefined : Math.round((bounds.earliestMs + bounds.latestMs) / 2) + ms;
    ctx.emit({
      type: 'error',
      code: 'E_UNTIMED',
      message:
        `${sender.name} sent a message to ${this.#host.roomName} ${expiresAt === undefined ? 'without an expiry' : 'with an expiry past'} the room's timer (${formatDuration(ms)}): ` +
        (own === undefined ? 'it is marked; this device cannot prove the time now to time it itself' : 'it is marked, and this device times it itself'),
      room: this.#host.id,
    });
    const timed = own ?? expiresAt;
    return { ...(timed === undefined ? {} : { expiresAt: timed }), untimed: true };
  }
}
