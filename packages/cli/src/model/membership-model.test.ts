/**
 * The adversarial model of the issue "Membership that holds" (deliverable 5): fast-check command
 * sequences (commands.ts) of honest members, a malicious relay in front of each of them, and
 * link holders with keys of their own, on the REAL relay with real clients (runner.ts); the
 * invariants of invariants.ts checked after every sequence.
 *
 * The quick run (part of `npm test`) plays 300 sequences, half in this file and half in
 * membership-model-2.test.ts, so that two workers can play them at once. `npm run fuzz`
 * (scripts/fuzz.mjs) sets SAFEHOUSE_FUZZ_RUNS (default 10,000): each file then plays half of
 * that, and the script prints the total, "N sequences, M failures". SAFEHOUSE_MODEL_SEED fixes the first seed;
 * SAFEHOUSE_MODEL_SHRINK=1 shrinks a failing batch (slow: each try replays it).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportPart, runModel } from './property.js';
import { Fixture } from './runner.js';

const LONG = process.env.SAFEHOUSE_FUZZ_RUNS !== undefined;
const TARGET = LONG ? Math.ceil(Number(process.env.SAFEHOUSE_FUZZ_RUNS) / 2) : 150;
const BATCH = Number(process.env.SAFEHOUSE_MODEL_BATCH ?? 6);
const SEED = Number(process.env.SAFEHOUSE_MODEL_SEED ?? Date.now() % 2 ** 31);

let fixture: Fixture;
beforeAll(async () => {
  fixture = await Fixture.start();
}, 30_000);
afterAll(() => fixture?.close());

it(`the invariants hold after ${TARGET} adversarial sequences`, async () => {
  const r = await runModel(fixture, { target: TARGET, batch: BATCH, seed: SEED, long: LONG });
  reportPart(r);
  expect(r.reports).toEqual([]);
}, LONG ? 6 * 60 * 60_000 : 5 * 60_000);
