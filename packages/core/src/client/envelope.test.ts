/**
 * The Welcome envelope (docs/protocol.md "Joining a room"): 0x01 + Welcome, 0x02 + refusal code;
 * anything else (the 0x03 note that carried the room's timer is gone: the timer is group state)
 * decodes to nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeWelcomeEnvelope, encodeWelcomeEnvelope } from './envelope.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('welcome envelope', () => {
  it('round-trips a Welcome and a refusal', () => {
    const welcome = bytes(300, 7);
    expect(decodeWelcomeEnvelope(encodeWelcomeEnvelope({ kind: 'welcome', welcome }))).toEqual({ kind: 'welcome', welcome });
    expect(decodeWelcomeEnvelope(encodeWelcomeEnvelope({ kind: 'refused', code: 'E_BANNED' }))).toEqual({ kind: 'refused', code: 'E_BANNED' });
  });

  it('refuses a 0x03 envelope (a Welcome with a note: the timer no longer travels so)', () => {
    const out = new Uint8Array(5 + 10);
    out[0] = 0x03;
    new DataView(out.buffer).setUint32(1, 4);
    expect(decodeWelcomeEnvelope(out)).toBeUndefined();
  });

  it('never throws on arbitrary bytes, and what it accepts encodes back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        const e = decodeWelcomeEnvelope(body);
        if (e) expect(encodeWelcomeEnvelope(e)).toEqual(body);
      }),
      { numRuns: 2_000 },
    );
  });
});
