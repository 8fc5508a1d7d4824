/**
 * The batching writer: frames queued during a turn reach the socket at the end of it, in
 * order, as one corked write (one writev); the same buffer object that was queued, not a copy;
 * nothing is written once ws no longer has the socket OPEN (after a close frame).
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { wireFrameOf, type WireFrame } from './wireFrame.js';
import { discardQueue, enqueue, FlushScheduler, writeQueue, type Flushable, type OutQueue } from './writer.js';

/** A socket that records what it is handed and how. */
class FakeSocket {
  readonly log: string[] = [];
  readonly written: Buffer[] = [];
  readonly writable = true;
  readonly writableLength = 0;
  cork(): void {
    this.log.push('cork');
  }
  uncork(): void {
    this.log.push('uncork');
  }
  write(chunk: Buffer): boolean {
    this.log.push('write');
    this.written.push(chunk);
    return true;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const frame = (n: number): WireFrame => wireFrameOf({ v: 1, t: 'ack', id: String(n).padStart(22, 'A') });

/** A queue as a connection holds it (its own fields) and pushes to it (marking it for the turn's end). */
function queue(state = { readyState: 1 }): {
  socket: FakeSocket;
  q: OutQueue & Flushable;
  push: (f: WireFrame) => void;
  scheduler: FlushScheduler;
  flushes: number[];
} {
  const socket = new FakeSocket();
  const scheduler = new FlushScheduler();
  const flushes: number[] = [];
  const q: OutQueue & Flushable = {
    outFirst: undefined,
    outMore: undefined,
    outCount: 0,
    outBytes: 0,
    flush: () => {
      flushes.push(1);
      writeQueue(q, socket as unknown as Socket, state.readyState === 1);
    },
  };
  const push = (f: WireFrame): void => {
    if (enqueue(q, f)) scheduler.mark(q);
  };
  return { socket, q, push, scheduler, flushes };
}

describe('batching writer', () => {
  it('one corked write per turn, in order, the very buffers queued', async () => {
    const { socket, q, push, flushes } = queue();
    const frames = [frame(1), frame(2), frame(3)];
    for (const f of frames) push(f);
    expect(socket.written).toHaveLength(0); // nothing before the end of the turn
    expect(q.outBytes).toBe(frames.reduce((a, f) => a + f.length, 0));
    await nextTurn();
    expect(flushes).toHaveLength(1);
    expect(socket.log).toEqual(['cork', 'write', 'write', 'write', 'uncork']);
    socket.written.forEach((w, i) => expect(w).toBe(frames[i]));
    expect(q.outBytes).toBe(0);
  });

  it('a single frame is written without corking; an empty turn writes nothing', async () => {
    const { socket, push } = queue();
    push(frame(1));
    await nextTurn();
    await nextTurn();
    expect(socket.log).toEqual(['write']);
  });

  it('nothing is written once the socket is no longer OPEN (a close frame went first)', async () => {
    const state = { readyState: 1 };
    const { socket, q, push } = queue(state);
    push(frame(1));
    state.readyState = 2; // CLOSING
    await nextTurn();
    expect(socket.written).toHaveLength(0);
    expect(q.outBytes).toBe(0);
  });

  it('discard forgets what is queued; later pushes are flushed in a later turn', async () => {
    const { socket, q, push } = queue();
    push(frame(1));
    discardQueue(q);
    await nextTurn();
    expect(socket.written).toHaveLength(0);
    const f = frame(2);
    push(f);
    await nextTurn();
    expect(socket.written).toEqual([f]);
  });

  it('the scheduler runs once per turn for many queues; flushNow runs it at once', async () => {
    const a = queue();
    const b = queue();
    a.push(frame(1));
    b.push(frame(2));
    a.push(frame(3));
    await nextTurn();
    expect(a.socket.written).toHaveLength(2);
    expect(b.socket.written).toHaveLength(1);
    a.push(frame(4));
    a.scheduler.flushNow();
    expect(a.socket.written).toHaveLength(3);
  });
});
