/**
 * Regression tests for bugs the adversarial model found (`npm run fuzz`).
 *
 * 1. `{"size":3,"cmds":[{"c":"delay","who":0,"n":2,"ms":198},…,{"c":"leave","who":4},{"c":"join"},…,{"c":"kick","who":1}]}`.
 *
 * bob proposes to leave; the relay holds that proposal back from alice (the admin), who admits
 * dave meanwhile: her commit opens a new epoch without bob's proposal, which dies with its epoch.
 * carol had scheduled the leave (it was not her turn yet) and committed it in the new epoch,
 * as a Remove of her own: a member who is not an admin removing another, which the room's policy
 * forbids, so alice and dave refused it and forked. Once alice kicked dave (which changes the
 * invite secret), neither side could re-admit the other: the room stayed split for good.
 * Expected: nobody commits a removal the policy forbids, and the room converges.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Fixture, Run, runSequence } from './runner.js';
import { checkInvariants, converge } from './invariants.js';
import { until, type Honest } from './actors.js';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await Fixture.start();
}, 30_000);
afterAll(() => fixture?.close());

it('aLeaveOvertakenByAnotherCommitDoesNotSplitTheRoom: nobody commits it by value, and the room converges', async () => {
  const run = new Run(fixture);
  try {
    await run.setup(3);
    for (const cmd of [
      { c: 'delay', who: 0, n: 2, ms: 198 }, // bob's leave proposal reaches alice late
      { c: 'leave', who: 0 }, // bob
      { c: 'join' }, // dave: alice admits him without bob's proposal
      { c: 'kick', who: 1 }, // alice kicks dave: the invite secret changes
    ] as const)
      await run.exec(cmd);
    run.stopAdversary();
    const conv = await converge(run);
    const forbidden = run.members.flatMap((m) => m.of('error').filter((e) => e.code === 'E_FORBIDDEN').map((e) => `${m.name}: ${e.message}`));
    expect({ forbidden, violations: [...conv.violations, ...checkInvariants(run)] }).toEqual({ forbidden: [], violations: [] });
  } finally {
    await run.end();
  }
}, 60_000);

/**
 * 2. `{"size":3,"cmds":[{"c":"delay","who":4,"n":2,"ms":396},{"c":"tamper","who":0,"at":3512},{"c":"leave","who":1},{"c":"replay","who":6,"k":27}]}`:
 * alice lacks carol's leave proposal (tampered), so she cannot process bob's commit of it and
 * subscribes afresh to have it again from the relay's log. She sent `unsub`, then signed her
 * `sub`: bob's first message of the new epoch, fanned out in between, reached her neither live
 * nor kept for her catch-up (about one run in two). The `unsub` now goes right before the `sub`.
 */
it('aMemberThatSubscribesAfreshMissesNothingSaidMeanwhile', async () => {
  const seq = {
    size: 3,
    cmds: [
      { c: 'delay', who: 4, n: 2, ms: 396 },
      { c: 'tamper', who: 0, at: 3512 },
      { c: 'leave', who: 1 },
      { c: 'replay', who: 6, k: 27 },
    ],
  } as const;
  const violations: string[] = [];
  for (let i = 0; i < 4; i++) violations.push(...(await runSequence(fixture, { size: seq.size, cmds: [...seq.cmds] })).violations);
  expect(violations).toEqual([]);
}, 120_000);

/**
 * 3. `{"size":3,"cmds":[{"c":"drop","who":1,"n":2},{"c":"say","who":0},{"c":"leave","who":5},{"c":"delay","who":4,"n":2,"ms":295},{"c":"dup","who":4,"n":1}]}`:
 * bob lacks carol's leave proposal (dropped), so he cannot process alice's commit of it and
 * subscribes afresh: the relay sends him its log and keeps him out until he proves the new
 * epoch. A message he wrote meanwhile was refused (`E_NOT_SUBSCRIBED`) and sent again at once,
 * with a `sub` for the epoch he was still in, refused as stale like the message: its three
 * resends were spent in a few ms, before the commits from the log were processed, and it was
 * lost (one run in about twenty). The resend now waits its turn in the room's queue.
 */
