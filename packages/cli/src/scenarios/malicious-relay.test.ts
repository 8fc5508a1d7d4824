/**
 * THREATS C: a relay that drops, duplicates, delays, tampers with and replays application
 * messages (fast-check plans, in the style of libsignal's interaction fuzz target). The relay is
 * the real one; the malice is played on the wire between it and each client (testing/wire.ts).
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '@safehouse/core/protocol';
import { Scenario, until, type Line, type Peer } from '../testing/scenario.js';

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.start();
});
afterEach(() => s.close());

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
          const pair = await s.room(['alice', 'bob']);
          const intact = new Set<string>(); // message ids delivered unaltered at least once
          const decided = new Set<string>(); // message ids the relay has decided a fate for
          let i = 0;
          let pending = 0; // frames the relay still means to send later
          let playing = true;
          const later = (line: Line, bytes: Uint8Array, ms: number): void => {
            pending++;
            setTimeout(() => {
              line.deliver(bytes);
              pending--;
            }, ms);
          };
          s.wire.inbound = (line, h, body) => {
            if (!playing || h.t !== 'msg' || h.kind !== 'app') return 'pass';
            const step = plan[i++ % plan.length]!;
            decided.add(h.id);
            switch (step.fate) {
              case 'deliver':
                intact.add(h.id);
                return 'pass';
              case 'drop':
                return 'drop';
              case 'duplicate':
                intact.add(h.id);
                later(line, encodeFrame(h, body), 0);
                return 'pass';
              case 'delay':
                intact.add(h.id);
                later(line, encodeFrame(h, body), step.delay);
                return 'drop';
              case 'tamper': {
                const bad = body.slice();
                const at = step.at % bad.length;
                bad[at] = (bad[at] ?? 0) ^ 0x01;
                later(line, encodeFrame(h, bad), 0);
                return 'drop';
              }
              case 'replay-later':
                intact.add(h.id);
                later(line, encodeFrame(h, body), 60);
                return 'pass';
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
          const expectedAt = (p: Peer): string[] => [...sent].filter(([id, m]) => m.from !== p.client.name && intact.has(id)).map(([id]) => id);
          const arrived = (p: Peer): boolean => {
            const ids = new Set(p.of('message').filter((m) => !m.self).map((m) => m.id));
            return expectedAt(p).every((id) => ids.has(id));
          };
          await until(() => [...sent.keys()].every((id) => decided.has(id)), 'every message at the relay', 10_000);
          await until(() => pair.every(arrived), 'every message delivered intact', 10_000);
          // Every frame the relay meant to send late has been sent; then a marker each way, which
          // the relay leaves alone: anything shown twice, altered or late has had its chance.
          await until(() => pending === 0, 'the late frames sent');
          playing = false;
          const markers: string[] = [];
          for (const [k, p] of pair.entries()) {
            const text = `marker ${k}`;
            await p.client.command(text);
            markers.push(p.of('message').find((m) => m.self && m.text === text)!.id);
          }
          await until(() => pair.every((p, k) => p.texts().includes(`marker ${1 - k}`)), 'the markers');
          for (const p of pair) {
            const got = p.of('message').filter((m) => !m.self && !markers.includes(m.id));
            const ids = got.map((m) => m.id);
            expect(new Set(ids).size).toBe(ids.length); // never twice
            for (const m of got) expect(sent.get(m.id)).toEqual({ from: m.from, text: m.text }); // never altered or forged
            expect(ids.sort()).toEqual(expectedAt(p).sort()); // nothing delivered intact is lost
          }
        },
      )
        // A failed run leaves nothing behind for the next (fast-check shrinks by running again).
        .afterEach(async () => {
          s.wire.inbound = () => 'pass';
          await s.end();
        }),
      // Each run is a real room on a real relay: a failure is reported (with its seed) within the
      // test's time even if shrinking it would take longer.
      { numRuns: 12, interruptAfterTimeLimit: 100_000, markInterruptAsFailure: true },
    );
  }, 120_000);
});
