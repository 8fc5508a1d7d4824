/**
 * THREATS C: a relay that drops, duplicates, delays, tampers with and replays application
 * messages (fast-check plans, in the style of libsignal's interaction fuzz target).
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../protocol/frames.js';
import { Scenario, sleep } from './testing/peers.js';
let s: Scenario;
beforeEach(() => {
  s = new Scenario();
});
afterEach(() => s.end());

describe('a malicious relay (THREATS C.16–C.18, C.21)', () => {
  type Fate = 'deliver' | 'drop' | 'duplicate' | 'delay' | 'tamper' | 'replay-later';
  const fates: Fate[] = ['deliver', 'drop', 'duplicate', 'delay', 'tamper', 'replay-later'];

  it('neverShowsAMessageTwiceNorOneItAlteredNorLosesOneItDeliveredIntact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ from: fc.integer({ min: 0, max: 1 }), fate: fc.constantFrom(...fates), at: fc.nat(400), delay: fc.integer({ min: 1, max: 40 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (plan) => {
          const relay = s.relay;
          const pair = await s.room(['alice', 'bob']);
          const intact = new Set<string>(); // message ids delivered unaltered at least once
          let i = 0;
          relay.filter = (conn, h, body) => {
            if (h.t !== 'msg' || h.kind !== 'app') return true;
            const step = plan[i++ % plan.length]!;
            const later = (bytes: Uint8Array, ms: number) => setTimeout(() => conn.open && conn.handlers.onFrame(bytes), ms);
            switch (step.fate) {
              case 'deliver':
                intact.add(h.id);
                return true;
              case 'drop':
                return false;
              case 'duplicate':
                intact.add(h.id);
                later(encodeFrame(h, body), 0);
                return true;
              case 'delay':
                intact.add(h.id);
                later(encodeFrame(h, body), step.delay);
                return false;
              case 'tamper': {
                const bad = body.slice();
                const at = step.at % bad.length;
                bad[at] = (bad[at] ?? 0) ^ 0x01;
                later(encodeFrame(h, bad), 0);
                return false;
              }
              case 'replay-later':
                intact.add(h.id);
                later(encodeFrame(h, body), 60);
                return true;
            }
          };
          const sent = new Map<string, { from: string; text: string }>();
          for (const [n, step] of plan.entries()) {
            const who = pair[step.from]!;
            const text = `m${n} from ${who.client.name}`;
            await who.client.command(text);
            const mine = who.of('message').find((m) => m.self && m.text === text)!;
            sent.set(mine.id, { from: who.client.name, text });
          }
          // Wait (bounded) until every intact message has arrived, then a little longer so a late
          // duplicate or replay would be seen: a loaded machine must not make this flaky.
          const expectedAt = (p: (typeof pair)[number]): string[] =>
            [...sent].filter(([id, s]) => s.from !== p.client.name && intact.has(id)).map(([id]) => id);
          const arrived = (p: (typeof pair)[number]): boolean => {
            const ids = new Set(p.of('message').filter((m) => !m.self).map((m) => m.id));
            return expectedAt(p).every((id) => ids.has(id));
          };
          for (let waited = 0; waited < 5000 && !pair.every(arrived); waited += 25) await sleep(25);
          await sleep(120);
          for (const p of pair) {
            const got = p.of('message').filter((m) => !m.self);
            const ids = got.map((m) => m.id);
            expect(new Set(ids).size).toBe(ids.length); // never twice
            for (const m of got) expect(sent.get(m.id)).toEqual({ from: m.from, text: m.text }); // never altered or forged
            expect(ids.sort()).toEqual(expectedAt(p).sort()); // nothing delivered intact is lost
          }
          await s.end();
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
