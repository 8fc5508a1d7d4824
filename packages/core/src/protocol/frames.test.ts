import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from './bytes.js';
import { decodeClientFrame, decodeRelayFrame, encodeFrame, pubHeader, type ClientHeader } from './frames.js';
import { randomId } from './ids.js';
import { LIMITS } from './limits.js';

const room = randomId();
const id = randomId();

function raw(header: string, body: Uint8Array = new Uint8Array()): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(2 + h.length + body.length);
  out[0] = h.length >> 8;
  out[1] = h.length & 0xff;
  out.set(h, 2);
  out.set(body, 2 + h.length);
  return out;
}

describe('pubHeader', () => {
  it('writesTheKeysInTheOrderTheRelayReadsInPlace', () => {
    // packages/server/src/fastPub.ts matches these bytes literally; its test checks the relay side.
    expect(JSON.stringify(pubHeader({ sig: 'S'.repeat(86), exp: 9, next: 'K'.repeat(43), epoch: 3, kind: 'app', id, room }))).toBe(
      `{"v":1,"t":"pub","room":"${room}","id":"${id}","kind":"app","epoch":3,"exp":9,"next":"${'K'.repeat(43)}","sig":"${'S'.repeat(86)}"}`,
    );
    expect(JSON.stringify(pubHeader({ room, id, kind: 'proposal', epoch: 0, exp: undefined }))).toBe(`{"v":1,"t":"pub","room":"${room}","id":"${id}","kind":"proposal","epoch":0}`);
  });
});

describe('frames: round trip', () => {
  it('decodes what it encodes, body intact', () => {
    const body = new Uint8Array([1, 2, 3, 255]);
    const header: ClientHeader = { v: 1, t: 'pub', room, id, kind: 'commit', epoch: 7 };
    const r = decodeClientFrame(encodeFrame(header, body));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.header).toEqual(header);
    expect([...r.body]).toEqual([1, 2, 3, 255]);
  });

  it('round-trips any body (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.nat(), (body, epoch) => {
        const r = decodeRelayFrame(encodeFrame({ v: 1, t: 'msg', room, id, kind: 'app', epoch, seq: 3 }, body));
        return r.ok && bytesEqual(r.body, body);
      }),
    );
  });

  it('refuses to encode an oversized header', () => {
    expect(() => encodeFrame({ v: 1, t: 'error', code: 'E_INTERNAL', pad: 'x'.repeat(2000) } as never)).toThrow(RangeError);
  });
});

describe('frames: malformed input gets a stable code', () => {
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(), 'E_FRAME_MALFORMED'],
    ['one byte', new Uint8Array([0]), 'E_FRAME_MALFORMED'],
    ['zero header length', new Uint8Array([0, 0, 1]), 'E_FRAME_MALFORMED'],
    ['header length past the end', new Uint8Array([0, 50, 0x7b]), 'E_FRAME_MALFORMED'],
    ['header length over the cap', new Uint8Array([0xff, 0xff, ...new Uint8Array(70000).slice(0, 10)]), 'E_FRAME_MALFORMED'],
    ['invalid UTF-8', new Uint8Array([0, 2, 0xc3, 0x28]), 'E_FRAME_MALFORMED'],
    ['not JSON', raw('{v:1}'), 'E_HEADER_INVALID'],
    ['JSON array', raw('[1,2]'), 'E_HEADER_INVALID'],
    ['deep nesting', raw('{"a":' + '['.repeat(50) + ']'.repeat(50) + '}'), 'E_HEADER_INVALID'],
    ['unknown kind', raw('{"v":1,"t":"nope"}'), 'E_HEADER_INVALID'],
    ['wrong version', raw('{"v":2,"t":"ping"}'), 'E_UNSUPPORTED_VERSION'],
    ['extra key', raw('{"v":1,"t":"ping","x":1}'), 'E_HEADER_INVALID'],
    ['__proto__ key', raw('{"v":1,"t":"ping","__proto__":{"polluted":1}}'), 'E_HEADER_INVALID'],
    ['constructor key', raw('{"v":1,"t":"ping","constructor":{"prototype":{}}}'), 'E_HEADER_INVALID'],
    ['short id', raw(`{"v":1,"t":"unsub","room":"abc"}`), 'E_HEADER_INVALID'],
    ['negative epoch', raw(`{"v":1,"t":"sub","room":"${room}","epoch":-1}`), 'E_HEADER_INVALID'],
    ['fractional epoch', raw(`{"v":1,"t":"sub","room":"${room}","epoch":1.5}`), 'E_HEADER_INVALID'],
    ['string epoch', raw(`{"v":1,"t":"sub","room":"${room}","epoch":"1"}`), 'E_HEADER_INVALID'],
    ['bad pub kind', raw(`{"v":1,"t":"pub","room":"${room}","id":"${id}","kind":"x","epoch":1}`), 'E_HEADER_INVALID'],
    ['relay-only kind from a client', raw(`{"v":1,"t":"ack","id":"${id}"}`), 'E_HEADER_INVALID'],
  ];
  for (const [name, bytes, code] of cases) {
    it(name, () => {
      const r = decodeClientFrame(bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe(code);
    });
  }

  it('checks size before anything else', () => {
    const big = new Uint8Array(LIMITS.maxFrameBytes + 1);
    const r = decodeClientFrame(big);
    expect(r.ok ? 'ok' : r.code).toBe('E_FRAME_TOO_LARGE');
  });

  it('does not pollute prototypes', () => {
    decodeClientFrame(raw('{"v":1,"t":"ping","__proto__":{"polluted":1}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects non-Uint8Array input of every type', () => {
    for (const x of [null, undefined, 'str', 42, {}, [1, 2], new ArrayBuffer(4)]) {
      const r = decodeClientFrame(x as Uint8Array);
      expect(r.ok).toBe(false);
    }
  });

  it('never throws on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = decodeClientFrame(bytes);
        return typeof r.ok === 'boolean';
      }),
    );
  });

  it('relay error codes must be known codes', () => {
    const r = decodeRelayFrame(raw(`{"v":1,"t":"nack","id":"${id}","code":"E_MADE_UP"}`));
    expect(r.ok).toBe(false);
  });
});
