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
  /** The connection that sent it, where it is on this relay; undefined for one on another relay of a cluster. */
  readonly owner: Connection | undefined;
  /** The relay (its instance id) the joiner is connected to: where its Welcome goes. */
  readonly relay: string;
  /** The joiner's `hello` session: only it may send the request again under this id. */
  readonly session: string;
  /** The encoded relay `join` frame (header and request), made once and sent to every member. */
  readonly frame: WireFrame;
  /** Its expiry, run by the joiner's relay only. */
  readonly timer: NodeJS.Timeout | undefined;
};

export type CommitDecision =
  | { kind: 'accept' }
  | { kind: 'duplicate' }
  | { kind: 'stale'; epoch: number };

/** An accepted commit, kept so that a member that was away can catch up. */
export type LogEntry = {
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
  /** The connections of this relay that proved the current epoch. */
  readonly subscribers = new Set<Connection>();
  /** Subscribers on the other relays of a cluster (the sum of their live counts; 0 alone). */
  remote = 0;
  /** Subscribers that have not yet proven the current epoch (after a commit); made at the first commit. */
  owed: Map<Connection, Owed> | undefined;
  /** For a fork: the id of the commit its members refused (docs/protocol.md "Room policy"). */
  refused: string | undefined;
  /** The most members it has had at once: a cohort nobody shared keeps no log once empty. */
  peak = 0;
  /**
   * Connections being brought up to date from the log (not subscribed yet): what the cohort fans
   * out meanwhile is kept for them (bounded), and given to them once they prove the current
   * epoch. One that never does (a removed member) gets nothing. Made at the first catch-up.
   */
  catching: Map<Connection, { frames: WireFrame[]; until: number }> | undefined;
  /** When the cohort was last left empty (for `emptyRoomKeepMs`). */
  emptySince = 0;
  /** Asked to be dropped (a cluster's engine answers later). */
  dropping = false;
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
    /** Numbers the cohort within its room; the same on every relay of a cluster (engine.ts). */
    readonly cid: number,
    epoch: number,
    key: EpochKey,
  ) {
    this.epoch = epoch;
    this.key = key;
  }

  get id(): string {
    return this.room.id;
  }

  /** Its members on every relay: what presence tells and what the room's line is judged by. */
  get members(): number {
    return this.subscribers.size + this.remote;
  }

  /** Its members changed: the peak, and when it was left empty. */
  counted(now: number): void {
    const n = this.members;
    if (n > this.peak) this.peak = n;
    if (n === 0) this.emptySince = now;
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

  /**
   * Keeps a proposal of the current epoch (at most `max`; later ones are only fanned out). One
   * for another epoch is not kept: no commit of this epoch can take it, and the relays of a
   * cluster then agree on what is kept whichever order a commit and a proposal cross in.
   */
  keepProposal(frame: WireFrame, epoch: number, max: number): void {
    if (epoch !== this.epoch) return;
    const kept = (this.proposals ??= []);
    if (kept.length < max) kept.push(frame);
  }

  /**
   * A cohort loaded from a cluster's shared state (engine.ts): its log, the commit ids accepted
   * lately, and the proposals of its current epoch, as the other relays hold them.
   */
  restore(log: LogEntry[], recent: string[], proposals: WireFrame[], limits: LogLimits, now: number): void {
    // Whether others shared it, and since when it is empty, this relay cannot know: it keeps the
    // log as for a shared cohort, for `emptyRoomKeepMs` from now (a stranger's sub here must not
    // make it drop the log kept for members away).
    this.peak = Math.max(this.peak, 2);
    this.emptySince = now;
    this.recentCommits = recent.length > 0 ? recent : undefined;
    this.proposals = proposals.length > 0 ? proposals : undefined;
    this.log = log.length > 0 ? log : undefined;
    this.logBytes = 0;
    for (const e of log) this.logBytes += e.frame.length + e.proposals.reduce((n, p) => n + p.length, 0);
    const kept = this.log;
    while (kept && (kept.length > limits.entries || (this.logBytes > limits.bytes && kept.length > 1))) {
      const old = kept.shift();
      if (old) this.logBytes -= old.frame.length + old.proposals.reduce((n, p) => n + p.length, 0);
    }
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
    this.counted(now);
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
    const n = this.members;
    this.presenceLow = firstThisTurn ? n : Math.min(this.presenceLow, n);
    this.presencePeak = firstThisTurn ? n : Math.max(this.presencePeak, n);
  }

  /**
   * The counts to tell members now, in order: a low and a high that changes since they were last
   * told hid (a join taken back by a leave, or the reverse), then the count. None if no one is left.
   */
  presenceToTell(): number[] {
    const count = this.members;
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
  /** The next cohort number (the in-memory engine's; a cluster's shared state numbers its own). */
  nextCid = 1;
  /** Whether the room's shared state is here (a cluster loads it when the room is first used: engine.ts). */
  ready = true;
  /** Its shared state is being loaded: frames that need it wait for this. */
  loading: Promise<void> | undefined;
  /** Changes this relay asked for on behalf of its connections (a join, a cohort) that the engine has not yet answered. */
  asked = 0;
  /** In a cluster: the room is idle here and will be let go (relay.ts `dropIfEmpty`). */
  lingering: NodeJS.Timeout | undefined;
  /** This relay's subscribers changed since it last told the other relays of a cluster. */
  countsDirty = false;
  /** In a cluster: each other relay's subscriber counts, by cohort number. */
  remoteCounts: Map<string, Map<number, number>> | undefined;
  /** Join requests waiting for a Welcome, by join id; made at the first (most rooms have none most of the time). */
  private joins: Map<string, PendingJoin> | undefined;

  constructor(readonly id: string) {}

  cohort(cid: number): Cohort | undefined {
    for (const c of this.cohorts) if (c.cid === cid) return c;
    return undefined;
  }

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

  /** Subscribers on this relay. */
  get subscriberCount(): number {
    let n = 0;
    for (const c of this.cohorts) n += c.subscribers.size;
    return n;
  }

  /** Members on every relay. */
  get memberCount(): number {
    let n = 0;
    for (const c of this.cohorts) n += c.members;
    return n;
  }

  /** Nothing of this relay's is in it: no subscriber, no join request, no one catching up. */
  idleHere(): boolean {
    for (const c of this.cohorts) if (c.subscribers.size > 0 || c.catching !== undefined) return false;
    for (const p of this.pendingJoins()) if (p.owner !== undefined) return false;
    return this.loading === undefined && this.asked === 0;
  }

  /** Drops cohorts with no members and no log worth keeping. */
  prune(now: number, keepMs: number): void {
    for (let i = this.cohorts.length - 1; i >= 0; i--) {
      const c = this.cohorts[i];
      if (c && c.members === 0 && !c.keepsLog(now, keepMs)) {
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
    this.remoteCounts = undefined;
    clearTimeout(this.lingering);
    this.lingering = undefined;
    for (const c of this.cohorts) c.wipe();
    this.cohorts.length = 0;
  }
}
