/**
 * The admin console on `safehouse serve`'s standard input, with real processes: `serve --json`
 * and `join --json` members. What each test proves is in its name; together: the printed link is
 * the default room's, the admin is a member that reads only its own conversations, /kick removes
 * by an MLS commit and closes the connection, /ban refuses the key and look-alikes of the name,
 * members cannot take a look-alike of the admin's name, and /quit tells everyone and exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';
import { inviteOf, ready } from './src/ops.js';

let server: Server;
let alice: Member, bob: Member, carol: Member;
let link = '';
const extra: Member[] = [];

beforeAll(async () => {
  server = await startServe();
  link = inviteOf(server);
  alice = startJoin(link, 'alice');
  await alice.waitFor((e) => e.type === 'joined', 30_000, 'alice joined');
  bob = startJoin(link, 'bob');
  await bob.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');
  carol = startJoin(link, 'carol');
  await carol.waitFor((e) => e.type === 'joined', 30_000, 'carol joined');
  await server.waitFor((e) => e.type === 'member-joined' && e.name === 'carol', 30_000, 'the admin sees carol');
});

afterAll(async () => {
  for (const p of [alice, bob, carol, ...extra]) p?.kill('SIGKILL');
  server?.kill('SIGTERM');
  await server?.exited;
});

describe('admin console', () => {
  it('the printed link is the default room, whose first member is the admin', () => {
    const r = ready(server);
    expect(link).toMatch(/#r=[A-Za-z0-9_-]{22}&k=/);
    expect(link.startsWith(String(r.url))).toBe(true);
    expect(r.admin).toMatch(/^(\d{5} ){11}\d{5}$/);
    const joined = alice.events.find((e) => e.type === 'joined');
    expect(server.events.find((e) => e.type === 'joined')?.room).toBe(joined?.room);
  });

  it('/users lists the members with their fingerprints', async () => {
    server.send('/users');
    const ev = await server.waitFor((e) => e.type === 'admin-users', 10_000, '/users');
    const users = ev.users as { name: string; fingerprint: string }[];
    expect(users.map((u) => u.name).sort()).toEqual(['alice', 'bob', 'carol']);
    const aliceFp = alice.events.find((e) => e.type === 'fingerprint')?.fingerprint;
    expect(users.find((u) => u.name === 'alice')?.fingerprint).toBe(aliceFp);
  });

  it("@all reaches every member from the admin; a member's room message reaches the admin console", async () => {
    server.send('@all hello from the admin');
    for (const m of [alice, bob, carol]) {
      const ev = await m.waitFor((e) => e.type === 'message' && e.text === 'hello from the admin', 20_000, '@all');
      expect(ev).toMatchObject({ from: 'ADMIN', direct: false });
    }
    alice.send('hi admin');
    const got = await server.waitFor(
      (e) => e.type === 'message' && e.text === 'hi admin',
      20_000,
      'alice at the admin',
    );
    expect(got.from).toBe('alice');
  });

  it('@NAME is a direct message to that member only', async () => {
    server.send('@bob just for you');
    const ev = await bob.waitFor((e) => e.type === 'message' && e.text === 'just for you', 30_000, 'the DM');
    expect(ev).toMatchObject({ from: 'ADMIN', direct: true });
    // The marker: a message from the admin to all, after the direct one.
    server.send('@all after the direct message');
    for (const m of [alice, carol]) await m.waitFor((e) => e.type === 'message' && e.text === 'after the direct message', 20_000, 'the marker');
    expect(alice.events.some((e) => e.text === 'just for you')).toBe(false);
    expect(carol.events.some((e) => e.text === 'just for you')).toBe(false);
  });

  it('/key shows the admin fingerprint; /help lists the commands; an unknown command is an error with a code', async () => {
    server.send('/key');
    const key = await server.waitFor((e) => e.type === 'key', 10_000, '/key');
    expect(key.fingerprint).toBe(ready(server).admin);
    server.send('/help');
    const help = await server.waitFor((e) => e.type === 'help', 10_000, '/help');
    expect(String(help.text)).toMatch(/\/kick NAME[\s\S]*\/ban NAME[\s\S]*\/quit/);
    server.send('/frobnicate');
    await server.waitFor((e) => e.type === 'error' && e.code === 'E_UNKNOWN_COMMAND', 10_000, 'the error');
  });

  it("members cannot take a look-alike of the admin's name", async () => {
    for (const name of ['ADMIN', 'ADMlN', 'admin', 'АDMIN' /* Cyrillic А */]) {
      const m = startJoin(link, name);
      extra.push(m);
      const err = await m.waitFor(
        (e) => e.type === 'error' && (e.code === 'E_NAME_TAKEN' || e.code === 'E_NAME_INVALID'),
        30_000,
        `${name} refused`,
      );
      expect(err.code, name).toBe('E_NAME_TAKEN');
    }
  });

  it('/kick removes the member by an MLS commit and closes its connection; the others read on without it', async () => {
    server.send('/kick alice');
    await server.waitFor((e) => e.type === 'kicked' && e.name === 'alice', 10_000, 'kicked');
    await alice.waitFor((e) => e.type === 'left' && e.reason === 'removed', 20_000, 'alice removed');
    await bob.waitFor((e) => e.type === 'member-left' && e.name === 'alice', 20_000, 'bob sees alice go');
    const closed = await server.waitFor((e) => e.type === 'disconnected' && e.name === 'alice', 20_000, 'disconnected');
    expect(closed.connections).toBe(1);
    await alice.waitFor((e) => e.type === 'error' && e.code === 'E_KICKED', 20_000, 'alice told E_KICKED');
    server.send('@all after the kick');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'after the kick', 20_000, 'bob reads on');
    await new Promise((r) => setTimeout(r, 500));
    expect(alice.events.some((e) => e.text === 'after the kick')).toBe(false);
  });

  it('/ban removes the member, changes the link (the old one admits nobody), and refuses its name (and look-alikes) until the server stops', async () => {
    // The kick before changed the link too: the ban's new link is the next one.
    const before = new Set(server.events.filter((e) => e.type === 'invite-changed').map((e) => String(e.link)));
    server.send('/ban carol');
    await server.waitFor((e) => e.type === 'banned' && e.name === 'carol', 20_000, 'banned');
    await carol.waitFor((e) => e.type === 'left' && e.reason === 'removed', 20_000, 'carol removed');
    const changed = await server.waitFor((e) => e.type === 'invite-changed' && !before.has(String(e.link)), 20_000, 'the new link');
    const fresh = String(changed.link);
    expect(fresh).not.toBe(link);
    // Banned under any look-alike name, even with the new link.
    for (const name of ['carol', 'CAROL', 'car0l']) {
      const again = startJoin(fresh, name);
      extra.push(again);
      await again.waitFor((e) => e.type === 'error' && e.code === 'E_BANNED', 30_000, `${name} refused as banned`);
      expect(again.events.some((e) => e.type === 'joined')).toBe(false);
    }
    // The old link (which carol kept) admits nobody, under any name.
    const stranger = startJoin(link, 'erin');
    extra.push(stranger);
    await stranger.waitFor((e) => e.type === 'error' && e.code === 'E_LINK_REVOKED', 30_000, 'the old link refused');
    expect(stranger.events.some((e) => e.type === 'joined')).toBe(false);
    const dave = startJoin(fresh, 'dave');
    extra.push(dave);
    await dave.waitFor((e) => e.type === 'joined', 30_000, 'dave admitted with the new link');
  });

  it('/quit tells every client the server is closing, and exits 0', async () => {
    server.send('/quit');
    expect(await server.exited).toBe(0);
    expect(server.events.some((e) => e.type === 'stopped')).toBe(true);
    await bob.waitFor((e) => e.type === 'info' && /shutting down/.test(String(e.message)), 10_000, 'bob told');
  });
});
