/**
 * Preloaded into a member's Node process (`node --import`): moves its monotonic clock
 * (`performance.now()`, which proven time extrapolates with) by the milliseconds written in the
 * file named by SAFEHOUSE_E2E_MONOTONIC_FILE, read at most every 100 ms. A test moves it forward
 * past the age at which proven time goes stale (10 min): the member loses proven time, measures
 * again and regains it — without waiting ten minutes. Test instrument only (like libfaketime).
 */
import { readFileSync } from 'node:fs';

const file = process.env.SAFEHOUSE_E2E_MONOTONIC_FILE;
const perf = globalThis.performance;
if (file) {
  const real = perf.now.bind(perf);
  let offset = 0;
  let readAt = -Infinity;
  perf.now = () => {
    const t = real();
    if (t - readAt > 100) {
      readAt = t;
      try {
        offset = Number(readFileSync(file, 'utf8').trim()) || 0;
      } catch {
        offset = 0;
      }
    }
    return t + offset;
  };
}
