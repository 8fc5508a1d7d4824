/**
 * The joiner's side of a join (docs/protocol.md "Joining a room"): make a KeyPackage and the
 * invite proof, send `join`, wait for a Welcome envelope, join from it (refusing a group the
 * link's inviter is not in), then subscribe. The `join` is sent again after every reconnect (the
 * relay forgets pending joins of a dropped connection) under the same join id. No Welcome
 * within `joinTimeoutMs` ends the attempt with an error naming the likely causes; while it waits,
 * a first join says so (`info`) at a sixth and at half of it (10 s and 30 s of 60 s). What is
 * likely depends on whether the relay took the request (acked it): if it did, no member was
 * online, or none could open the request (the link's invite secret is wrong, or was replaced by
 * a ban: a member that kept the old secret refuses with E_LINK_REVOKED instead); if not, the
 * request never got through (see the connection). A refusal (envelope 0x02) is not
 * authenticated (anyone who knows the room id can send one from a cohort of its own), so it
 * is advisory: it ends the attempt only if no Welcome comes within `refusalGraceMs` after it.
 * A Welcome that does not open (forged by a relay, or for a KeyPackage of ours it cannot match)
 * is ignored: the genuine one may still come.
 */
import type { Fingerprint, GroupSession, PendingJoin } from '../e2ee/api.js';
import { randomId } from '../protocol/ids.js';
import type { TimerId } from './clock.js';
import { formatDuration } from './duration.js';
import { decodeWelcomeEnvelope, type RefusalCode } from './envelope.js';
import { bytesEqual } from '../protocol/bytes.js';
import type { Room } from './room.js';

export type JoinTicket = { room: string; secret: Uint8Array; inviter: Fingerprint };

/** When a first join says it is still waiting, as fractions of `joinTimeoutMs`. */
export const JOIN_PROGRESS_AT = [1 / 6, 1 / 2] as const;

/** Why no member may have admitted a joiner whose request reached the relay. */
const LIKELY_CAUSES = "no member may be online, or the link's invite secret is wrong or was revoked";


/**
 * What a join is for: a first join (the room waits for it: a refusal or the timeout ends it), or
 * a re-admission of a member that fell behind (it stays a member meanwhile: a refusal or the
 * timeout only ends the attempt).
 */
/** `inviters`: a re-admission takes a Welcome into a group with any of them (its former co-members). */
export type JoinMode = { kind: 'join' } | { kind: 'rejoin'; onGiveUp(): void; accept?: (session: GroupSession) => boolean; inviters?: readonly Fingerprint[] };

export class Joiner {
  readonly #room: Room;
  readonly #ticket: JoinTicket;
  readonly #joinId = randomId();
  #pending: PendingJoin | undefined;
  #timer: TimerId | undefined;
  #retry: TimerId | undefined;
  /** A refusal waiting out its grace (a genuine Welcome may still come). */
  #refusal: TimerId | undefined;
  /** "Still waiting" notes not yet given. */
  #progress: TimerId[] = [];
  /** The relay took the join request (acked it) at least once: it reached the room's members, if any are online. */
  #asked = false;
  #done = false;

  readonly #mode: JoinMode;

  constructor(room: Room, ticket: JoinTicket, mode: JoinMode = { kind: 'join' }) {
    this.#room = room;
    this.#ticket = ticket;
    this.#mode = mode;
  }

