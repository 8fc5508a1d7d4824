/**
 * A `msg` copied from the pub's own bytes (wireFrame.ts `msgFromPub`) is byte for byte the `msg`
 * written from the pub's fields (the encoder the relay used before, still its path for any other
 * pub), and both are what core's `encodeFrame` makes of the same header: on 20,000 pubs built as
 * our clients build them, at every WebSocket length class. And `msgFrame` copies only from the
 * pub fastPub just matched, with the very same fields and body: anything else is written.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeFrame, LIMITS, PUB_KINDS, pubHeader, type PubKind, type RelayHeader } from '@safehouse/core/protocol';
import { fastPub, takeMatchedPub, type FastPub } from './fastPub.js';
import { ackFrame, msgFrame, msgFromPub, payloadOf, wireFrameOf, type WireFrame } from './wireFrame.js';

const MAX = LIMITS.maxFrameBytes;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const id = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 22, maxLength: 22 });
const uint = fc.oneof(
  fc.nat(1000),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
const FAST_KINDS = PUB_KINDS.filter((k): k is Exclude<PubKind, 'commit'> => k !== 'commit');
const fields = fc.record({
  room: id,
  id,
  kind: fc.constantFrom(...FAST_KINDS),
  epoch: uint,
  exp: fc.option(uint, { nil: undefined }),
});
/** Mostly small bodies; some long enough for the 16-bit length, up to the frame limit. */
const body = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 30 },
  { arbitrary: fc.integer({ min: 0, max: MAX - 200 }).map((n) => new Uint8Array(n).fill(n & 0xff)), weight: 1 },
);

type Fields = { room: string; id: string; kind: PubKind; epoch: number; exp: number | undefined };

/** A pub as our clients send it, matched by fastPub (which must take it). */
function matched(h: Fields, b: Uint8Array): { frame: Buffer; pub: FastPub } {
  const frame = Buffer.from(encodeFrame(pubHeader(h), b));
  const pub = fastPub(frame, MAX);
  if (!pub) throw new Error('fastPub refused a pub our clients send');
  return { frame, pub };
}

/** msgFromPub with the pub's own body, as msgFrame calls it. */
const copyOf = (pub: FastPub, seq: number): WireFrame => msgFromPub(pub, seq, pub.frame.subarray(pub.bodyStart));

/** The `msg` the relay sends for it, as core encodes it. */
function expected(h: Fields, seq: number, b: Uint8Array): WireFrame {
  const header: RelayHeader = {
    v: 1,
    t: 'msg',
    room: h.room,
    id: h.id,
    kind: h.kind,
    epoch: h.epoch,
    seq,
    ...(h.exp === undefined ? {} : { exp: h.exp }),
  };
  return wireFrameOf(header, b);
}

