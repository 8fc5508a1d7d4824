/**
 * The adversarial model (membership-model.test.ts) against a cluster: two relays sharing one
 * real Redis (`safehouse serve --cluster`), each member's connections alternating between them
 * (a member that reconnects moves to the other relay). The relay's rule for which commit wins
 * an epoch, its cohorts and its catch-up must hold across relays as they hold in one.
 *
 * `npm test` plays 60 sequences here; `npm run fuzz` (SAFEHOUSE_FUZZ_RUNS) a fifth of its total.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportPart, runModel } from './property.js';
import { Fixture } from './runner.js';

const LONG = process.env.SAFEHOUSE_FUZZ_RUNS !== undefined;
const BATCH = Number(process.env.SAFEHOUSE_MODEL_BATCH ?? 6);
const SEED = (Number(process.env.SAFEHOUSE_MODEL_SEED ?? Date.now() % 2 ** 31) + 2_000_003) % 2 ** 31;
const TARGET = LONG ? Math.ceil(Number(process.env.SAFEHOUSE_FUZZ_RUNS) / 5) : 60;

let fixture: Fixture;
beforeAll(async () => {
  fixture = await Fixture.start({ cluster: true });
}, 30_000);
afterAll(() => fixture?.close());

it(`the invariants hold after ${TARGET} adversarial sequences on a two-relay cluster`, async () => {
  const r = await runModel(fixture, { target: TARGET, batch: BATCH, seed: SEED, long: LONG });
  reportPart(r);
  console.log(`relays lost their bus ${Fixture.busLosses} times`);
  expect(r.reports).toEqual([]);
}, LONG ? 6 * 60 * 60_000 : 5 * 60_000);
