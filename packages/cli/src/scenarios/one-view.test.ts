/**
 * One client, one view (issue 13), with real clients on the real relay: the client pushes what a
 * UI shows (room snapshots, the current room) so that no UI asks; `command()` says what it did;
 * the two bugs the issue names stay fixed:
 *   - a timed message held while proven time was lost is emitted again once it is back: the view
 *     (and line mode, which prints it) shows it once;
 *   - the fatal's code is why the last room ended, not an earlier, unrelated error.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timeline, ViewStore, type ClientEvent } from '@safehouse/core/client';
import { LinePrinter } from '../line-view.js';
import { Scenario, until } from '../testing/scenario.js';
import { provenTime } from '../testing/proven-time.js';


let s: Scenario;
beforeEach(async () => {
  s = await Scenario.start();
});
afterEach(() => s.close());

describe('one client, one view', () => {
  it('aTimedMessageShownAgainAfterTimeComesBackIsPrintedAndShownOnce', async () => {
    const time = provenTime();
    const [alice, bob] = await s.room(['alice', 'bob'], { timeSource: time });
    const view = new ViewStore(bob!.client);
    const printed: string[] = [];
    const printer = new LinePrinter((t) => printed.push(t));
    view.subscribe((v, stamped) => printer.update(v, stamped));

    await alice!.client.command('/ttl 1h');
    await until(() => bob!.of('ttl').length === 1, 'the timer at bob');
    await alice!.client.command('timed hello');
    await until(() => bob!.texts().includes('timed hello'), 'the timed message');

    time.up = false;
    await until(() => bob!.of('time').some((e) => e.state === 'unproven'), 'time lost', 10_000);
    expect(timeline(view.view, bob!.client.currentRoom()).some((i) => i.kind === 'message' && i.text === 'timed hello')).toBe(false);
    time.up = true;
    // The keeper emits the held message again once time is proven again: the attack condition.
    await until(() => bob!.texts().filter((t) => t === 'timed hello').length === 2, 'the message emitted again', 10_000);
    await alice!.client.command('marker');
    await until(() => printed.some((l) => l.includes('<alice> marker')), 'the marker printed');

    expect(printed.filter((l) => l.includes('<alice> timed hello'))).toHaveLength(1);
    expect(timeline(view.view, bob!.client.currentRoom()).filter((i) => i.kind === 'message' && i.text === 'timed hello')).toHaveLength(1);
  });

  it('theFatalCodeIsWhyTheLastRoomEndedNotAnEarlierError', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    const out = await bob!.client.command('/msg nobody hi');
    expect(out).toMatchObject({ ok: false, code: 'E_UNKNOWN_MEMBER' });
    const picked = alice!.client.remove((m) => m.name === 'bob');
    expect(picked).toHaveLength(1);
    expect(await picked[0]!.landed).toBe(true);
    await until(() => bob!.of('fatal').length === 1, "bob's fatal");
    expect(bob!.last('fatal')?.code).toBe('E_KICKED');
    expect(bob!.last('left')).toMatchObject({ reason: 'removed', by: 'alice' });
  });

  it('theClientPushesMembersVerificationKeyChangesAndTheRoomCodeSoNoUiAsks', async () => {
    const { peer: alice, link } = await s.founder('alice');
    const view = new ViewStore(alice.client);
    const bob = await s.joiner('bob', link);
    await until(() => bob.of('joined').length === 1, 'bob joined');
    const room = alice.client.currentRoom()!;
    await until(() => view.view.rooms.get(room)?.members.some((m) => m.name === 'bob') === true, 'bob in alice’s snapshot');
    const state = view.view.rooms.get(room)!;
    expect(state.joined).toBe(true);
    expect(state.code).toBe(bob.of('joined')[0]?.code);
    expect(state.members.find((m) => m.name === 'bob')).toMatchObject({ verified: false, keyChanged: false, self: false });

    // /verify: the snapshot says verified, without /users.
    await alice.client.command('/verify bob');
    await until(() => view.view.rooms.get(room)?.members.find((m) => m.name === 'bob')?.verified === true, 'bob verified in the snapshot');

    // bob leaves; a new key under the name joins: keyChanged and blocked, pushed.
    await bob.client.command('/leave');
    await until(() => !view.view.rooms.get(room)!.members.some((m) => m.name === 'bob'), 'bob gone from the snapshot');
    const bob2 = await s.joiner('bob', alice.of('invite').at(-1)!.link);
    await until(() => bob2.of('joined').length === 1, 'the new bob joined', 30_000);
    await until(() => view.view.rooms.get(room)?.members.find((m) => m.name === 'bob')?.keyChanged === true, 'the key change in the snapshot');
    expect(view.view.rooms.get(room)?.members.find((m) => m.name === 'bob')?.blocked).toBe(true);
    const codeBefore = view.view.rooms.get(room)!.code;
    expect(codeBefore).toBe(bob2.of('joined')[0]?.code);

    // /trust clears it, pushed.
    const trusted = await alice.client.command('/trust bob');
    expect(trusted).toMatchObject({ ok: true, command: 'trust' });
    await until(() => view.view.rooms.get(room)?.members.find((m) => m.name === 'bob')?.keyChanged === false, 'the warning answered');
    // No UI typed /users or /code: the client was never asked.
    expect(alice.of('users')).toEqual([]);
    expect(alice.of('room-code')).toEqual([]);
  });

  it('commandSaysWhatItDidAndMessagesTypedBeforeAdmissionWaitForIt', async () => {
    const { peer: alice, link } = await s.founder('alice');
    const bob = s.peer('bob', link);
    const started = bob.client.start();
    // Typed at once: before bob is admitted. They wait inside the client and go once it is.
    const early = [bob.client.command('first'), bob.client.command('/me second')];
    await started;
    expect(await Promise.all(early)).toEqual([
      { ok: true, command: 'say' },
      { ok: true, command: 'me' },
    ]);
    await until(() => alice.texts().join('|') === 'first|second', 'both, in order, at alice');

    const users = await bob.client.command('/users');
    expect(users.ok && users.shown?.type).toBe('users');
    const code = await bob.client.command('/code');
    expect(code.ok && code.shown?.type === 'room-code' && code.shown.code).toBe(bob.of('joined')[0]?.code);
    expect(await bob.client.command('/nope')).toMatchObject({ ok: false, code: 'E_UNKNOWN_COMMAND' });
    const currents = bob.of('current').map((e: Extract<ClientEvent, { type: 'current' }>) => e.room);
    expect(currents).toEqual([bob.client.currentRoom()]);

    // /QUIT in any case: one parser decides.
    expect(await bob.client.command('/QUIT ')).toMatchObject({ ok: true, command: 'quit' });
    await until(() => alice.of('member-left').some((e) => e.name === 'bob'), 'bob left');
  });
});
