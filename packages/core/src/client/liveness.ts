/**
 * Who in a room was last heard from, and when (docs/protocol.md "Absent members").
 *
 * Every authenticated message, proposal or commit from a member counts; a member that has sent
 * nothing else for `aliveEveryMs` sends a sign of life (`alive`). Time counts only while this
 * device listens: after it (re)connects or enters the room, every member gets the whole grace
 * again, so a relay that was down (or this device's own network) never makes others absent.
 *
 * If nobody at all was heard from for half the grace, the silence is taken as the relay's (or
 * this device's), and the grace starts again: a relay that stays connected but passes nothing
 * on gets nobody removed.
 *
 * A member not heard from for `absentAfterMs` is absent. The member that removes the absent is
 * the first in leaf order among those heard from (so one commit, not one per member); if its
 * commit does not come, the next one acts `rankDelayMs` later, and so on. One commit removes at
 * most as many as remain, and never leaves its committer alone (group.ts `absenceAllowed`).
 */
import type { Member } from '../e2ee/api.js';
import { toBase64Url } from '../protocol/ids.js';

const keyOf = (m: Member): string => `${m.leaf}:${toBase64Url(m.fingerprint)}`;

export class Liveness {
  /** Last heard, by leaf and key (a leaf index is reused after a removal). */
  readonly #heard = new Map<string, number>();
  /** Since when this device has been listening without a break. */
  #since: number;
  /** When this device last heard from any other member. */
  #lastAny = -Infinity;

  constructor(now: number) {
    this.#since = now;
  }

  /** This device (re)connected or entered the room: nobody is absent before a whole grace from now. */
  listening(now: number): void {
    this.#since = now;
  }

  heard(m: Member, now: number): void {
    this.#heard.set(keyOf(m), now);
    this.#lastAny = now;
  }

  /**
   * Whether this device heard from anyone within `ms`: if not, the silence is more likely the
   * relay's (it stopped passing messages on) or this device's than everyone's.
   */
  hearsAnyone(now: number, ms: number): boolean {
    return now - Math.max(this.#lastAny, this.#since) < ms;
  }

  lastHeard(m: Member): number {
    return Math.max(this.#heard.get(keyOf(m)) ?? -Infinity, this.#since);
  }

  /** Forgets members no longer in the room. */
  prune(members: readonly Member[]): void {
    const live = new Set(members.map(keyOf));
    for (const k of this.#heard.keys()) if (!live.has(k)) this.#heard.delete(k);
  }

  /**
   * The members (other than `me`) absent at `now`, and this device's rank among the members who
   * are not (0: it acts first).
   */
  absent(members: readonly Member[], me: number, now: number, afterMs: number): { absent: Member[]; rank: number } {
    const absent = members.filter((m) => m.leaf !== me && now - this.lastHeard(m) >= afterMs);
    const gone = new Set(absent.map((m) => m.leaf));
    const present = members
      .map((m) => m.leaf)
      .filter((l) => !gone.has(l))
      .sort((a, b) => a - b);
    return { absent, rank: Math.max(0, present.indexOf(me)) };
  }
}
