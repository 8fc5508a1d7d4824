/**
 * Test support (not built, not shipped): proven time as a client's `timeSource`, from the real
 * clock ±100 ms, that a test switches off and on (`up`: a relay dropping Roughtime, a network
 * fault) or moves (`offsetMs`: this device's proven present, ahead of the others').
 */
import type { TimeSource } from '@safehouse/core/client';
import type { CurrentTime } from '@safehouse/core/roughtime';

export type ProvenTime = TimeSource & { up: boolean; offsetMs: number };

export function provenTime(): ProvenTime {
  const t: ProvenTime = {
    up: true,
    offsetMs: 0,
    current(): CurrentTime {
      const now = Date.now() + t.offsetMs;
      return t.up ? { kind: 'bounds', earliestMs: now - 100, latestMs: now + 100, ageMs: 0 } : { kind: 'none' };
    },
    refresh: () => Promise.resolve({ ok: t.up }),
  };
  return t;
}