describe('msg copied from the pub', () => {
  it('is byte for byte the msg written from the fields, and what encodeFrame makes (20,000 pubs)', () => {
    fc.assert(
      fc.property(fields, uint, body, (h, seq, b) => {
        const { pub } = matched(h, b);
        const copied = copyOf(pub, seq);
        // A copy of the body elsewhere in memory: msgFrame must write this one from the fields.
        const written = msgFrame(h.room, h.id, h.kind, h.epoch, seq, h.exp, Uint8Array.from(b));
        expect(copied.equals(written)).toBe(true);
        expect(copied.equals(expected(h, seq, b))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('at the edges of the 7-bit and 16-bit WebSocket lengths', () => {
    const h: Fields = { room: 'R'.repeat(22), id: 'I'.repeat(22), kind: 'app', epoch: 0, exp: undefined };
    for (const seq of [0, 9, 10, 123_456, Number.MAX_SAFE_INTEGER]) {
      // The msg's payload is 2 + header + body: find the body lengths that put it at 125/126 and 65535/65536.
      const header = payloadOf(expected(h, seq, new Uint8Array(0))).length;
      for (const edge of [125, 126, 65_535, 65_536])
        for (const len of [edge - header - 1, edge - header, edge - header + 1]) {
          if (len < 0) continue;
          const b = new Uint8Array(len).fill(len & 0xff);
          expect(copyOf(matched(h, b).pub, seq).equals(expected(h, seq, b)), `seq ${seq}, body ${len}`).toBe(true);
        }
    }
  });

  it('leaves the pub it copies untouched', () => {
    const h: Fields = { room: 'R'.repeat(22), id: 'I'.repeat(22), kind: 'dm', epoch: 3, exp: 99 };
    const { frame, pub } = matched(h, new Uint8Array([1, 2, 3]));
    const before = Buffer.from(frame);
    copyOf(pub, 42);
    expect(frame.equals(before)).toBe(true);
  });
});

describe('msgFrame copies only from the pub just matched, with its own fields', () => {
  const h: Fields = { room: 'R'.repeat(22), id: 'I'.repeat(22), kind: 'app', epoch: 5, exp: undefined };

  it('copies (and forgets the pub) for the body and fields fastPub gave', () => {
    const { frame, pub } = matched(h, new Uint8Array([7, 7]));
    const b = frame.subarray(pub.bodyStart);
    expect(msgFrame(pub.room, pub.id, pub.kind, pub.epoch, 1, pub.exp, b).equals(expected(h, 1, b))).toBe(true);
    // Taken: asking again finds nothing.
    expect(takeMatchedPub(b, pub.room, pub.id, pub.kind, pub.epoch, pub.exp)).toBeNull();
  });

  it('writes from the fields when any field or the body differs, leaving the pub for its own msg', () => {
    const variants: [string, (p: FastPub, b: Buffer) => Parameters<typeof msgFrame>][] = [
      ['room', (p, b) => ['S'.repeat(22), p.id, p.kind, p.epoch, 1, p.exp, b]],
      ['id', (p, b) => [p.room, 'J'.repeat(22), p.kind, p.epoch, 1, p.exp, b]],
      ['kind', (p, b) => [p.room, p.id, 'proposal', p.epoch, 1, p.exp, b]],
      ['epoch', (p, b) => [p.room, p.id, p.kind, p.epoch + 1, 1, p.exp, b]],
      ['exp', (p, b) => [p.room, p.id, p.kind, p.epoch, 1, 5, b]],
      ['an equal body elsewhere', (p, b) => [p.room, p.id, p.kind, p.epoch, 1, p.exp, Buffer.from(b)]],
      ['part of the body', (p, b) => [p.room, p.id, p.kind, p.epoch, 1, p.exp, b.subarray(1)]],
    ];
    for (const [what, args] of variants) {
      const { frame, pub } = matched(h, new Uint8Array([7, 7]));
      const b = frame.subarray(pub.bodyStart);
      const a = args(pub, b);
      const [room, mid, kind, epoch, seq, exp, body_] = a;
      const want = expected({ room, id: mid, kind, epoch, exp }, seq, body_);
      expect(msgFrame(...a).equals(want), what).toBe(true);
      expect(takeMatchedPub(b, pub.room, pub.id, pub.kind, pub.epoch, pub.exp), what).toBe(pub);
    }
  });

  it('writes from the fields once fastPub has matched nothing since', () => {
    const { frame, pub } = matched(h, new Uint8Array([7, 7]));
    expect(fastPub(Buffer.from('not a pub'), MAX)).toBeNull();
    const b = frame.subarray(pub.bodyStart);
    expect(takeMatchedPub(b, pub.room, pub.id, pub.kind, pub.epoch, pub.exp)).toBeNull();
    expect(msgFrame(pub.room, pub.id, pub.kind, pub.epoch, 1, pub.exp, b).equals(expected(h, 1, b))).toBe(true);
  });
});

describe('ack', () => {
  it('is what encodeFrame makes of {v, t: ack, id} (20,000 ids)', () => {
    fc.assert(
      fc.property(id, (a) => {
        expect(payloadOf(ackFrame(a)).equals(Buffer.from(encodeFrame({ v: 1, t: 'ack', id: a })))).toBe(true);
        expect(ackFrame(a).equals(wireFrameOf({ v: 1, t: 'ack', id: a }))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });
});
