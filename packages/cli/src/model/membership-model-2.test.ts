/**
 * The second half of the quick run of the adversarial model (see membership-model.test.ts): 150
 * more sequences, from other seeds, in a file of its own so that vitest runs it on the other core.
 * Skipped in the long run (`npm run fuzz` plays membership-model.test.ts alone).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runModel } from './property.js';
import { Fixture } from './runner.js';

const LONG = process.env.SAFEHOUSE_FUZZ_RUNS !== undefined;
const BATCH = Number(process.env.SAFEHOUSE_MODEL_BATCH ?? 6);
const SEED = (Number(process.env.SAFEHOUSE_MODEL_SEED ?? Date.now() % 2 ** 31) + 1_000_003) % 2 ** 31;

let fixture: Fixture | undefined;
beforeAll(async () => {
  if (!LONG) fixture = await Fixture.start();
}, 30_000);
afterAll(() => fixture?.close());

it.skipIf(LONG)('the invariants hold after 150 more adversarial sequences', async () => {
  const r = await runModel(fixture!, { target: 150, batch: BATCH, seed: SEED, long: false });
  expect(r.reports).toEqual([]);
}, 5 * 60_000);
