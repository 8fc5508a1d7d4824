/**
 * The fast `pub` path never accepts more than the schema: for any bytes, if `fastPub` returns a
 * header, `decodeClientFrame` accepts the same bytes with the same values and body. And it does
 * take the frames our clients send: built by the very function they use (core's `pubHeader`),
 * for every kind but `commit`, so a change to the client's format or kinds fails here.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesEqual, decodeClientFrame, encodeFrame, LIMITS, PUB_KINDS, pubHeader, type PubKind } from '@safehouse/core/protocol';
import { fastPub } from './fastPub.js';

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
const body = fc.uint8Array({ maxLength: 300 });

/** The property itself: fast ⊆ schema, with identical results. */
function agrees(bytes: Buffer): boolean {
  const fast = fastPub(bytes, MAX);
  if (!fast) return true;
  const full = decodeClientFrame(bytes, MAX);
  if (!full.ok || full.header.t !== 'pub') return false;
  const h = full.header;
  return (
    h.room === fast.room &&
    h.id === fast.id &&
    h.kind === fast.kind &&
    h.epoch === fast.epoch &&
    h.exp === fast.exp &&
    bytesEqual(full.body, bytes.subarray(fast.bodyStart))
  );
}

describe('fastPub', () => {
  it('never takes a commit: a commit carries its proof of membership and takes the full decoder', () => {
    fc.assert(
      fc.property(fields, body, (h, b) => {
        const commit = pubHeader({ room: h.room, id: h.id, kind: 'commit', epoch: h.epoch });
        expect(fastPub(Buffer.from(encodeFrame(commit, b)), MAX)).toBeNull();
        const signed = pubHeader({ ...commit, next: 'K'.repeat(43), sig: 'S'.repeat(86) });
        expect(fastPub(Buffer.from(encodeFrame(signed, b)), MAX)).toBeNull();
      }),
    );
  });

  it('takes every pub our clients send (every kind but commit), with the values the schema gives', () => {
    fc.assert(
      fc.property(fields, body, (h, b) => {
        const bytes = Buffer.from(encodeFrame(pubHeader(h), b));
        expect(fastPub(bytes, MAX)).not.toBeNull();
        expect(agrees(bytes)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts nothing the schema refuses: single-byte mutations of valid frames', () => {
    fc.assert(
      fc.property(fields, body, fc.nat(), fc.integer({ min: 0, max: 255 }), (h, b, at, byte) => {
        const bytes = Buffer.from(encodeFrame(pubHeader(h), b));
        bytes[at % bytes.length] = byte;
        return agrees(bytes);
      }),
      { numRuns: 20_000 },
    );
  });

  it('accepts nothing the schema refuses: bytes inserted or removed inside the header', () => {
    fc.assert(
      fc.property(
        fields,
        fc.nat(),
        fc.constantFrom(...'0123456789 ",:{}e-+.\\u'),
        fc.boolean(),
        (h, at, ch, insert) => {
          const text = JSON.stringify(pubHeader(h));
          const i = at % text.length;
          const mutated = insert ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
          const head = Buffer.from(mutated, 'utf8');
          const bytes = Buffer.concat([Buffer.from([head.length >> 8, head.length & 0xff]), head, Buffer.from('body')]);
          return agrees(bytes);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('leaves every edge to the full decoder', () => {
    const ok = pubHeader({ room: 'A'.repeat(22), id: 'B'.repeat(22), kind: 'app', epoch: 7 });
    const text = JSON.stringify(ok);
    const cases: string[] = [
      text.replace('"epoch":7', '"epoch":07'), // leading zero: not JSON
      text.replace('"epoch":7', '"epoch":-0'), // the schema accepts -0; the fast path leaves it
      text.replace('"epoch":7', '"epoch":7.0'),
      text.replace('"epoch":7', '"epoch":1e3'),
      text.replace('"epoch":7', `"epoch":${Number.MAX_SAFE_INTEGER + 1}`),
      text.replace('"epoch":7', '"epoch":99999999999999999'),
      text.replace('}', ',"exp":}'),
      text.replace('}', ',"exp":01}'),
      text.replace('}', ',"x":1}'),
      text.replace('"A', '"\\u0041'),
      text.replace('{"v":1', '{ "v":1'),
      text.replace('"v":1', '"v":2'),
      text.replace('"app"', '"apple"'),
      text.replace('"app"', '"ap"'),
      text.replace('"app"', '"commit"'),
      text.replace(`"${'A'.repeat(22)}"`, `"${'A'.repeat(21)}"`),
      text.replace(`"${'A'.repeat(22)}"`, `"${'A'.repeat(21)}="`),
      text + ' ',
    ];
    for (const c of cases) {
      const head = Buffer.from(c, 'utf8');
      const bytes = Buffer.concat([Buffer.from([head.length >> 8, head.length & 0xff]), head]);
      expect(fastPub(bytes, MAX), c).toBeNull();
    }
    const good = Buffer.from(encodeFrame(ok, new Uint8Array(10)));
    expect(fastPub(good, good.length - 1)).toBeNull(); // over the frame limit: the decoder says so
    expect(fastPub(good.subarray(0, 1), MAX)).toBeNull();
    const short = Buffer.from(good);
    short.writeUInt16BE(good.length, 0); // header length past the end
    expect(fastPub(short, MAX)).toBeNull();
  });
});