  async start(): Promise<void> {
    const { ctx } = this.#room;
    const timeoutMs = ctx.timing.joinTimeoutMs;
    this.#timer = ctx.clock.setTimeout(() => void this.#room.enqueue(() => Promise.resolve(this.#timeout())), timeoutMs);
    // A direct room's invitation comes from a peer who is online: no notes for it.
    if (this.#mode.kind === 'join' && this.#room.direct === undefined)
      this.#progress = JOIN_PROGRESS_AT.map((f) => Math.round(timeoutMs * f)).map((at) =>
        ctx.clock.setTimeout(() => void this.#room.enqueue(() => Promise.resolve(this.#stillWaiting(at))), at),
      );
    this.#pending = await ctx.e2ee.createJoinRequest(ctx.identity, ctx.name, this.#ticket.room, this.#ticket.secret);
    if (this.#done) {
      this.#pending.dispose();
      this.#pending = undefined;
      return;
    }
    this.resend();
  }

  /** Whether a leaf with this HPKE key comes from this attempt's KeyPackage (its Welcome is due). */
  owns(leafKey: Uint8Array): boolean {
    return this.#pending !== undefined && !this.#done && bytesEqual(this.#pending.leafKey, leafKey);
  }

  /** Sends the join request (again): the outbox ignores it while the previous copy is unacked. */
  resend(): void {
    const pending = this.#pending;
    if (!pending || this.#done) return;
    const { ctx } = this.#room;
    ctx.outbox.add({
      header: { v: 1, t: 'join', room: this.#ticket.room, id: this.#joinId },
      body: pending.body,
      onAck: () => void (this.#asked = true),
      // Refused for now (rate limit, too many pending joins): ask again a little later.
      onNack: () => {
        const t = ctx.clock.setTimeout(() => this.resend(), ctx.timing.rankDelayMs);
        this.#retry?.cancel();
        this.#retry = t;
      },
    });
  }

  async onWelcome(body: Uint8Array): Promise<void> {
    const pending = this.#pending;
    const room = this.#room;
    if (!pending || this.#done) return;
    const envelope = decodeWelcomeEnvelope(body);
    if (!envelope) return;
    if (envelope.kind === 'refused') {
      // The first refusal starts the grace; one forged by a link holder loses to the Welcome.
      if (this.#refusal === undefined)
        this.#refusal = room.ctx.clock.setTimeout(
          () => void room.enqueue(() => Promise.resolve(this.#refused(envelope.code))),
          room.ctx.timing.refusalGraceMs,
        );
      return;
    }
    const accept = this.#mode.kind === 'rejoin' ? this.#mode.accept : undefined;
    let foreign = false;
    const inviters = this.#mode.kind === 'rejoin' && this.#mode.inviters?.length ? this.#mode.inviters : this.#ticket.inviter;
    // A direct room: exactly this device and the inviter, in a group the inviter signed.
    const direct = room.direct !== undefined ? { direct: true } : {};
    const outcome = await room.ctx.e2ee.joinFromWelcome(pending, envelope.welcome, inviters, accept && ((s) => (foreign = !accept(s)) === false), { ...direct, keep: true });
    if (!outcome.ok) {
      if (outcome.code === 'E_KEY_CHANGED') room.ctx.emit({ type: 'error', code: 'E_KEY_CHANGED', message: `not joined: ${outcome.message}`, room: room.id });
      if (outcome.code === 'E_FORBIDDEN' && room.direct)
        room.ctx.emit({
          type: 'error',
          code: 'E_FORBIDDEN',
          message: `someone tried to bring you into a group posing as your direct room with ${room.direct.name}, with others in it; refused (your direct room holds only the two of you)`,
          room: room.id,
        });
      if (foreign) room.ctx.emit({ type: 'error', code: 'E_FORBIDDEN', message: `a member answered this device's re-admission to ${room.roomName} with a group that does not continue the room (another policy); ignored`, room: room.id });
      return;
    }
    // A first join: only once the relay's line for the room holds this group (room.ts
    // `onLine`). A group someone made around our KeyPackage is dropped (not disposed: its leaf
    // key is the PendingJoin's) and the genuine Welcome for the same request may still come.
    if (this.#mode.kind === 'join' && !(await room.onLine(outcome.session))) return;
    if (this.#done) return;
    this.#done = true;
    this.#timer?.cancel();
    this.#refusal?.cancel();
    this.#cancelProgress();
    this.#pending = undefined;
    pending.joined();
    if (this.#mode.kind === 'rejoin') await room.readmitted(outcome.session);
    else await room.becameMember(outcome.session);
  }

  #refused(code: RefusalCode): void {
    if (this.#done) return;
    // A re-admission is not ended by a refusal: refusals are unauthenticated (any subscriber can
    // send one), and the members who will admit it may act later than the grace. The timeout
    // decides (a changed link or a ban: nobody admits it, and it ends then).
    if (this.#mode.kind === 'rejoin') {
      this.#refusal = undefined;
      return;
    }
    const room = this.#room;
    const why = {
      E_BANNED: 'a member refused to admit you: this identity or name is banned from this server',
      E_CLOCK_SKEW: "a member refused to admit you: your device's clock and theirs differ by more than a day; set the clock (date and time zone) and join again",
      E_NAME_TAKEN: `a member refused to admit you: the name "${room.ctx.name}" is taken in this room, or looks like a member's name; join again with another name`,
      E_NAME_INVALID: `a member refused to admit you: the name "${room.ctx.name}" is not allowed in this room; join again with another name`,
      E_LINK_REVOKED: 'a member refused to admit you: this link is no longer valid (the room changed its link); ask a member for the new one',
    }[code];
    room.ctx.emit({ type: 'error', code, message: why, room: room.id });
    room.close('refused', undefined, code);
  }

  #giveUp(): void {
    if (this.#mode.kind !== 'rejoin') return;
    this.stop();
    this.#mode.onGiveUp();
  }

  /** A first join still waits, `atMs` after it started: say so, with the likely causes. Nothing secret: the room's id and name only. */
  #stillWaiting(atMs: number): void {
    if (this.#done) return;
    const room = this.#room;
    const of = `${formatDuration(atMs)} of ${formatDuration(room.ctx.timing.joinTimeoutMs)}`;
    room.ctx.emit({
      type: 'info',
      message: this.#asked
        ? `still waiting for a member of ${room.roomName} to admit you (${of}): ${LIKELY_CAUSES}`
        : `still waiting to reach the relay to ask the members of ${room.roomName} to admit you (${of}); see the connection state`,
      room: room.id,
    });
  }

  #timeout(): void {
    if (this.#done) return;
    if (this.#mode.kind === 'rejoin') return this.#giveUp();
    const room = this.#room;
    const secs = formatDuration(room.ctx.timing.joinTimeoutMs);
    const why =
      room.direct !== undefined
        ? `${room.roomName} must be online to let you into your direct room; try again when they are`
        : this.#asked
          ? `${LIKELY_CAUSES} (then ask a member for the room's current link); try again when a member is online`
          : 'your request never reached the relay (see the connection state); try again once it can be reached';
    room.ctx.emit({ type: 'error', code: 'E_JOIN_TIMEOUT', message: `no member admitted you to ${room.roomName} within ${secs}: ${why}`, room: room.id });
    room.close('timeout', undefined, 'E_JOIN_TIMEOUT');
  }

  #cancelProgress(): void {
    for (const t of this.#progress) t.cancel();
    this.#progress = [];
  }

  stop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#timer?.cancel();
    this.#retry?.cancel();
    this.#refusal?.cancel();
    this.#cancelProgress();
    this.#pending?.dispose();
    this.#pending = undefined;
  }
}
