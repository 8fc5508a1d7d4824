/**
 * One room as the relay sees it: a random id, the connections subscribed to it, the MLS epoch
 * it has learnt, the last few accepted commit ids and the join requests waiting for a Welcome.
 * No names, no keys, no messages: soft state that a restart loses and clients rebuild.
 */
import type { Connection } from './connection.js';
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
  | { kind: 'accepted'; seq: number }
  | { kind: 'duplicate' }
  | { kind: 'stale'; epoch: number };

export class Room {
  /** The epoch a commit must be for; the highest any subscriber reported, or one past the last commit. */
  epoch = 0;
  /** Per-room frame counter sent with every `msg`: a hint for gap detection, not trusted. */
  private seq = 0;
  readonly subscribers = new Set<Connection>();
  /** The subscriber count members last heard (`presence`), and the lowest and highest since. */
  private presenceSent = 0;
  private presenceLow = 0;
  private presencePeak = 0;
  /** Join requests waiting for a Welcome, by join id; made at the first (most rooms have none most of the time). */
  private joins: Map<string, PendingJoin> | undefined;
  /** Accepted commit ids, oldest first, at most `recentCommitsKept` of them; made at the first commit. */
  private recentCommits: string[] | undefined;

  constructor(
    readonly id: string,
    private readonly recentCommitsKept: number,
  ) {}

  /** A subscriber reports its epoch: the room learns the highest (a restarted relay relearns it). */
  learnEpoch(epoch: number): void {
    if (epoch > this.epoch) this.epoch = epoch;
  }

  /**
   * RFC 9420 §14: the delivery service orders commits, the first for an epoch wins. A commit for
   * `epoch ≥ room epoch` is accepted and moves the room to `epoch + 1`; an id accepted before is
   * a resend and is acked again; anything older is stale.
   */
  decideCommit(id: string, epoch: number): CommitDecision {
    if (this.recentCommits?.includes(id)) return { kind: 'duplicate' };
    if (epoch < this.epoch) return { kind: 'stale', epoch: this.epoch };
    this.epoch = epoch + 1;
    const recent = (this.recentCommits ??= []);
    recent.push(id);
    if (recent.length > this.recentCommitsKept) recent.shift();
    return { kind: 'accepted', seq: this.nextSeq() };
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
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

  isEmpty(): boolean {
    return this.subscribers.size === 0 && this.joins === undefined;
  }

  /** Forgets everything it holds (timers included). */
  wipe(): void {
    for (const p of this.pendingJoins()) clearTimeout(p.timer);
    this.joins = undefined;
    this.subscribers.clear();
    this.recentCommits = undefined;
  }
}
