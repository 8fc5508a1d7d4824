/**
 * Every frame the client publishes stays here until the relay acks it (docs/protocol.md,
 * "Delivery guarantees"):
 *   - after a reconnect, every frame not yet acked is sent again, in the order it was first queued;
 *   - when the relay restarted (its `hello` carried a new instance id), application messages
 *     acked in the last 60 s are sent again too: the old relay may have died before fanning them
 *     out to everyone. Receivers dedup by message id, so nothing shows twice;
 *   - a `nack` removes the frame and reports it to its owner (for a commit refused with
 *     E_STALE_EPOCH, the room discards the pending commit and retries if still needed).
 * The outbox owns the encoded bodies it keeps; callers must not mutate them after `add`.
 *
 * Bounded (bounds.ts): at most `frames` messages and Welcomes wait for an ack, `welcomes` of
 * them Welcomes; `add` refuses one more (returns false, and `onFull` says so). Commits, leave
 * proposals and join requests are always taken: a room has at most one of each waiting. At most
 * `recent` acked messages are kept for a resend after a relay restart (the oldest go first: the
 * relay acked them, so only that resend is lost).
 */
import type { ErrorCode } from '../protocol/errors.js';
import type { ClientHeader } from '../protocol/frames.js';
import { BOUNDS } from './bounds.js';
import type { Clock } from './clock.js';

export type OutboundHeader = Extract<ClientHeader, { t: 'pub' } | { t: 'join' } | { t: 'welcome' }>;

export type OutboxEntry = {
  header: OutboundHeader;
  body: Uint8Array;
  onAck?: () => void;
  onNack?: (code: ErrorCode, epoch?: number) => void;
};

type Kept = OutboxEntry & { queuedAt: number; seq: number };

export type OutboxOptions = {
  clock: Clock;
  /** Sends a frame now if connected; returns false if it could not. */
  send(header: OutboundHeader, body: Uint8Array): boolean;
  /** How long an acked application message is kept for a resend after a relay restart. */
  restartWindowMs?: number;
  /** Bounds (defaults: bounds.ts). */
  limits?: { frames?: number; welcomes?: number; recent?: number };
  /** A frame was refused at a bound (`add` returned false). */
  onFull?(header: OutboundHeader, bound: 'outboxFrames' | 'outboxWelcomes'): void;
};

/** Frames that count against the bound: a peer or the user can multiply them. */
function bounded(h: OutboundHeader): 'message' | 'welcome' | undefined {
  if (h.t === 'welcome') return 'welcome';
  if (h.t === 'pub' && h.kind !== 'commit' && h.kind !== 'proposal') return 'message';
  return undefined;
}

