/**
 * The session on a REAL client and relay: it follows the client through the view only (members,
 * the room code, the current room come from what the client pushes), gives the client nothing
 * but what was typed, and leaves once, or at once when leaving hangs.
 */
import { createClient } from '@safehouse/core/client';
import { afterEach, describe, expect, it } from 'vitest';
import { until, World, type Member } from '../testing/members.js';
import { createWsTransport } from '../transport/ws.js';
import { Session } from './session.js';
import { bannerWarnings, paneItems, unreadElsewhere } from './pane.js';

let world: World;
afterEach(() => world?.end());

/** A session over a real client on `link`, recording what the client was given. */
function session(name: string, link: string): { s: Session; commands: string[] } {
  const client = createClient({
    transport: createWsTransport(),
    name,
    link,
    timing: { rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 },
    connection: { backoffBaseMs: 100, backoffCapMs: 500 },
  });
  const commands: string[] = [];
  const command = client.command.bind(client);
  client.command = (line) => (commands.push(line), command(line));
  return { s: new Session(client, { quitTimeoutMs: 1_000 }), commands };
}

describe('Session', () => {
  it('follows the client through the view alone: members, room code, current room, what was read', async () => {
    world = new World();
    const server = await world.server();
    const { s, commands } = session('alice', server.url);
    s.start();
    await until(
      () =>
        s.getScreen().view.current !== undefined &&
        s.getScreen().view.rooms.get(s.getScreen().view.current!)?.joined === true,
      'alice in her room',
    );
    const lobby = s.getScreen().view.current!;
    const link = s.getScreen().view.rooms.get(lobby)!.invite!;
    const bob = await world.member('bob', link);
    await until(() => s.getScreen().view.rooms.get(lobby)!.members.length === 2, 'bob in the member list');
    const room = s.getScreen().view.rooms.get(lobby)!;
    expect(room.members.map((m) => [m.name, m.self, m.verified])).toEqual(
      expect.arrayContaining([
        ['alice', true, false],
        ['bob', false, false],
      ]),
    );
    expect(room.code).toMatch(/\d/);

    s.submit('/room create ops');
    await until(
      () => s.getScreen().view.rooms.size === 2 && s.getScreen().view.current !== lobby,
      'the second room current',
    );
    await until(() => s.getScreen().overlay?.title === 'Invite to ops', 'the invite QR code');
    await bob.client.command('while alice looks elsewhere');
    await until(() => unreadElsewhere(s.getScreen()) === 1, 'one unread in the lobby');
    s.cycleRoom(1);
    await until(() => s.getScreen().view.current === lobby, 'back in the lobby');
    expect(unreadElsewhere(s.getScreen())).toBe(0);
    expect(
      paneItems(s.getScreen().view).some(
        (p) => p.item.kind === 'message' && p.item.text === 'while alice looks elsewhere',
      ),
    ).toBe(true);
    expect(bannerWarnings(s.getScreen())).toEqual([]);
    expect(commands).toEqual(['/room create ops', `/switch ${lobby}`]);
    await s.quit();
  });

  it('/quit leaves once; what is typed after it is not sent', async () => {
    world = new World();
    const server = await world.server();
    const { all } = await world.room(server, ['bob']);
    const [bob] = all as [Member];
    const link = bob.of('invite')[0]!.link;
    const { s, commands } = session('alice', link);
    s.start();
    await until(() => bob.of('member-joined').some((e) => e.name === 'alice'), 'alice admitted');
    s.submit('before quitting');
    s.submit('/quit');
    s.submit('ignored after quit');
    expect(s.getScreen().quitting).toBe(true);
    expect(await s.done).toEqual({ delivered: true });
    expect(await s.quit()).toEqual({ delivered: true });
    await until(() => bob.of('member-left').some((e) => e.name === 'alice'), 'alice gone');
    expect(bob.texts()).toEqual(['before quitting']);
    expect(commands).toEqual(['before quitting']);
  });

  it('a quit that hangs (the relay is gone, a message undelivered) can be cut short', async () => {
    world = new World();
    const server = await world.server();
    const { s } = session('alice', server.url);
    s.start();
    await until(
      () => s.getScreen().view.rooms.size === 1 && s.getScreen().view.connection.state === 'connected',
      'alice connected in her room',
    );
    await server.close();
    world.servers.splice(0);
    await until(() => s.getScreen().view.connection.state !== 'connected', 'the connection lost');
    s.submit('never delivered');
    const quitting = s.quit();
    expect(s.getScreen().quitting).toBe(true);
    s.abort();
    expect(await s.done).toEqual({ delivered: false });
    expect(await quitting).toEqual({ delivered: false });
  });
});
