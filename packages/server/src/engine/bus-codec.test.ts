/**
 * What relays of a cluster say to each other (bus-codec.ts): every change decodes to what was
 * encoded, whatever the ids, epochs, expiry and bodies; a truncated or padded message is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PubRecord } from './engine.js';
import { Reader, TYPE, encodeBatch, encodeCommit, encodeJoin, encodeRecord, encodeWelcome, readCommit, readJoin, readRecord, readWelcome } from './bus-codec.js';

const id = fc.string({ minLength: 0, maxLength: 40 });
const body = fc.uint8Array({ maxLength: 3000 });
const record = fc.record({
  cid: fc.nat({ max: 2 ** 32 - 1 }),
  id,
  kind: fc.constantFrom('app', 'proposal', 'dm', 'alive'),
  epoch: fc.maxSafeNat(),
  exp: fc.option(fc.maxSafeNat(), { nil: undefined }),
  body,
}) as fc.Arbitrary<PubRecord>;

const plain = (r: PubRecord) => ({ ...r, body: [...r.body] });

describe('bus codec', () => {
  it('a batch decodes to its relay, counts and records, in order', () => {
    fc.assert(
      fc.property(id, fc.option(fc.string(), { nil: undefined }), fc.array(record, { maxLength: 20 }), (relay, counts, records) => {
        const r = new Reader(encodeBatch(relay, counts, records));
        expect(r.u8()).toBe(TYPE.batch);
        expect(r.str()).toBe(relay);
        expect(r.str()).toBe(counts ?? '-');
        const n = r.u32();
        expect(Array.from({ length: n }, () => plain(readRecord(r)))).toEqual(records.map(plain));
        expect(r.done).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a commit, a join, a kept proposal and a Welcome decode to what was encoded', () => {
    fc.assert(
      fc.property(id, fc.maxSafeNat(), id, id, fc.nat({ max: 2 ** 32 - 1 }), body, record, (cid, epoch, next, relay, serial, b, rec) => {
        const c = new Reader(encodeCommit({ id: cid, epoch, next, relay, serial, body: b }));
        expect(c.u8()).toBe(TYPE.commit);
        expect({ ...readCommit(c), body: [...b] }).toEqual({ id: cid, epoch, next, relay, serial, body: [...b] });
        const j = new Reader(encodeJoin({ id: cid, relay, serial, session: next, body: b }));
        expect(j.u8()).toBe(TYPE.join);
        expect({ ...readJoin(j), body: [...b] }).toEqual({ id: cid, relay, serial, session: next, body: [...b] });
        expect(plain(readRecord(new Reader(encodeRecord(rec))))).toEqual(plain(rec));
        const w = readWelcome(encodeWelcome(relay, cid, next, b));
        expect({ ...w, body: [...w.body] }).toEqual({ room: relay, to: cid, id: next, body: [...b] });
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated message is refused, never read past its end', () => {
    fc.assert(
      fc.property(record, fc.nat(), (rec, cut) => {
        const bytes = encodeRecord(rec);
        const short = bytes.subarray(0, cut % bytes.length);
        expect(() => readRecord(new Reader(short))).toThrow(RangeError);
      }),
      { numRuns: 300 },
    );
  });
});
