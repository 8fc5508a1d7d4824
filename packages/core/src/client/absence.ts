/**
 * A room's part in the absence rule (docs/protocol.md "Absent members"): signs of life when
 * this device has sent nothing for `aliveEveryMs`, and, every few seconds, the members absent
 * for the whole grace handed to the committer (liveness.ts decides who and in what order).
 * Also what a removal for absence means here: a dispute when this device heard the removed
 * member lately, and the members removed so lately, whom an admin may still kick or ban.
 */
import type { GroupSession, Member } from '../e2ee/api.js';
import { pubHeader } from '../protocol/frames.js';
import { randomId, toBase64Url } from '../protocol/ids.js';
import type { RoomContext } from './context.js';
import { formatDuration } from './duration.js';
import { encodeAppPayload } from './envelope.js';
import { Liveness } from './liveness.js';

/** What the absence rule needs of its room. */
export interface AbsenceHost {
  readonly ctx: RoomContext;
  readonly id: string;
  readonly roomName: string;
  readonly session: GroupSession | undefined;
  /** A member, and not waiting to be re-admitted. */
  active(): boolean;
  others(): Member[];
  enqueue(job: () => Promise<void>): Promise<void>;
  /** Commits the removal of these members, marked as for absence (commits.ts). */
  removeAbsent(members: readonly Member[]): void;
}

/** Members removed as absent, remembered for an admin's kick or ban (the latest of them). */
const KEPT_REMOVED = 64;

export class Absence {
  readonly #host: AbsenceHost;
  readonly #liveness: Liveness;
  #lastSent: number;
  #timer: { cancel(): void } | undefined;
  #stopped = false;
  /** Subscribers of this room the relay counts in other cohorts (after a restart, or a fork). */
  #othersElsewhere = 0;
  /** Members removed as absent, by fingerprint (base64url), not back since; `reserve`: its name is held until `at + nameHeldMs`. */
  readonly #removed = new Map<string, { member: Member; at: number; reserve: boolean }>();

  constructor(host: AbsenceHost) {
    this.#host = host;
    const now = host.ctx.clock.now();
    this.#liveness = new Liveness(now);
    this.#lastSent = now;
  }

  /** This device entered the room (or again): everyone gets a whole grace; the ticks start. */
  start(): void {
    this.listening();
    if (this.#timer || this.#stopped) return;
    const { ctx } = this.#host;
    const { aliveEveryMs, absentAfterMs } = ctx.timing;
    const tick = Math.max(20, Math.min(5_000, aliveEveryMs / 2, absentAfterMs / 4));
    const loop = (): void => {
      this.#timer = ctx.clock.setTimeout(() => {
        if (this.#stopped) return;
        loop();
        void this.#host.enqueue(() => this.#tick());
      }, tick);
    };
    loop();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** This device (re)connected: nobody's silence before now counts. */
  listening(): void {
    this.#liveness.listening(this.#host.ctx.clock.now());
  }

  heard(m: Member): void {
    this.#liveness.heard(m, this.#host.ctx.clock.now());
  }

  /** This device published something the others will hear (no sign of life needed for a while). */
  sent(): void {
    this.#lastSent = this.#host.ctx.clock.now();
  }

  /** The relay's count of subscribers in other cohorts. */
  othersElsewhere(n: number): void {
    this.#othersElsewhere = n;
  }

  /** Whether `m` is (still) absent: a removal for absence is dropped if it was heard from meanwhile. */
  isAbsent(m: Member): boolean {
    return this.#host.ctx.clock.now() - this.#liveness.lastHeard(m) >= this.#host.ctx.timing.absentAfterMs;
  }

  /** Members removed as absent lately (not back since). */
  removedLately(): readonly Member[] {
    return [...this.#removed.values()].map((r) => r.member);
  }

  /** Members removed as absent in the last minutes: their names are held for them. */
  reservedNames(): readonly Member[] {
    const now = this.#host.ctx.clock.now();
    return [...this.#removed.values()].filter((r) => r.reserve && now - r.at < this.#host.ctx.timing.nameHeldMs).map((r) => r.member);
  }

  /**
   * Another member's removal for absence of members this device heard from within half the
   * grace: the remover did not (a network fault, a relay dropping their signs of life) or it is
   * abusing the rule. Applied all the same (every member applies it alike; the removed, if
   * online, come back at once), and said here.
   */
  disputed(removed: readonly Member[], by: string | undefined): void {
    const { ctx, roomName, id } = this.#host;
    const now = ctx.clock.now();
    for (const m of removed) {
      const ago = now - this.#liveness.lastHeard(m);
      if (ago < ctx.timing.absentAfterMs / 2)
        ctx.emit({ type: 'info', message: `${by ?? 'a member'} removed ${m.name} from ${roomName} as absent, but this device heard from ${m.name} ${formatDuration(ago)} ago; if ${m.name} is online it will be re-admitted`, room: id });
    }
  }

  /** A change of membership: newcomers were just heard from; those removed as absent are remembered. */
  membersChanged(added: readonly Member[], removedAsAbsent: readonly Member[], { reserve = true } = {}): void {
    for (const m of added) {
      this.heard(m);
      this.#removed.delete(toBase64Url(m.fingerprint));
    }
    const at = this.#host.ctx.clock.now();
    for (const m of removedAsAbsent) {
      this.#removed.set(toBase64Url(m.fingerprint), { member: m, at, reserve });
      for (const k of this.#removed.keys()) if (this.#removed.size > KEPT_REMOVED) this.#removed.delete(k);
    }
  }

  async #tick(): Promise<void> {
    const host = this.#host;
    const session = host.session;
    if (!session || !host.active()) return;
    const { ctx } = host;
    const now = ctx.clock.now();
    // Not connected: this device hears nobody, so nobody's silence counts meanwhile.
    if (ctx.nonce() === undefined) return this.#liveness.listening(now);
    const { aliveEveryMs, absentAfterMs, rankDelayMs } = ctx.timing;
    if (now - this.#lastSent >= aliveEveryMs && host.others().length > 0 && session.pendingProposals() === 0) {
      this.#lastSent = now;
      const body = await session.encrypt(encodeAppPayload({ t: 'alive' }), { room: host.id, id: randomId() });
      ctx.outbox.add({ header: pubHeader({ room: host.id, id: randomId(), kind: 'alive', epoch: session.epoch() }), body });
    }
    // Members subscribed in another cohort (catching up after a relay restart, or split off),
    // or nobody heard at all for half the grace: this device may be the one cut off (or the
    // relay passes nothing on), so silence says nothing yet.
    if (this.#othersElsewhere > 0 || !this.#liveness.hearsAnyone(now, absentAfterMs / 2)) return this.#liveness.listening(now);
    const members = session.members();
    this.#liveness.prune(members);
    // The first member in leaf order among those heard from removes the absent; the next ones
    // only if that commit did not come `rankDelayMs` later each.
    const { absent, rank } = this.#liveness.absent(members, session.myLeaf(), now, absentAfterMs);
    if (absent.length === 0) return;
    const mine = this.#liveness.absent(members, session.myLeaf(), now, absentAfterMs + rankDelayMs * rank).absent;
    // At most as many as remain, and never this device alone (every member refuses more).
    const most = Math.min(Math.floor(members.length / 2), members.length - 2);
    if (mine.length > 0 && most > 0) host.removeAbsent(mine.slice(0, most));
  }
}
