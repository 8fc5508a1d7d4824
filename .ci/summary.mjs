// Prints "N passed, N failed[, N skipped]" from vitest's JSON report. A run that stopped before
// the tests (build, type-check or lint failed) counts as one failure, so it can never look green.
import { existsSync, readFileSync } from 'node:fs';

const [file, statusArg] = process.argv.slice(2);
const status = Number(statusArg ?? 1);
if (!file || !existsSync(file)) {
  console.log('no test report: the build, type-check or lint step failed before the tests ran');
  console.log('0 passed, 1 failed');
  process.exit(status || 1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const passed = r.numPassedTests ?? 0;
let failed = r.numFailedTests ?? 0;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
// A suite that failed to load has no failed tests but must still fail the run.
const brokenSuites = (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).every((a) => a.status !== 'failed')).length;
failed += brokenSuites;
if (passed === 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
