/** The frame fields of issue 6: `pub`/`msg` `exp` hints and the `rt` frames (docs/protocol.md). */
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeRelayFrame, encodeFrame } from './frames.js';
import { randomId } from './ids.js';

const room = randomId();
const id = randomId();
const raw = (header: unknown, body = new Uint8Array(0)): Uint8Array => {
  const h = new TextEncoder().encode(JSON.stringify(header));
  return Uint8Array.from([h.length >> 8, h.length & 0xff, ...h, ...body]);
};

describe('exp and rt frames', () => {
  it('roundTripsAPubWithAnExpiryHintAndAnRtRequest', () => {
    const pub = decodeClientFrame(encodeFrame({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 3, exp: 1_800_000_000_000 }, new Uint8Array([1])));
    expect(pub).toMatchObject({ ok: true, header: { exp: 1_800_000_000_000 } });
    const rt = decodeClientFrame(encodeFrame({ v: 1, t: 'rt', id, server: 0 }, new Uint8Array(1024)));
    expect(rt.ok && rt.header.t === 'rt' && rt.body.length).toBe(1024);
    const back = decodeRelayFrame(encodeFrame({ v: 1, t: 'rt', id }, new Uint8Array(500)));
    expect(back).toMatchObject({ ok: true, header: { t: 'rt', id } });
    const msg = decodeRelayFrame(encodeFrame({ v: 1, t: 'msg', room, id, kind: 'app', epoch: 0, seq: 1, exp: 5 }));
    expect(msg).toMatchObject({ ok: true, header: { exp: 5 } });
  });

  it('refusesMalformedExpAndRtHeadersWithE_HEADER_INVALID', () => {
    const bad = [
      { v: 1, t: 'pub', room, id, kind: 'app', epoch: 0, exp: -1 },
      { v: 1, t: 'pub', room, id, kind: 'app', epoch: 0, exp: 1.5 },
      { v: 1, t: 'pub', room, id, kind: 'app', epoch: 0, exp: '1' },
      { v: 1, t: 'rt', id },
      { v: 1, t: 'rt', id, server: -1 },
      { v: 1, t: 'rt', id, server: 0, host: '10.0.0.1' }, // a client never names an address
      { v: 1, t: 'rt', id: 'short', server: 0 },
    ];
    for (const h of bad) expect(decodeClientFrame(raw(h)), JSON.stringify(h)).toMatchObject({ ok: false, code: 'E_HEADER_INVALID' });
    expect(decodeRelayFrame(raw({ v: 1, t: 'rt', id, server: 0 }))).toMatchObject({ ok: false, code: 'E_HEADER_INVALID' });
  });
});
