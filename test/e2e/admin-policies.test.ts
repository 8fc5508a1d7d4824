/**
 * Room policies and admin options with real processes: --welcome, --disable-all (enforced by the
 * relay: E_FORBIDDEN), --only-admin (members reach the admin only), /key export + --admin-key
 * (the same identity after a restart), and --no-admin (a pure relay).
 */
import { readFileSync, statSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';
import { inviteOf, ready, TempDir } from './src/ops.js';

const procs: (Server | Member)[] = [];
const tmp = new TempDir();
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
});
afterAll(() => tmp.remove());

function join(link: string, name: string, args: string[] = []): Member {
  const m = startJoin(link, name, args);
  procs.push(m);
  return m;
}
async function serve(args: string[]): Promise<Server> {
  const s = await startServe(args);
  procs.push(s);
  return s;
}

describe('room policies', () => {
  it('--welcome: each member who joins gets the text from the admin, encrypted, as a direct message', async () => {
    const server = await serve(['--welcome', 'Welcome to the safehouse']);
    const alice = join(inviteOf(server), 'alice');
    const ev = await alice.waitFor(
      (e) => e.type === 'message' && e.text === 'Welcome to the safehouse',
      30_000,
      'the welcome',
    );
    expect(ev).toMatchObject({ from: 'ADMIN', direct: true });
  });

  it("--disable-all: the relay refuses members' posts to the default room (E_FORBIDDEN); the admin posts; members still send direct messages", async () => {
    const server = await serve(['--disable-all']);
    const link = inviteOf(server);
    const alice = join(link, 'alice');
    await alice.waitFor((e) => e.type === 'joined', 30_000, 'alice joined');
    const bob = join(link, 'bob');
    await bob.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');
    await alice.waitFor((e) => e.type === 'member-joined' && e.name === 'bob', 30_000, 'alice sees bob');
    alice.send('this should not go out');
    await alice.waitFor((e) => e.type === 'error' && e.code === 'E_FORBIDDEN', 20_000, 'the refusal');
    // The marker: the relay refused alice's message before this went out; bob reads the room in order.
    server.send('@all announcement');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'announcement', 20_000, 'the announcement');
    expect(bob.events.some((e) => e.text === 'this should not go out')).toBe(false);
    // The admin reads the room in the relay's process; the relay answered E_FORBIDDEN instead of fanning it out.
    expect(server.events.some((e) => e.text === 'this should not go out')).toBe(false);
    alice.send('/msg bob a private word');
    const dm = await bob.waitFor((e) => e.type === 'message' && e.text === 'a private word', 30_000, 'the DM');
    expect(dm).toMatchObject({ from: 'alice', direct: true });
  });

  it('--only-admin: each member ends up with a room of its own with the admin, sees only the admin, and cannot reach other members', async () => {
    const server = await serve(['--only-admin']);
    const link = inviteOf(server);
    const alice = join(link, 'alice');
    const bob = join(link, 'bob');
    for (const m of [alice, bob]) {
      await m.waitFor((e) => e.type === 'message' && e.from === 'ADMIN' && e.direct === true, 40_000, 'the greeting');
      await m.waitFor((e) => e.type === 'left' && e.reason === 'removed', 40_000, 'moved out of the default room');
    }
    alice.send('/rooms');
    const rooms = await alice.waitFor((e) => e.type === 'rooms', 10_000, '/rooms');
    expect((rooms.rooms as { direct: boolean; members: number }[]).map((r) => [r.direct, r.members])).toEqual([
      [true, 2],
    ]);
    alice.send('/users');
    const users = await alice.waitFor((e) => e.type === 'users', 10_000, '/users');
    expect((users.users as { name: string }[]).map((u) => u.name).sort()).toEqual(['ADMIN', 'alice']);
    alice.send('/msg bob are you there');
    await alice.waitFor((e) => e.type === 'error' && e.code === 'E_UNKNOWN_MEMBER', 10_000, 'bob is not visible');
    alice.send('/msg ADMIN hello admin');
    const got = await server.waitFor((e) => e.type === 'message' && e.text === 'hello admin', 20_000, 'at the admin');
    expect(got).toMatchObject({ from: 'alice', direct: true });
    server.send('@all to everyone, one by one');
    for (const m of [alice, bob])
      await m.waitFor((e) => e.type === 'message' && e.text === 'to everyone, one by one', 20_000, '@all as DMs');
    alice.send('a plain line goes to her direct room with the admin');
    await server.waitFor(
      (e) =>
        e.type === 'message' && e.from === 'alice' && e.text === 'a plain line goes to her direct room with the admin',
      20_000,
      'plain line',
    );
    expect(bob.events.some((e) => e.type === 'message' && e.from === 'alice')).toBe(false);
    server.send('/users');
    const list = await server.waitFor((e) => e.type === 'admin-users', 10_000, 'admin /users');
    expect((list.users as { name: string }[]).map((u) => u.name).sort()).toEqual(['alice', 'bob']);
  });
});

describe('admin identity and --no-admin', () => {
  it('/key export writes the admin identity (0600, encrypted); --admin-key starts with the same fingerprint', async () => {
    const pass = tmp.file('pass', 'a long passphrase\n');
    const keyFile = tmp.at('admin.key');
    const first = await serve(['--admin-key-passphrase-file', pass]);
    first.send(`/key export ${keyFile}`);
    await first.waitFor((e) => e.type === 'key-exported', 30_000, 'exported');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile).includes(Buffer.from(String(ready(first).admin)))).toBe(false);
    first.send(`/key export ${keyFile}`);
    await first.waitFor((e) => e.type === 'error' && /exists/.test(String(e.message)), 30_000, 'no overwrite');
    const second = await serve(['--admin-key', keyFile, '--admin-key-passphrase-file', pass]);
    expect(ready(second).admin).toBe(ready(first).admin);
    const wrong = tmp.file('wrong', 'not it\n');
    await expect(startServe(['--admin-key', keyFile, '--admin-key-passphrase-file', wrong])).rejects.toThrow(
      /exited with 4/,
    ); // crypto: E_IDENTITY_LOCKED
  });

  it('--no-admin: a pure relay, the link names no room, and the console takes only /quit', async () => {
    const server = await serve(['--no-admin']);
    const r = ready(server);
    expect(r.admin).toBeNull();
    expect(String(r.invite)).toBe(String(r.url));
    const alice = join(String(r.invite), 'alice');
    await alice.waitFor((e) => e.type === 'invite', 30_000, 'alice creates the room');
    server.send('/users');
    await server.waitFor((e) => e.type === 'error' && e.code === 'E_USAGE', 10_000, 'no console');
    server.send('/quit');
    expect(await server.exited).toBe(0);
  });
});