it('aMessageWrittenWhileCatchingUpIsDelivered', async () => {
  const run = new Run(fixture);
  try {
    await run.setup(3);
    const [alice, bob] = run.members as [Honest, Honest];
    await run.exec({ c: 'drop', who: 1, n: 1 }); // bob misses carol's leave proposal
    // bob writes right after alice's commit reaches him: his message is published once he
    // has unsubscribed to catch up, before he has processed the commit from the relay's log.
    let said: Promise<string> | undefined;
    const history = bob.line.history;
    const push = history.push.bind(history);
    history.push = (...frames) => {
      const n = push(...frames);
      if (!said && frames.some((f) => f.header.kind === 'commit'))
        queueMicrotask(() => {
          said = run.say(bob);
        });
      return n;
    };
    await run.exec({ c: 'leave', who: 1 }); // carol
    expect(await until(() => said !== undefined, 5_000)).toBe(true);
    const text = await said!;
    const shown = await until(() => alice.of('message').some((e) => e.text === text), 5_000);
    const errors = bob.of('error').map((e) => `${e.code}: ${e.message}`);
    expect({ shown, errors }).toEqual({ shown: true, errors: [] });
    run.stopAdversary();
    expect([...(await converge(run)).violations, ...checkInvariants(run)]).toEqual([]);
  } finally {
    await run.end();
  }
}, 60_000);

/**
 * 4. `{"size":2,"cmds":[{"c":"join"},{"c":"kick","who":1},{"c":"spliceEpoch","who":6,"k":28},{"c":"spliceEpoch","who":1,"k":2},{"c":"tamper","who":3,"at":3458},{"c":"tamper","who":3,"at":4091},{"c":"dup","who":7,"n":2}]}`
 * (about one run in twenty, under load): alice, the admin, kicks carol; her next commit changes
 * the invite secret. The relay corrupts that commit on its way to bob, live and again from its
 * log: bob cannot process it, goes on without it (a fork at his epoch), and is alone there. Both
 * asked to be re-admitted once: bob under the old secret, which alice answered as a revoked link;
 * alice under the new one, which bob cannot check. Nobody asked again: split for good.
 * Expected: a member is re-admitted under its own identity whatever secret it knows, an
 * attempt that gets no answer is made again, and the room converges.
 */
it('aMemberThatMissedTheSecretChangeIsReadmittedUnderItsOwnIdentity', async () => {
  const run = new Run(fixture);
  try {
    await run.setup(3);
    const [alice, bob] = run.members as [Honest, Honest];
    // The commit after the kick's (the secret's change) is corrupted to bob, both times it comes.
    let commits = 0;
    const history = bob.line.history;
    const push = history.push.bind(history);
    history.push = (...frames) => {
      const n = push(...frames);
      if (frames.some((f) => f.header.kind === 'commit') && ++commits === 1) {
        bob.line.arm({ kind: 'tamper', n: 1, at: 3458 });
        bob.line.arm({ kind: 'tamper', n: 1, at: 4091 });
      }
      return n;
    };
    await run.exec({ c: 'kick', who: 1 }); // carol
    const forked = await until(() => bob.of('error').some((e) => e.code === 'E_FORBIDDEN'), 10_000);
    expect(forked).toBe(true);
    run.stopAdversary();
    const conv = await converge(run);
    const readmitted = bob.of('info').some((e) => e.message.startsWith('re-admitted to'));
    expect({ readmitted, violations: [...conv.violations, ...checkInvariants(run)] }).toEqual({ readmitted: true, violations: [] });
    expect(alice.of('error')).toEqual([]);
  } finally {
    await run.end();
  }
}, 60_000);
