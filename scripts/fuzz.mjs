#!/usr/bin/env node
/**
 * `npm run fuzz`: the adversarial membership model's long run (packages/cli/src/model). Plays
 * SAFEHOUSE_FUZZ_RUNS sequences (default 10,000), half in each of the model's two test files so
 * that vitest runs them on two cores, then prints the total: "N sequences, M failures". Exits
 * non-zero if any sequence broke an invariant (the failures are printed above the total).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.env.SAFEHOUSE_FUZZ_RUNS ?? 10_000);
if (!Number.isSafeInteger(runs) || runs < 2) throw new Error(`SAFEHOUSE_FUZZ_RUNS expects an integer of at least 2, got ${process.env.SAFEHOUSE_FUZZ_RUNS}`);
const dir = mkdtempSync(join(tmpdir(), 'safehouse-fuzz-'));
const files = ['packages/cli/src/model/membership-model.test.ts', 'packages/cli/src/model/membership-model-2.test.ts'];
const r = spawnSync('npx', ['vitest', 'run', '--project', 'unit', '--maxWorkers', '2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, SAFEHOUSE_MODEL: '1', SAFEHOUSE_FUZZ_RUNS: String(runs), SAFEHOUSE_FUZZ_REPORT: dir },
});
let sequences = 0;
let failures = 0;
const parts = [];
for (const f of readdirSync(dir)) {
  const part = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  sequences += part.sequences;
  failures += part.failures;
  parts.push(part.summary);
}
rmSync(dir, { recursive: true, force: true });
for (const p of parts) console.log(`  ${p}`);
console.log(`${sequences} sequences, ${failures} failures`);
process.exit(r.status === 0 && failures === 0 && parts.length === files.length ? 0 : 1);
