/**
 * One room as the relay sees it: a random id, the join requests waiting for a Welcome, and its
 * cohorts. A cohort is the set of connections that proved the same epoch and relay key
 * (docs/protocol.md "Membership authority"); a room normally has one. Rival claims (after a
 * relay restart, when the relay has no key to check a claim against, or a removed member with
 * its old state) each get a cohort of their own: nobody can push honest members out of theirs.
 * No names, no keys of members, no messages: soft state that a restart loses and clients rebuild.
 */
import type { Connection } from './connection.js';
import type { EpochKey } from './auth.js';
import type { WireFrame } from './wireFrame.js';

export type PendingJoin = {
  readonly id: string;
  readonly room: Room;
  readonly owner: Connection;
  /** The encoded relay `join` frame (header and request), made once and sent to every member. */
  readonly frame: WireFrame;
  readonly timer: NodeJS.Timeout;
};

export type CommitDecision =
  | { kind: 'accept' }
  | { kind: 'duplicate' }
  | { kind: 'stale'; epoch: number };

/** An accepted commit, kept so that a member that was away can catch up. */
type LogEntry = {
  /** The epoch the commit was for, and the relay key of that epoch. */
  readonly epoch: number;
  readonly key: string;
  /** The commit's id (a fork names the commit its members refused). */
  readonly id: string;
  /** The proposals published in its epoch before it (it may commit them by reference): a
   *  member catching up gets them first, or it could not process the commit. */
  readonly proposals: readonly WireFrame[];
  /** The `msg` frame every subscriber got. */
  readonly frame: WireFrame;
};

/** What a subscriber still owes after a commit: a proof of epoch `need` or later, by `until`. */
type Owed = { need: number; until: number };

export type LogLimits = { entries: number; bytes: number };

export class Cohort {
  /** The current epoch, and its relay key (the only key a commit or `sub` is checked against). */
  epoch: number;
  key: EpochKey;
  readonly subscribers = new Set<Connection>();
  /** Subscribers that have not yet proven the current epoch (after a commit); made at the first commit. */
  owed: Map<Connection, Owed> | undefined;
  /** For a fork: the id of the commit its members refused (docs/protocol.md "Room policy"). */
  refused: string | undefined;
  /** The most subscribers it has had at once: a cohort nobody shared keeps no log once empty. */
  peak = 0;
  /**
   * Connections being brought up to date from the log (not subscribed yet): what the cohort fans
   * out meanwhile is kept for them (bounded), and given to them once they prove the current
   * epoch. One that never does (a removed member) gets nothing. Made at the first catch-up.
   */
  catching: Map<Connection, { frames: WireFrame[]; until: number }> | undefined;
  /** When the cohort was last left empty (for `emptyRoomKeepMs`). */
  emptySince = 0;
  /** Per-cohort frame counter sent with every `msg`: a hint for gap detection, not trusted. */
  private seq = 0;
  /** The subscriber count members last heard (`presence`), and the lowest and highest since. */
  private presenceSent = 0;
  private presenceLow = 0;
  private presencePeak = 0;
  /** Accepted commit ids, oldest first, at most `recentCommitsKept`; made at the first commit. */
  private recentCommits: string[] | undefined;
  /** Proposals (leaves) published in the current epoch, for members that subscribe later: a
   *  leave sent while no one else was online is not lost. Cleared by the next commit. */
  private proposals: WireFrame[] | undefined;
  /** Accepted commits, oldest first, within the log limits; made at the first commit. */
  private log: LogEntry[] | undefined;
  private logBytes = 0;

  constructor(
    readonly room: Room,
    epoch: number,
    key: EpochKey,
  ) {
    this.epoch = epoch;
    this.key = key;
  }

  get id(): string {
    return this.room.id;
  }

  /**
   * RFC 9420 §14: the delivery service orders commits. Exactly the current epoch is accepted: an
   * epoch the relay did not open itself can never be reached by a claim. An id accepted before
   * is a resend and is acked again.
   */
  decideCommit(id: string, epoch: number): CommitDecision {
    if (this.recentCommits?.includes(id)) return { kind: 'duplicate' };
    if (epoch !== this.epoch) return { kind: 'stale', epoch: this.epoch };
    return { kind: 'accept' };
  }

