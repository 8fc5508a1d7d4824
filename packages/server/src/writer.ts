/**
 * Batched writes: what the relay sends to one socket during an event-loop turn is queued (a
 * reference to a shared WireFrame, no copy) and handed to the kernel once, at the end of the
 * turn (`setImmediate`), as one corked write — one `writev` system call for many frames instead
 * of one per frame. A fan-out of one message to 1,000 sockets thus costs 1,000 queue slots, and
 * a turn that carries 16 messages to each of them still costs only 1,000 system calls.
 *
 * OutQueue writes straight to the WebSocket's underlying socket, beside `ws`'s own writes. That
 * is safe because the frames are complete, unmasked, final binary frames (wireFrame.ts),
 * compression is never negotiated (so ws's sender never holds a queue of its own), and nothing
 * is written unless ws still has the socket OPEN: once ws has sent or answered a close frame, a
 * queued frame is dropped, never written after it. Anything ws writes itself (pings, pongs,
 * close frames) is a control frame, which RFC 6455 §5.4 allows between messages.
 */
import type { Socket } from 'node:net';
import type { WireFrame } from './wireFrame.js';

export interface Flushable {
  flush(): void;
}

/**
 * Runs `flush()` once, at the end of the current turn, for every queue marked in it; first the
 * ones marked `early` (work that queues frames of its own, such as the relay's presence counts,
 * so that those frames leave in the same turn).
 */
export class FlushScheduler {
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private early: Flushable[] = [];
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    if (this.early.length > 0) {
      const early = this.early;
      this.early = [];
      for (const e of early) e.flush();
    }
    const list = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < list.length; i++) (list[i] as Flushable).flush();
    list.length = 0;
    this.spare = list;
  };

  mark(q: Flushable): void {
    this.dirty.push(q);
    this.schedule();
  }

  /** Like `mark`, but flushed before every queue marked with `mark`. */
  markEarly(q: Flushable): void {
    this.early.push(q);
    this.schedule();
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  /** Flushes everything marked now (server shutdown, tests). */
  flushNow(): void {
    if (this.scheduled) this.run();
  }
}

/** A socket that carried more frames than this in a turn is busy: it keeps its array. */
const KEEP_MORE_AFTER = 8;

/**
 * The outgoing queue of one socket: the turn's first frame in a slot, more in an array whose
 * slots are reused while the socket stays busy (no allocation per frame once warm) and which is
 * let go after a turn of a few frames (an idle connection holds no array).
 *
 * The queue is four fields of its owner (the connection), worked on by the functions below,
 * rather than an object of its own: the relay's memory is mostly idle connections, and an object
 * per connection costs its header and the pointer to it.
 */
export interface OutQueue {
  outFirst: WireFrame | undefined;
  outMore: (WireFrame | undefined)[] | undefined;
  outCount: number;
  /** Bytes queued here, not yet handed to the socket. */
  outBytes: number;
}

/** Queues `frame`; true if it is the first of the turn (the owner then asks the scheduler for a flush). */
export function enqueue(q: OutQueue, frame: WireFrame): boolean {
  const first = q.outCount === 0;
  if (first) q.outFirst = frame;
  else (q.outMore ??= [])[q.outCount - 1] = frame;
  q.outCount += 1;
  q.outBytes += frame.length;
  return first;
}

/**
 * Hands what is queued to `socket` as one corked write, if `open` (ws still has the socket OPEN:
 * nothing may follow a close frame), then empties the queue.
 */
export function writeQueue(q: OutQueue, socket: Socket, open: boolean): void {
  const n = q.outCount;
  if (n === 0) return;
  if (open && socket.writable) {
    if (n === 1) socket.write(q.outFirst as WireFrame);
    else {
      const more = q.outMore as WireFrame[];
      socket.cork();
      socket.write(q.outFirst as WireFrame);
      for (let i = 0; i < n - 1; i++) socket.write(more[i] as WireFrame);
      socket.uncork();
    }
  }
  discardQueue(q);
}

/** Forgets what is queued (the socket is closing: nothing may follow its close frame). */
export function discardQueue(q: OutQueue): void {
  const n = q.outCount;
  q.outFirst = undefined;
  if (q.outMore) {
    if (n <= KEEP_MORE_AFTER) q.outMore = undefined;
    else q.outMore.fill(undefined, 0, n - 1);
  }
  q.outCount = 0;
  q.outBytes = 0;
}
