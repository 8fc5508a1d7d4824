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

/** Runs `flush()` once, at the end of the current turn, for every queue marked in it. */
export class FlushScheduler {
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    const list = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < list.length; i++) (list[i] as Flushable).flush();
    list.length = 0;
    this.spare = list;
  };

  mark(q: Flushable): void {
    this.dirty.push(q);
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

/** WebSocket.OPEN */
const OPEN = 1;

/** The outgoing queue of one socket: the turn's first frame in a slot, more in an array whose
 *  slots are reused while the socket stays busy (no allocation per frame once warm) and which is
 *  let go after a turn of a few frames (an idle connection holds no array). */
export class OutQueue {
  private first: WireFrame | undefined;
  private more: (WireFrame | undefined)[] | undefined;
  private count = 0;
  /** Bytes queued here, not yet handed to the socket. */
  bytes = 0;

  constructor(
    private readonly socket: Socket,
    private readonly ws: { readonly readyState: number },
    private readonly scheduler: FlushScheduler,
    /** Who the scheduler calls at the end of the turn (it flushes this queue, then judges the socket). */
    private readonly owner: Flushable,
  ) {}

  push(frame: WireFrame): void {
    if (this.count === 0) {
      this.scheduler.mark(this.owner);
      this.first = frame;
    } else (this.more ??= [])[this.count - 1] = frame;
    this.count += 1;
    this.bytes += frame.length;
  }

  /** Bytes queued here and in the socket's own buffer (what the kernel has not taken yet). */
  get pending(): number {
    return this.bytes + this.socket.writableLength;
  }

  /** Bytes the kernel refused so far: what a slow reader makes us hold once this queue is flushed. */
  get refused(): number {
    return this.socket.writableLength;
  }

  flush(): void {
    const n = this.count;
    if (n === 0) return;
    const s = this.socket;
    if (this.ws.readyState === OPEN && s.writable) {
      if (n === 1) s.write(this.first as WireFrame);
      else {
        const more = this.more as WireFrame[];
        s.cork();
        s.write(this.first as WireFrame);
        for (let i = 0; i < n - 1; i++) s.write(more[i] as WireFrame);
        s.uncork();
      }
    }
    this.discard();
  }

  /** Forgets what is queued (the socket is closing: nothing may follow its close frame). */
  discard(): void {
    const n = this.count;
    this.first = undefined;
    if (this.more) {
      if (n <= KEEP_MORE_AFTER) this.more = undefined;
      else this.more.fill(undefined, 0, n - 1);
    }
    this.count = 0;
    this.bytes = 0;
  }
}
