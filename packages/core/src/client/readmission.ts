/**
 * Re-admission (docs/protocol.md "Absent members" and "Falling behind"): a member asks to be
 * admitted again under its own identity, with a join request, when
 *   - another member removed it as absent while it was online (`afterAbsence`): it is out of the
 *     group until a Welcome comes, and what its user writes meanwhile is held (room.ts);
 *   - the relay says it is alone in its cohort while other members subscribe elsewhere
 *     (`onPresence`): it may have missed a commit (a relay restart, a commit that could not be
 *     processed); it stays a member meanwhile, and nothing changes if nobody answers.
 * An attempt is ended by its timeout only (refusals are unauthenticated, see joiner.ts). An
 * attempt of the second kind is made again, backing off, for as long as the device stays alone;
 * it yields to another member's re-admission that this device answers (two devices each alone
 * would otherwise admit each other into their own groups, and trade places).
 */
import type { GroupSession, Member } from '../e2ee/api.js';
import { Joiner } from './joiner.js';
import { bytesEqual } from '../protocol/bytes.js';
import { type Room } from './room.js';

/** What an attempt asks with, fixed while this device still had the room's group. */
type Ask = { secret: Uint8Array; inviter: Member | undefined; inviters: Uint8Array[]; accept: (session: GroupSession) => boolean };

/** Out of the group until re-admitted: by whom, the others then, messages waiting, what to ask with, whether asked twice. */
type Away = { by: string | undefined; before: readonly Member[]; unsent: () => number; ask: Ask; retried: boolean };

/** The longest wait between two attempts while alone. */
const ALONE_BACKOFF_CAP_MS = 60_000;

export class Readmission {
  readonly #room: Room;
  #joiner: Joiner | undefined;
  /**
   * Out of the group until re-admitted (removed as absent while online, or its leaf replaced):
   * by whom, the others then, and how many messages written meanwhile are waiting.
   */
  #away: Away | undefined;
  #aloneTimer: { cancel(): void } | undefined;
  /** Attempts made while alone, since this device was last not alone (the backoff). */
  #aloneTries = 0;
  /** Members the relay last said subscribe in another cohort. */
  #elsewhere = 0;
  /** Since when the relay says this device is not alone (the backoff is forgotten after a while of that). */
  #notAloneSince: number | undefined;

  constructor(room: Room) {
    this.#room = room;
  }

  /** Removed as absent while online, and asking to be re-admitted. */
  get away(): boolean {
    return this.#away !== undefined;
  }

  /** Whom the Welcome of an attempt under way is for (else the first join's joiner takes it). */
  get joiner(): Joiner | undefined {
    return this.#joiner;
  }

  /** After a (re)connect: the join request goes again. */
  resend(): void {
    this.#joiner?.resend();
  }

  /**
   * Another member removed this device as absent while it was online (`session` is the group it
   * was removed from, `by` who removed it), or re-admitted its identity from a replayed join
   * request (`why: 'replaced'`): ask at once to be re-admitted under its own identity.
   * No member re-admitting it in time ends the room here, saying how many messages were not sent.
   */
  async afterAbsence(session: GroupSession, by: Member | undefined, unsent: () => number, why: 'absent' | 'replaced' = 'absent'): Promise<void> {
    const room = this.#room;
    const away = this.#beingAway(session, by, unsent);
    const message =
      why === 'absent'
        ? `${by?.name ?? 'a member'} removed this device from ${room.roomName} as absent (no sign of life from it reached them); asking to be re-admitted`
        : `${by?.name ?? 'a member'} re-admitted your identity to ${room.roomName} from a join request this device did not make now (one replayed); asking to be re-admitted`;
    room.ctx.emit({ type: 'info', message, room: room.id });
    if (!away.ask.inviter) return room.close('removed', by?.name);
    this.#aloneTimer?.cancel();
    this.#aloneTimer = undefined;
    this.#joiner?.stop();
    await this.#askAway(away.ask);
  }