  /**
   * Records an accepted commit: the cohort moves to the next epoch and its announced key, every
   * subscriber now owes a proof of it within `graceMs`, and the commit is logged for those away.
   */
  accept(id: string, next: EpochKey, frame: WireFrame, recentKept: number, limits: LogLimits, now: number, graceMs: number): void {
    const recent = (this.recentCommits ??= []);
    recent.push(id);
    if (recent.length > recentKept) recent.shift();
    const proposals = this.proposals ?? [];
    this.proposals = undefined;
    const log = (this.log ??= []);
    log.push({ epoch: this.epoch, key: this.key.text, id, frame, proposals });
    this.logBytes += frame.length;
    for (const p of proposals) this.logBytes += p.length;
    while (log.length > limits.entries || (this.logBytes > limits.bytes && log.length > 1)) {
      const old = log.shift();
      if (old) this.logBytes -= old.frame.length + old.proposals.reduce((n, p) => n + p.length, 0);
    }
    this.epoch += 1;
    this.key = next;
    const owed = (this.owed ??= new Map());
    for (const sub of this.subscribers) if (!owed.has(sub)) owed.set(sub, { need: this.epoch, until: now + graceMs });
  }

  /** Keeps a proposal of the current epoch (at most `max`; later ones are only fanned out). */
  keepProposal(frame: WireFrame, max: number): void {
    const kept = (this.proposals ??= []);
    if (kept.length < max) kept.push(frame);
  }

  /** The proposals of the current epoch, for a new subscriber. */
  pendingProposals(): readonly WireFrame[] {
    return this.proposals ?? [];
  }

  /** The id of the commit logged for `epoch` under relay key `key`, if any. */
  loggedCommit(epoch: number, key: string): string | undefined {
    const at = this.logged(epoch, key);
    return at < 0 ? undefined : this.log?.[at]?.id;
  }

  /** Where the log holds the commit for `epoch` under relay key `key`, or -1. */
  logged(epoch: number, key: string): number {
    const log = this.log;
    if (!log) return -1;
    for (let i = 0; i < log.length; i++) if (log[i]?.epoch === epoch && log[i]?.key === key) return i;
    return -1;
  }

  /** The logged commits from index `from` on, in order, each after the proposals of its epoch. */
  logFrom(from: number): WireFrame[] {
    return (this.log ?? []).slice(from).flatMap((e) => [...e.proposals, e.frame]);
  }

  /**
   * `conn` proved epoch `epoch` (current, or a logged one while it works through the commits
   * it was sent): it owes nothing once it proved the current one, and gets a new grace for each
   * epoch it moves on.
   */
  proved(conn: Connection, epoch: number, now: number, graceMs: number): void {
    const owed = this.owed?.get(conn);
    if (!owed) return;
    if (epoch >= this.epoch) this.owed?.delete(conn);
    else if (epoch >= owed.need) this.owed?.set(conn, { need: epoch + 1, until: now + graceMs });
  }

  /** Subscribers whose grace ran out. */
  overdue(now: number): Connection[] {
    const out: Connection[] = [];
    if (this.owed) for (const [conn, o] of this.owed) if (o.until <= now) out.push(conn);
    return out;
  }

  /** The next time a grace runs out, if any. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    if (this.owed) for (const o of this.owed.values()) if (next === undefined || o.until < next) next = o.until;
    return next;
  }

  remove(conn: Connection, now: number): boolean {
    if (!this.subscribers.delete(conn)) return false;
    this.owed?.delete(conn);
    if (this.subscribers.size === 0) this.emptySince = now;
    return true;
  }

  /**
   * Starts keeping what is fanned out for `conn`, until `until`. One already catching up (it
   * proved an epoch on the way, and is sent the log again from there) keeps what was kept for
   * it so far, with the new deadline: what the room said since its first `sub` is not lost.
   */
  startCatching(conn: Connection, now: number, until: number): void {
    const k = this.catching?.get(conn);
    if (k && k.until > now) k.until = until;
    else (this.catching ??= new Map()).set(conn, { frames: [], until });
  }