export const RESTART_WINDOW_MS = 60_000;

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #pending = new Map<string, Kept>();
  /** Acked application messages, oldest first, kept for `restartWindowMs`. */
  #recent: Kept[] = [];
  #waiters: Array<() => void> = [];
  #seq = 0;
  /** Pending frames that count against the bounds: all of them, and Welcomes. */
  #counted = 0;
  #welcomes = 0;
  readonly #max: { frames: number; welcomes: number; recent: number };

  constructor(options: OutboxOptions) {
    this.#o = options;
    const l = options.limits ?? {};
    this.#max = { frames: l.frames ?? BOUNDS.outboxFrames, welcomes: l.welcomes ?? BOUNDS.outboxWelcomes, recent: l.recent ?? BOUNDS.recentResend };
    for (const [k, v] of Object.entries(this.#max))
      if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`"limits.${k}" expected a positive integer, got ${String(v)}`);
  }

  /** Whether a frame of this kind would be taken now (a message: `pub` of an application kind). */
  hasRoomFor(kind: 'message' | 'welcome'): boolean {
    return this.#counted < this.#max.frames && (kind !== 'welcome' || this.#welcomes < this.#max.welcomes);
  }

  #put(id: string, e: Kept): void {
    this.#pending.set(id, e);
    const b = bounded(e.header);
    if (b !== undefined) this.#counted++;
    if (b === 'welcome') this.#welcomes++;
  }

  #take(id: string): Kept | undefined {
    const e = this.#pending.get(id);
    if (e === undefined) return undefined;
    this.#pending.delete(id);
    const b = bounded(e.header);
    if (b !== undefined) this.#counted--;
    if (b === 'welcome') this.#welcomes--;
    return e;
  }

  get size(): number {
    return this.#pending.size;
  }

  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /**
   * Queues a frame and sends it at once if connected. A frame whose id is already queued is
   * ignored (true). False: refused at a bound (not queued, not sent; `onFull` was told).
   */
  add(entry: OutboxEntry): boolean {
    const id = entry.header.id;
    if (this.#pending.has(id)) return true;
    const b = bounded(entry.header);
    if (b !== undefined && !this.hasRoomFor(b)) {
      this.#o.onFull?.(entry.header, b === 'welcome' && this.#counted < this.#max.frames ? 'outboxWelcomes' : 'outboxFrames');
      return false;
    }
    this.#put(id, { ...entry, queuedAt: this.#o.clock.now(), seq: ++this.#seq });
    this.#o.send(entry.header, entry.body);
    return true;
  }

  /** The relay accepted frame `id`. Returns false for an id we do not hold (a late duplicate ack). */
  ack(id: string): boolean {
    const e = this.#take(id);
    if (!e) return false;
    if (e.header.t === 'pub' && e.header.kind === 'app') {
      this.#prune();
      this.#recent.push(e);
      if (this.#recent.length > this.#max.recent) this.#recent.shift();
    }
    e.onAck?.();
    this.#wake();
    return true;
  }

  /** The relay refused frame `id`. */
  nack(id: string, code: ErrorCode, epoch?: number): boolean {
    const e = this.#take(id);
    if (!e) return false;
    e.onNack?.(code, epoch);
    this.#wake();
    return true;
  }

  /** After a (re)connect: sends everything not acked; after a relay restart, also recent app messages. */
  resend(restarted: boolean): void {
    this.#prune();
    if (restarted) {
      // Room for them: they were acked, so they are a best effort on top of the bound's frames.
      for (const e of this.#recent) if (!this.#pending.has(e.header.id) && this.hasRoomFor('message')) this.#put(e.header.id, e);
      this.#recent = [];
    }
    const all = [...this.#pending.values()].sort((a, b) => a.seq - b.seq);
    for (const e of all) if (!this.#o.send(e.header, e.body)) break;
  }

  /**
   * Sends again, once, the application messages for `room` acked in the last `restartWindowMs`.
   * Called when the room's presence grows: someone came (back) and may have missed them. After a
   * relay restart, members reconnect one by one (jittered backoff): what we resent when we came
   * back reached only those already back. In a cluster, members whose relay died come back
   * through another one while the rest of the room, on live relays, saw no restart at all.
   */
  resendRecent(room: string): void {
    this.#prune();
    const again = this.#recent.filter((e) => e.header.room === room && !this.#pending.has(e.header.id));
    this.#recent = this.#recent.filter((e) => e.header.room !== room);
    for (const e of again) {
      if (!this.hasRoomFor('message')) break;
      this.#put(e.header.id, e);
      this.#o.send(e.header, e.body);
    }
  }

  /** Drops every frame for `room` (the room is gone: nothing left to deliver to it). */
  forgetRoom(room: string): void {
    for (const [id, e] of this.#pending) if (e.header.room === room) this.#take(id);
    this.#recent = this.#recent.filter((e) => e.header.room !== room);
    this.#wake();
  }

  /** Resolves true once nothing is waiting for an ack, false if `timeoutMs` passes first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#pending.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let done = false;
      const timer = this.#o.clock.setTimeout(() => {
        if (done) return;
        done = true;
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = () => {
        if (done) return;
        done = true;
        timer.cancel();
        resolve(true);
      };
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    if (this.#pending.size !== 0) return;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  #prune(): void {
    const cutoff = this.#o.clock.now() - (this.#o.restartWindowMs ?? RESTART_WINDOW_MS);
    while (this.#recent.length > 0 && (this.#recent[0]?.queuedAt ?? 0) < cutoff) this.#recent.shift();
  }
}
