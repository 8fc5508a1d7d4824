/**
 * Pre-encoded relay frames: the WebSocket header is right for every length class (RFC 6455
 * §5.2: 7-bit, 16-bit and 64-bit lengths), the payload is exactly what `encodeFrame` makes, and
 * the hand-written `msg` and `ack` headers are byte for byte JSON.stringify of the same object.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRelayFrame, encodeFrame, type PubKind } from '@safehouse/core/protocol';
import { ackFrame, msgFrame, payloadOf, wireFrameOf, wsHeaderLength } from './wireFrame.js';

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const id = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 22, maxLength: 22 });
const uint = fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

/** Parses the WebSocket header: FIN + binary, unmasked, and the declared payload length. */
function wsHeader(frame: Buffer): { head: number; length: number } {
  expect(frame[0]).toBe(0x82);
  const b1 = frame[1] as number;
  expect(b1 & 0x80).toBe(0); // servers never mask
  if ((b1 & 0x7f) < 126) return { head: 2, length: b1 };
  if ((b1 & 0x7f) === 126) return { head: 4, length: frame.readUInt16BE(2) };
  return { head: 10, length: Number(frame.readBigUInt64BE(2)) };
}

describe('wire frames', () => {
  it('header lengths at the 7-bit, 16-bit and 64-bit boundaries', () => {
    for (const bodyLen of [0, 100, 110, 123, 124, 125, 126, 200, 65_000, 65_533, 65_534, 65_535, 70_000]) {
      const f = wireFrameOf({ v: 1, t: 'pong' }, new Uint8Array(bodyLen).fill(3));
      const { head, length } = wsHeader(f);
      expect(length).toBe(f.length - head);
      expect(head).toBe(wsHeaderLength(length));
      expect(
        Buffer.compare(payloadOf(f), Buffer.from(encodeFrame({ v: 1, t: 'pong' }, new Uint8Array(bodyLen).fill(3)))),
      ).toBe(0);
    }
  });

  it('msg is JSON.stringify of the same header, body copied once behind it', () => {
    fc.assert(
      fc.property(
        id,
        id,
        fc.constantFrom<PubKind>('app', 'commit', 'proposal'),
        uint,
        uint,
        fc.option(uint, { nil: undefined }),
        fc.uint8Array({ maxLength: 2000 }),
        (room, mid, kind, epoch, seq, exp, body) => {
          const header = {
            v: 1 as const,
            t: 'msg' as const,
            room,
            id: mid,
            kind,
            epoch,
            seq,
            ...(exp === undefined ? {} : { exp }),
          };
          const f = msgFrame(room, mid, kind, epoch, seq, exp, body);
          const { head, length } = wsHeader(f);
          expect(length).toBe(f.length - head);
          expect(Buffer.compare(payloadOf(f), Buffer.from(encodeFrame(header, body)))).toBe(0);
          const d = decodeRelayFrame(payloadOf(f));
          expect(d.ok && d.header).toEqual(header);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('ack is JSON.stringify of the same header', () => {
    fc.assert(
      fc.property(id, (a) => {
        expect(Buffer.compare(payloadOf(ackFrame(a)), Buffer.from(encodeFrame({ v: 1, t: 'ack', id: a })))).toBe(0);
      }),
    );
  });

  it('the body is copied, not referenced: the caller may reuse its buffer', () => {
    const body = new Uint8Array([1, 2, 3]);
    const f = msgFrame('A'.repeat(22), 'B'.repeat(22), 'app', 0, 1, undefined, body);
    body.fill(9);
    expect([...f.subarray(f.length - 3)]).toEqual([1, 2, 3]);
  });
});