  /** A frame fanned out now: kept for the connections catching up (at most `max` each; past
   *  that they lose the rest, as a member offline would). */
  keepForCatching(frame: WireFrame, now: number, max: number): void {
    const c = this.catching;
    if (!c) return;
    for (const [conn, k] of c) {
      if (k.until <= now) c.delete(conn);
      else if (k.frames.length < max) k.frames.push(frame);
    }
    if (c.size === 0) this.catching = undefined;
  }

  /** What was kept for `conn` while it caught up (it proved the current epoch), and forgets it. */
  caughtUp(conn: Connection, now: number): WireFrame[] {
    const k = this.catching?.get(conn);
    if (!k) return [];
    this.catching?.delete(conn);
    if (this.catching?.size === 0) this.catching = undefined;
    return k.until > now ? k.frames : [];
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  /** The subscribers changed; `firstThisTurn`: the first change since members were last told. */
  notePresence(firstThisTurn: boolean): void {
    const n = this.subscribers.size;
    this.presenceLow = firstThisTurn ? n : Math.min(this.presenceLow, n);
    this.presencePeak = firstThisTurn ? n : Math.max(this.presencePeak, n);
  }

  /**
   * The counts to tell members now, in order: a low and a high that changes since they were last
   * told hid (a join taken back by a leave, or the reverse), then the count. None if no one is left.
   */
  presenceToTell(): number[] {
    const count = this.subscribers.size;
    const heard = this.presenceSent;
    this.presenceSent = count;
    if (count === 0) return [];
    const out: number[] = [];
    if (this.presenceLow < heard && this.presenceLow < count) out.push(this.presenceLow);
    const above = out.length > 0 ? this.presenceLow : heard;
    if (this.presencePeak > above && this.presencePeak > count) out.push(this.presencePeak);
    out.push(count);
    return out;
  }

  /**
   * An empty cohort worth keeping: its log or a pending leave still matter to a returning member.
   * One nobody ever shared (a lone claim: anyone can make one) is not kept.
   */
  keepsLog(now: number, keepMs: number): boolean {
    return this.peak > 1 && (this.log !== undefined || this.proposals !== undefined) && now - this.emptySince < keepMs;
  }

  /** Log bytes held (the relay bounds their sum). */
  get logSize(): number {
    return this.logBytes;
  }

  wipe(): void {
    this.subscribers.clear();
    this.owed = undefined;
    this.catching = undefined;
    this.recentCommits = undefined;
    this.log = undefined;
    this.logBytes = 0;
    this.proposals = undefined;
  }
}

export class Room {
  /** Usually one; rival claims each have their own (see the file comment). */
  readonly cohorts: Cohort[] = [];
  /** Join requests waiting for a Welcome, by join id; made at the first (most rooms have none most of the time). */
  private joins: Map<string, PendingJoin> | undefined;

  constructor(readonly id: string) {}

  pendingJoin(id: string): PendingJoin | undefined {
    return this.joins?.get(id);
  }

  addPendingJoin(p: PendingJoin): void {
    (this.joins ??= new Map()).set(p.id, p);
  }

  /** Removes `p` if it is still the request waiting under its id. */
  deletePendingJoin(p: PendingJoin): void {
    if (this.joins?.get(p.id) !== p) return;
    this.joins.delete(p.id);
    if (this.joins.size === 0) this.joins = undefined;
  }

  pendingJoins(): Iterable<PendingJoin> {
    return this.joins?.values() ?? [];
  }

  get pendingJoinCount(): number {
    return this.joins?.size ?? 0;
  }

  get subscriberCount(): number {
    let n = 0;
    for (const c of this.cohorts) n += c.subscribers.size;
    return n;
  }

  /** Drops cohorts with no subscribers and no log worth keeping. */
  prune(now: number, keepMs: number): void {
    for (let i = this.cohorts.length - 1; i >= 0; i--) {
      const c = this.cohorts[i];
      if (c && c.subscribers.size === 0 && !c.keepsLog(now, keepMs)) {
        c.wipe();
        this.cohorts.splice(i, 1);
      }
    }
  }

  isEmpty(): boolean {
    return this.cohorts.length === 0 && this.joins === undefined;
  }

  /** Forgets everything it holds (timers included). */
  wipe(): void {
    for (const p of this.pendingJoins()) clearTimeout(p.timer);
    this.joins = undefined;
    for (const c of this.cohorts) c.wipe();
    this.cohorts.length = 0;
  }
}
