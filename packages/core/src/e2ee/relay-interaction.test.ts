/**
 * THREATS C (malicious relay), in the style of libsignal's `interaction` fuzz target: random
 * sequences of send / deliver (in any order, any number of times) / tamper / commit, played on
 * a three-member room by a relay that does what it likes with the bytes. Invariants:
 * - a message is shown at most once per member, with the text and sender it was sent with;
 * - a tampered copy is never shown;
 * - a genuine message delivered for the first time is shown, unless more epochs have passed
 *   than we keep secrets for (RFC 9420 §14; suite.ts keeps 4); delivered again, it is a
 *   duplicate (or, past that window, rejected: never shown).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { E2ee, GroupSession, Identity } from './api.js';
import { createE2ee } from './index.js';
import { KEY_RETENTION } from './suite.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function room3(): Promise<GroupSession[]> {
  const e2ee: E2ee = createE2ee();
  const room = randomId();
  const secret = randomBytes(32);
  const creator: Identity = await e2ee.createIdentity();
  const sessions = [await e2ee.createGroup(creator, 'm0', room)];
  for (const name of ['m1', 'm2']) {
    const pending = await e2ee.createJoinRequest(await e2ee.createIdentity(), name, room, secret);
    const req = e2ee.parseJoinRequest(pending.request)!;
    await e2ee.verifyJoinProof(req, secret);
    const c = await sessions[0]!.add(req);
    await sessions[0]!.confirm(c);
    for (const s of sessions.slice(1)) await s.receive(c.commit);
    const j = await e2ee.joinFromWelcome(pending, c.welcome!, creator.fingerprint);
    if (!j.ok) throw new Error(j.message);
    sessions.push(j.session);
  }
  return sessions;
}

type Op =
  | { op: 'send'; from: number }
  | { op: 'deliver'; to: number; pick: number }
  | { op: 'tamper'; to: number; pick: number; at: number; x: number }
  | { op: 'commit'; by: number };

const member = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('send' as const), from: member }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('deliver' as const), to: member, pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('tamper' as const),
      to: member,
      pick: fc.nat(),
      at: fc.nat(),
      x: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('commit' as const), by: member }) },
);

interface Sent {
  bytes: Uint8Array;
  text: string;
  from: number;
  epoch: number;
  shownTo: Set<number>;
}

describe('relay interaction (fuzz)', () => {
  it('neverShownTwiceNeverTamperedAlwaysDeliveredInRetention', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60, size: 'medium' }), async (ops) => {
        const s = await room3();
        const sent: Sent[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.op === 'send') {
            const text = `#${n++} from ${o.from}`;
            const bytes = await s[o.from]!.encrypt(enc.encode(text), { room: s[0]!.room, id: randomId() });
            sent.push({ bytes, text, from: o.from, epoch: s[o.from]!.epoch(), shownTo: new Set([o.from]) });
          } else if (o.op === 'commit') {
            // The relay orders commits: the winner's goes to everyone, in order.
            const p = await s[o.by]!.update();
            await s[o.by]!.confirm(p);
            for (const [i, m] of s.entries()) if (i !== o.by) expect((await m.receive(p.commit)).kind).toBe('commit');
          } else if (sent.length > 0) {
            const m = sent[o.pick % sent.length]!;
            if (o.op === 'tamper') {
              const t = m.bytes.slice();
              t[o.at % t.length]! ^= o.x;
              expect((await s[o.to]!.receive(t)).kind).not.toBe('message');
              continue;
            }
            const r = await s[o.to]!.receive(m.bytes);
            const evicted = s[o.to]!.epoch() - m.epoch > KEY_RETENTION.retainKeysForEpochs;
            if (m.shownTo.has(o.to)) {
              // Once the epoch's secrets are deleted, a replay cannot even be recognised: rejected.
              expect(r.kind).toBe(evicted ? 'rejected' : 'duplicate');
            } else if (r.kind === 'message') {
              expect(dec.decode(r.plaintext)).toBe(m.text);
              expect(r.sender.leaf).toBe(m.from);
              m.shownTo.add(o.to);
            } else {
              // Only allowed when the epoch's secrets were deleted (§14).
              expect(r.kind).toBe('rejected');
              expect(evicted).toBe(true);
            }
          }
        }
        s.forEach((x) => x.dispose());
      }),
      { numRuns: Number(process.env.SAFEHOUSE_FUZZ_RUNS ?? 40) },
    );
  }, 120_000);
});
