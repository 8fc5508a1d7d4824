/**
 * The in-memory engine (engine.ts), the default: one relay, its rooms in its own memory, every
 * decision taken at once. Nothing to load, nobody else to tell.
 */
import type { Cohort, Room } from '../room.js';
import type { CommitEvent, CommitOutcome, Engine, EngineHost, JoinEvent } from './engine.js';

export class MemoryEngine implements Engine {
  readonly clustered = false;
  readonly spread = undefined;
  readonly accepts = undefined;
  private host!: EngineHost;

  start(host: EngineHost): Promise<void> {
    this.host = host;
    return Promise.resolve();
  }

  follow(): undefined {
    return undefined;
  }

  unfollow(): void {}

  open(room: Room, epoch: number, key: string, refused: string | undefined, prunable: readonly Cohort[], max: number): number | 'E_ROOM_LIMIT' {
    if (room.cohorts.length >= max) for (const c of prunable) this.host.applyDrop(room, c.cid);
    if (room.cohorts.length >= max) return 'E_ROOM_LIMIT';
    const cid = room.nextCid++;
    this.host.applyOpen(room, cid, epoch, key, refused);
    return cid;
  }

  /** RFC 9420 §14: the first commit for the current epoch wins; an id accepted before is a resend. */
  commit(room: Room, cohort: Cohort, ev: CommitEvent): CommitOutcome {
    const decision = cohort.decideCommit(ev.id, ev.epoch);
    if (decision.kind === 'accept') this.host.applyCommit(room, cohort.cid, ev);
    return decision;
  }

  drop(room: Room, cohorts: readonly Cohort[]): void {
    for (const c of cohorts) this.host.applyDrop(room, c.cid);
  }

  join(room: Room, ev: JoinEvent): 'E_FORBIDDEN' | undefined {
    const existing = room.pendingJoin(ev.id);
    if (existing && existing.session !== ev.session) return 'E_FORBIDDEN';
    this.host.applyJoin(room, ev);
    return undefined;
  }

  unjoin(room: Room, id: string): void {
    this.host.applyUnjoin(room, id, this.host.id);
  }

  welcome(): void {
    // One relay: every joiner is on it (relay.ts delivers those itself).
  }

  counts(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
