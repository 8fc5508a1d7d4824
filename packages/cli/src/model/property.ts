/**
 * The property of the adversarial model (see membership-model.test.ts): batches of `batch`
 * sequences played at once, each in a room of its own on the shared relay (most of a sequence
 * is waiting on the protocol's timers, so they share the CPU well).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe as describeSeq, sequenceArb, type Sequence } from './commands.js';
import { runSequence, type Fixture } from './runner.js';

/** Batches per fast-check call in the long run: a failure is reported and the run goes on. */
const CHUNK = 10;

export type ModelResult = { sequences: number; failures: number; reports: string[]; summary: string };

/**
 * Quick run (`long` false): one seeded fast-check call that stops at the first failing batch
 * (shrinking it with SAFEHOUSE_MODEL_SHRINK=1). Long run: calls of CHUNK batches with successive
 * seeds until `target` sequences ran; each failure is reported, and the run goes on.
 */
/** In the long run, each file's counts go to SAFEHOUSE_FUZZ_REPORT (a folder), which scripts/fuzz.mjs sums. */
export function reportPart(r: ModelResult): void {
  const dir = process.env.SAFEHOUSE_FUZZ_REPORT;
  if (dir) writeFileSync(join(dir, `${process.pid}-${Date.now()}.json`), JSON.stringify({ sequences: r.sequences, failures: r.failures, summary: r.summary }));
}

export async function runModel(fixture: Fixture, o: { target: number; batch: number; seed: number; long: boolean }): Promise<ModelResult> {
  let sequences = 0;
  let slowest = 0;
  const totals: Record<string, number> = {};
  const started = Date.now();
  const property = fc.asyncProperty(fc.array(sequenceArb, { minLength: o.batch, maxLength: o.batch }), async (batch: Sequence[]) => {
    const outcomes = await Promise.all(batch.map((s) => runSequence(fixture, s)));
    sequences += batch.length;
    for (const r of outcomes) slowest = Math.max(slowest, r.stats.ms ?? 0);
    for (const r of outcomes) for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v;
    const failed = outcomes.flatMap((r, i) => (r.violations.length > 0 ? [`${describeSeq(batch[i]!)}\n    ${r.violations.join('\n    ')}`] : []));
    if (failed.length > 0) throw new Error(`invariants broken:\n  ${failed.join('\n  ')}`);
  });
  const shrink = process.env.SAFEHOUSE_MODEL_SHRINK === '1';
  const reports: string[] = [];
  let seed = o.seed;
  while (sequences < o.target && (o.long || reports.length === 0)) {
    const runs = o.long ? Math.min(CHUNK, Math.ceil((o.target - sequences) / o.batch)) : Math.ceil(o.target / o.batch);
    const result = await fc.check(property, { numRuns: runs, seed, endOnFailure: !shrink });
    if (result.failed) {
      reports.push(`${fc.defaultReportMessage(result)}\n${String(result.errorInstance)}`);
      console.log(reports.at(-1));
    }
    seed = (seed + 1) % 2 ** 31;
  }
  console.log(`totals: ${JSON.stringify(totals)}`);
  const summary = `${sequences} sequences, ${reports.length} failures (${((Date.now() - started) / 1000).toFixed(1)} s, slowest sequence ${slowest} ms, first seed ${o.seed}, batches of ${o.batch})`;
  console.log(summary);
  return { sequences, failures: reports.length, reports, summary };
}
