/**
 * The command language end to end, direct messages and key changes, with the real e2ee on the
 * real relay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '@safehouse/core/client';
import { randomId } from '@safehouse/core/protocol';
import { createWsTransport } from '../transport/ws.js';
import { Scenario, until } from '../testing/scenario.js';

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.start();
});
afterEach(() => s.close());

describe('client commands, direct messages and keys (real e2ee, real relay)', () => {
  it('aDirectMessageReachesOnlyItsTarget', async () => {
    const [alice, bob, carol] = await s.room(['alice', 'bob', 'carol']);
    await alice!.client.command('/msg bob psst');
    await alice!.client.command('/msg bob second');
    await until(() => bob!.texts().includes('second'), 'the DMs');
    expect(bob!.of('message').filter((m) => m.direct).map((m) => m.text)).toEqual(['psst', 'second']);
    expect(bob!.of('joined').filter((j) => j.direct)).toHaveLength(1);
    await bob!.client.command('/msg alice ok');
    await until(() => alice!.texts().includes('ok'), 'the reply');
    expect(carol!.texts()).toEqual([]);
    await alice!.client.command('/msg nobody hi');
    expect(alice!.last('error')).toMatchObject({ code: 'E_UNKNOWN_MEMBER' });
  });

  it('aDirectMessageToAnAbsentPeerWaitsUntilItComesBack', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    const room = alice!.client.currentRoom()!;
    let invitations = 0;
    s.wire.outbound = (line, h) => {
      if (line.owner === alice!.label && h.t === 'pub' && h.kind === 'dm') invitations++;
      return 'pass';
    };
    // bob's connection dies, and he cannot reach the relay for a while.
    s.wire.down = true;
    bob!.line!.kill();
    await until(() => alice!.line!.presence.get(room) === 1, 'bob away (as the relay tells alice)');
    await alice!.client.command('/msg bob while you were away');
    await until(() => invitations > 0, 'the invitation sent while bob is away');
    s.wire.down = false;
    await until(() => bob!.texts().includes('while you were away'), 'the DM after bob is back');
    expect(bob!.of('message').find((m) => m.text === 'while you were away')).toMatchObject({ direct: true, from: 'alice' });
  });

  it('aChangedKeyIsAnnouncedAndAVerifiedOneBlocksSending', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    // /safety only shows the number: bob is not verified by looking.
    await alice!.client.command('/safety bob');
    const shown = alice!.last('safety-number')!;
    expect(shown).toMatchObject({ name: 'bob', verified: false });
    await alice!.client.command('/verify bob');
    const sn = alice!.last('safety-number')!;
    expect(sn).toMatchObject({ name: 'bob', verified: true, safetyNumber: shown.safetyNumber });
    await bob!.client.command('/verify alice');
    expect(bob!.last('safety-number')!.safetyNumber).toBe(sn.safetyNumber);
    // bob leaves; a new key under the name "bob" joins.
    await bob!.client.command('/leave');
    await until(() => alice!.of('member-left').length === 1, 'bob removed');
    const bob2 = await s.joiner('bob', alice!.of('invite')[0]!.link);
    await until(() => bob2.of('joined').length === 1, 'the new bob joined');
    await until(() => alice!.of('key-changed').length === 1, 'the warning');
    expect(alice!.last('key-changed')!.message).toMatch(/verified/);
    await alice!.client.command('hello?');
    expect(alice!.last('error')).toMatchObject({ code: 'E_MEMBER_BLOCKED' });
    await alice!.client.command('/trust bob');
    await alice!.client.command('hello again');
    await until(() => bob2.texts().includes('hello again'), 'sent after /trust');
    expect(bob2.texts()).not.toContain('hello?');
  });

  it('commandsAnswerWithEvents', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    await alice!.client.command('/code');
    await bob!.client.command('/code');
    expect(alice!.last('room-code')!.code).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    expect(alice!.last('room-code')!.code).toBe(bob!.last('room-code')!.code);
    await alice!.client.command('/help');
    expect(alice!.last('help')!.text).toContain('/msg NAME TEXT');
    await alice!.client.command('/fingerprint');
    expect(alice!.last('fingerprint')!.name).toBe('alice');
    await alice!.client.command('/room create ops');
    await until(() => alice!.of('invite').length === 2, 'second invite');
    await alice!.client.command('/rooms');
    expect(alice!.last('rooms')!.rooms.map((r) => [r.roomName, r.current])).toEqual([
      ['lobby', false],
      ['ops', true],
    ]);
    await alice!.client.command('/switch lobby');
    expect(alice!.last('switched')!.roomName).toBe('lobby');
    await alice!.client.command('/switch nowhere');
    expect(alice!.last('error')).toMatchObject({ code: 'E_NO_ROOM' });
    await alice!.client.command('/bogus');
    expect(alice!.last('error')).toMatchObject({ code: 'E_UNKNOWN_COMMAND' });
    await alice!.client.command('/room create bad name');
    expect(alice!.last('error')).toMatchObject({ code: 'E_USAGE' });
    await alice!.client.command('/room create b\u202eoss');
    expect(alice!.last('error')).toMatchObject({ code: 'E_NAME_INVALID' });
    await alice!.client.command('x'.repeat(17_000));
    expect(alice!.last('error')).toMatchObject({ code: 'E_TEXT_TOO_LONG' });
    await alice!.client.command('/join http://127.0.0.1:9999/other/#r=' + randomId());
    expect(alice!.last('error')).toMatchObject({ code: 'E_BAD_LINK' });
  });

  it('inviteShowsTheCurrentRoomsLinkAndAnyMemberCanShareIt', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    const room = alice!.client.currentRoom()!;
    await bob!.client.command('/invite');
    const inv = bob!.last('invite')!;
    expect(inv).toMatchObject({ room, roomName: 'lobby' });
    expect(inv.link).toContain('#');
    // bob's link names bob as the inviter; carol gets in with it.
    const carol = await s.joiner('carol', inv.link);
    await until(() => carol.of('joined').length === 1, 'carol admitted with the link bob showed');
    expect(carol.last('joined')!.room).toBe(room);
    await alice!.client.command('/invite extra');
    expect(alice!.last('error')).toMatchObject({ code: 'E_USAGE' });
    // A direct room has no link.
    await alice!.client.command('/msg bob psst');
    await until(() => bob!.texts().includes('psst'), 'the DM');
    await alice!.client.command('/rooms');
    const dm = alice!.last('rooms')!.rooms.find((r) => r.direct)!;
    await alice!.client.command(`/switch ${dm.room}`);
    await alice!.client.command('/invite');
    expect(alice!.last('error')).toMatchObject({ code: 'E_USAGE' });
  });

  it('rejectsABadNameOrLinkUpFront', () => {
    expect(() => createClient({ transport: createWsTransport(), name: 'a b', link: s.url })).toThrow(expect.objectContaining({ code: 'E_NAME_INVALID' }));
    expect(() => createClient({ transport: createWsTransport(), name: 'ok', link: 'nope' })).toThrow(expect.objectContaining({ code: 'E_BAD_LINK' }));
  });
});
