/**
 * Regression test for a bug the adversarial model found (membership-model.test.ts, shrunk to
 * `{"size":3,"cmds":[{"c":"drop","who":0,"n":1},{"c":"leave","who":1}]}`):
 *
 * A relay that drops ONE frame — carol's leave proposal, to alice only — splits the room for
 * good. bob commits the proposal (by reference, as ts-mls does); alice never had it, so she can
 * never process that commit: she stays in the epoch before it, the relay refuses her proof of
 * membership (E_STALE_EPOCH) and hands her the same commit from its log, again and again. After
 * the relay behaves again, alice and bob never converge and never read each other again.
 * Expected (docs/protocol.md "Membership authority", THREATS H.39): once the adversary stops,
 * every online member converges on one epoch within a bounded time.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep, until } from './actors.js';
import { Fixture, Run } from './runner.js';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await Fixture.start();
}, 30_000);
afterAll(() => fixture?.close());

it('aLeaveProposalDroppedForOneMemberDoesNotSplitTheRoom: after the relay behaves again, alice processes the commit and reads bob', async () => {
  const run = new Run(fixture);
  try {
    await run.setup(3);
    const [alice, bob, carol] = run.members as [NonNullable<(typeof run.members)[0]>, NonNullable<(typeof run.members)[0]>, NonNullable<(typeof run.members)[0]>];
    alice.line.arm({ kind: 'drop', n: 1 }); // the next `msg` to alice: carol's leave proposal
    await carol.client.command('/leave');
    await until(() => bob.sawLeave('carol') !== undefined, 5_000);
    expect(bob.sawLeave('carol')).toBeDefined(); // bob committed it
    run.stopAdversary();
    // The relay behaves from here on: alice must catch up with the commit that removed carol.
    const caughtUp = await until(() => alice.sawLeave('carol') !== undefined, 10_000);
    await sleep(100);
    const text = await run.say(bob, 'marker');
    const read = await until(() => alice.events.some((e) => e.type === 'message' && e.text === text), 5_000);
    expect({ caughtUp, read }, `alice's errors: ${alice.of('error').map((e) => e.code).join(', ')}`).toEqual({ caughtUp: true, read: true });
  } finally {
    await run.end();
  }
}, 30_000);
