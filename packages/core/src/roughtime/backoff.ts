/**
 * Retry intervals the RFC requires of clients (the transport adapters and the client apply
 * them; this library never sleeps).
 */
import { aint } from './bytes.js';

const DAY_MS = 86_400_000;

/**
 * RFC 10049 §5: after n failed queries wait at least min(1.5^(n-1), 86400) seconds; do not reset
 * the count until a properly signed response arrives.
 */
export function queryRetryDelayMs(failures: number): number {
  const n = aint('failures', failures, 1, Number.MAX_SAFE_INTEGER);
  return Math.min(1000 * 1.5 ** (n - 1), DAY_MS);
}

/** RFC 10049 §8.4.2: malfeasance reports back off from 10 s: min(10 × 1.5^(n-1), 86400) seconds. */
export function reportRetryDelayMs(failures: number): number {
  const n = aint('failures', failures, 1, Number.MAX_SAFE_INTEGER);
  return Math.min(10_000 * 1.5 ** (n - 1), DAY_MS);
}