  /**
   * This device's leaf was replaced by the KeyPackage of its own attempt (asked while alone): its
   * Welcome is due. Until it comes, the device is out of the group (messages wait).
   */
  nowAway(session: GroupSession, by: Member | undefined, unsent: () => number): void {
    this.#beingAway(session, by, unsent);
  }

  /** Out of the group from now on (while `session` is still the room's: whom to ask is fixed now). */
  #beingAway(session: GroupSession, by: Member | undefined, unsent: () => number): Away {
    const ask = { secret: this.#room.secret, inviter: this.#inviterFor(by), inviters: this.#formerCoMembers(by), accept: this.#continues() };
    const away: Away = { by: by?.name, before: session.members().filter((m) => m.leaf !== session.myLeaf()), unsent, ask, retried: false };
    this.#away = away;
    return away;
  }

  async #askAway(ask: Ask): Promise<void> {
    const room = this.#room;
    if (!ask.inviter || room.state === 'left') return;
    const joiner = new Joiner(room, { room: room.id, secret: ask.secret, inviter: ask.inviter.fingerprint }, { kind: 'rejoin', accept: ask.accept, inviters: ask.inviters, onGiveUp: () => this.#gaveUp() });
    this.#joiner = joiner;
    await joiner.start();
  }

  /**
   * An attempt got no Welcome in time. Out of the group: ask once more (a Welcome the relay
   * dropped, or a replayed request that landed in place of ours), then the room ends here,
   * saying how many messages were not sent. Else ask again later, if still alone.
   */
  #gaveUp(): void {
    const room = this.#room;
    this.#joiner = undefined;
    const away = this.#away;
    if (away && !away.retried) {
      away.retried = true;
      room.ctx.emit({ type: 'info', message: `no member re-admitted this device to ${room.roomName} yet; asking once more`, room: room.id });
      void room.enqueue(() => this.#askAway(away.ask));
      return;
    }
    if (away) {
      const n = away.unsent();
      room.ctx.emit({
        type: 'error',
        code: 'E_JOIN_TIMEOUT',
        message: `no member re-admitted this device to ${room.roomName}${n > 0 ? `; ${n} message${n === 1 ? '' : 's'} written meanwhile ${n === 1 ? 'was' : 'were'} not delivered` : ''}`,
        room: room.id,
      });
      room.close('removed', away.by);
      return;
    }
    this.#aloneTries += 1;
    this.onPresence(room.presence, this.#elsewhere);
  }

  /**
   * The relay's presence: alone in our cohort while other members of the room subscribe
   * elsewhere (`others`). After a relay restart, or a commit this device could not process,
   * it may have missed a commit the relay can no longer replay. If it stays so for
   * `aloneRejoinMs` (doubling after each attempt that got no answer, jittered), ask to be
   * re-admitted. A rival cohort made by an attacker can trigger this too: the cost is one join
   * request now and then.
   */
  onPresence(count: number, others: number): void {
    this.#elsewhere = others;
    const { ctx } = this.#room;
    const alone = count <= 1 && others > 0 && this.#room.others().length > 0;
    if (!alone) {
      this.#aloneTimer?.cancel();
      this.#aloneTimer = undefined;
      this.#notAloneSince ??= ctx.clock.now();
      return;
    }
    // The backoff is forgotten only after a long while not alone: a relay that alternates
    // "alone" and "not alone" cannot make this device ask (and the room commit) at the base rate.
    if (this.#notAloneSince !== undefined && ctx.clock.now() - this.#notAloneSince >= ALONE_BACKOFF_CAP_MS) this.#aloneTries = 0;
    this.#notAloneSince = undefined;
    if (this.#aloneTimer || this.#joiner) return;
    const delay = Math.min(ALONE_BACKOFF_CAP_MS, ctx.timing.aloneRejoinMs * 2 ** Math.min(this.#aloneTries, 8)) * (0.75 + ctx.random() / 2);
    this.#aloneTimer = ctx.clock.setTimeout(() => {
      this.#aloneTimer = undefined;
      void this.#room.enqueue(() => this.#askWhileAlone());
    }, delay);
  }

  /**
   * This device is about to answer another member's re-admission (`other`: a member of its
   * group, asking under its own identity) while its own attempt is under way. Two devices alone
   * in cohorts of their own each answer the other; if both then waited for their own Welcome they
   * would trade places, and if both dropped their attempts neither would move. So one gives way,
   * by fingerprint: the smaller drops its attempt (its group is where the two meet: it asks again
   * later if still alone), the larger keeps its own (and takes the smaller's Welcome).
   */
  yieldTo(other: Uint8Array): void {
    if (this.#away || !this.#joiner || compareBytes(this.#room.ctx.identity.fingerprint, other) > 0) return;
    this.#joiner.stop();
    this.#joiner = undefined;
    this.#aloneTries += 1;
    this.onPresence(this.#room.presence, this.#elsewhere);
  }

  /** The Welcome came: the room takes the new session; what it needs of the attempt is returned. */
  done(): { before: readonly Member[] } | undefined {
    const away = this.#away;
    this.#joiner = undefined;
    this.#away = undefined;
    // Re-admitted after asking while alone: should the relay say "alone" again at once, its
    // word is the likelier lie (those who re-admitted this device are in its epoch): back off.
    this.#aloneTries += 1;
    return away;
  }

  stop(): void {
    this.#aloneTimer?.cancel();
    this.#aloneTimer = undefined;
    this.#away = undefined;
    this.#joiner?.stop();
    this.#joiner = undefined;
  }

  async #askWhileAlone(): Promise<void> {
    const room = this.#room;
    if (!room.isMember() || this.#joiner || room.presence > 1) return;
    const inviter = this.#inviterFor(undefined);
    if (!inviter) return;
    room.ctx.emit({ type: 'info', message: `this device may have fallen behind in ${room.roomName}; asking the other members to re-admit it`, room: room.id });
    const joiner = new Joiner(room, { room: room.id, secret: room.secret, inviter: inviter.fingerprint }, {
      kind: 'rejoin',
      accept: this.#continues(),
      inviters: this.#formerCoMembers(undefined),
      onGiveUp: () => this.#gaveUp(),
    });
    this.#joiner = joiner;
    await joiner.start();
  }

  /**
   * Whom a re-admission names as its inviter (the Welcome must come from a group it is in): an
   * admin, else the first other member in leaf order; never `not` (who removed this device) if
   * anyone else is there.
   */
  #inviterFor(not: Member | undefined): Member | undefined {
    const admins = this.#room.session?.policy()?.admins ?? [];
    const others = this.#room.others().filter((m) => not === undefined || !bytesEqual(m.fingerprint, not.fingerprint));
    return others.find((m) => admins.some((a) => bytesEqual(a, m.fingerprint))) ?? others[0] ?? not;
  }

  /**
   * Whom a re-admission's Welcome may come with: any other member of the room as this device
   * knew it, but the one who removed it (the inviter itself may have been removed since).
   */
  #formerCoMembers(not: Member | undefined): Uint8Array[] {
    const others = this.#room.others().filter((m) => not === undefined || !bytesEqual(m.fingerprint, not.fingerprint));
    return (others.length > 0 ? others : not ? [not] : []).map((m) => m.fingerprint);
  }

  /**
   * A re-admission must continue this room: the same admins as this device knew (the invite
   * secret may have changed: an admin's ban that this device missed). A member answering with
   * a group of its own making, with itself as admin, is refused (the Welcome is ignored; the
   * genuine one may still come).
   */
  #continues(): (session: GroupSession) => boolean {
    const before = this.#room.session?.policy();
    const same = (a: readonly Uint8Array[], b: readonly Uint8Array[]) => a.length === b.length && a.every((x) => b.some((y) => bytesEqual(x, y)));
    return (session) => {
      const now = session.policy();
      if (before === undefined) return now === undefined;
      return now !== undefined && same(now.admins, before.admins);
    };
  }
}

/** Lexicographic order of two byte strings (-1, 0, 1). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) < (b[i] ?? 0) ? -1 : 1;
  return Math.sign(a.length - b.length);
}
