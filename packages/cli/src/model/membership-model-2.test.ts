/**
 * The second half of the adversarial model's runs (see membership-model.test.ts): 150 more
 * sequences in the quick run, half of SAFEHOUSE_FUZZ_RUNS in the long one (`npm run fuzz`),
 * from other seeds, in a file of its own so that vitest can run it in another worker (`npm run fuzz` runs two).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportPart, runModel } from './property.js';
import { Fixture } from './runner.js';

const LONG = process.env.SAFEHOUSE_FUZZ_RUNS !== undefined;
const BATCH = Number(process.env.SAFEHOUSE_MODEL_BATCH ?? 6);
const SEED = (Number(process.env.SAFEHOUSE_MODEL_SEED ?? Date.now() % 2 ** 31) + 1_000_003) % 2 ** 31;

const TARGET = LONG ? Math.floor(Number(process.env.SAFEHOUSE_FUZZ_RUNS) / 2) : 150;

let fixture: Fixture;
beforeAll(async () => {
  fixture = await Fixture.start();
}, 30_000);
afterAll(() => fixture?.close());

it(`the invariants hold after ${TARGET} more adversarial sequences`, async () => {
  const r = await runModel(fixture, { target: TARGET, batch: BATCH, seed: SEED, long: LONG });
  reportPart(r);
  expect(r.reports).toEqual([]);
}, LONG ? 6 * 60 * 60_000 : 5 * 60_000);
