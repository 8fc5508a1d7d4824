/**
 * A joiner whose clock is days off makes a KeyPackage that is outside its lifetime on the
 * members' clocks (RFC 9420 §7.2). It must hear why, not wait for a join timeout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createE2ee, type E2ee } from '@safehouse/core/e2ee';
import { Scenario, until } from '../testing/scenario.js';

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.start();
});
afterEach(() => s.close());

/**
 * The real e2ee, except that join requests are made on a clock `offsetMs` away. `made` resolves
 * once the first one exists and the real clock is back (waits below must not start before).
 * The relay runs in this process too: while the request is made, it reads the skewed clock as
 * well, and nothing it does in that window depends on it (no commit is in flight).
 */
function skewedE2ee(offsetMs: number): { e2ee: E2ee; made: Promise<void> } {
  const real = createE2ee();
  const skewed = Object.create(real) as E2ee;
  let done!: () => void;
  const made = new Promise<void>((resolve) => (done = resolve));
  skewed.createJoinRequest = async (...args) => {
    const now = Date.now();
    const spy = vi.spyOn(Date, 'now').mockReturnValue(now + offsetMs);
    try {
      return await real.createJoinRequest(...args);
    } finally {
      spy.mockRestore();
      done();
    }
  };
  return { e2ee: skewed, made };
}

describe('clock skew at join', () => {
  it('aJoinerWhoseClockIsDaysBehindIsToldWhyWithEClockSkew', async () => {
    const { peer: alice, link } = await s.founder('alice');
    const skewed = skewedE2ee(-3 * 86_400_000);
    const bob = await s.joiner('bob', link, { e2ee: skewed.e2ee });
    await skewed.made;
    await until(() => bob.of('error').some((e) => e.code === 'E_CLOCK_SKEW'), 'the refusal');
    expect(bob.of('error').find((e) => e.code === 'E_CLOCK_SKEW')?.message).toMatch(/clock/);
    expect(bob.of('left')[0]).toMatchObject({ reason: 'refused' });
    expect(alice.of('member-joined')).toEqual([]);
    // The same person with a right clock gets in.
    const bob2 = await s.joiner('bob', link);
    await until(() => bob2.of('joined').length === 1, 'bob admitted with a right clock');
  });
});
