/**
 * Replays one sequence (SAFEHOUSE_MODEL_REPLAY: its JSON, as a failure report prints it) a few
 * times, alone, and prints what each member's client emitted: for studying a counterexample.
 * Skipped unless the variable is set. SAFEHOUSE_MODEL_CLUSTER=1 replays it on a two-relay cluster.
 */
import { afterAll, beforeAll, it } from 'vitest';
import type { Sequence } from './commands.js';
import { Fixture, runSequence } from './runner.js';

const replay = process.env.SAFEHOUSE_MODEL_REPLAY;
let fixture: Fixture;
beforeAll(async () => {
  if (replay) fixture = await Fixture.start({ cluster: process.env.SAFEHOUSE_MODEL_CLUSTER === '1' });
}, 30_000);
afterAll(() => fixture?.close());

it.skipIf(!replay)('replays one sequence', async () => {
  const seq = JSON.parse(replay ?? '{}') as Sequence;
  const times = Number(process.env.SAFEHOUSE_MODEL_TIMES ?? 5);
  for (let i = 0; i < times; i++) {
    const o = await runSequence(fixture, seq, { trace: process.env.SAFEHOUSE_MODEL_TRACE === '1' });
    console.log(`run ${i}: ${o.violations.length === 0 ? 'ok' : o.violations.join('; ')} ${JSON.stringify(o.stats)}`);
  }
}, 10 * 60_000);
