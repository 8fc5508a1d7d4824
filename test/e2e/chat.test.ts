/**
 * Whole system, real processes: `safehouse serve` and three `safehouse join --json` members.
 * Room messages reach every other member, a direct message only its target, a member who
 * leaves receives nothing more, and piped input is delivered before exit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesOf, run, startJoin, startServe, type Member, type Server } from './src/harness.js';

let server: Server;
let alice: Member, bob: Member, carol: Member;
let link = '';
let room = '';

beforeAll(async () => {
  server = await startServe();
  alice = startJoin(server.url, 'alice');
  const inv = await alice.waitFor((e) => e.type === 'invite', 30_000, 'alice invite');
  link = String(inv.link);
  room = String(inv.room);
  bob = startJoin(link, 'bob');
  carol = startJoin(link, 'carol');
  await bob.waitFor((e) => e.type === 'joined' && e.room === room, 30_000, 'bob joined');
  await carol.waitFor((e) => e.type === 'joined' && e.room === room, 30_000, 'carol joined');
});

afterAll(async () => {
  for (const p of [alice, bob, carol]) p?.kill('SIGKILL');
  server?.kill('SIGTERM');
  await server?.exited;
});

describe('a room of three', () => {
  it('the invite link carries the room in its fragment only', () => {
    expect(link.startsWith(server.url + '#')).toBe(true);
    expect(link).toMatch(/#r=[A-Za-z0-9_-]{22}&k=/);
  });

  it('room messages reach every other member', async () => {
    alice.send('hello from alice');
    bob.send('hello from bob');
    for (const [m, from, text] of [
      [bob, 'alice', 'hello from alice'],
      [carol, 'alice', 'hello from alice'],
      [alice, 'bob', 'hello from bob'],
      [carol, 'bob', 'hello from bob'],
    ] as const) {
      const ev = await m.waitFor((e) => e.type === 'message' && e.text === text, 20_000, `${text} at ${from}`);
      expect(ev.from).toBe(from);
      expect(ev.room).toBe(room);
      expect(ev.direct).toBe(false);
      expect(typeof ev.id).toBe('string');
      expect(typeof ev.ts).toBe('number');
    }
    // own messages are echoed, never delivered back as someone else's
    expect(messagesOf(alice).filter((e) => e.text === 'hello from alice')).toHaveLength(0);
  });

  it('users lists every member', async () => {
    alice.send('/users');
    const ev = await alice.waitFor((e) => e.type === 'users', 10_000, 'users');
    const names = (ev.users as { name: string }[]).map((u) => u.name).sort();
    expect(names).toEqual(['alice', 'bob', 'carol']);
  });

  it('a direct message reaches only its target', async () => {
    alice.send('/msg bob only for bob');
    const dm = await bob.waitFor((e) => e.type === 'message' && e.text === 'only for bob', 30_000, 'dm at bob');
    expect(dm.direct).toBe(true);
    expect(dm.from).toBe('alice');
    alice.send('after the dm');
    await carol.waitFor((e) => e.type === 'message' && e.text === 'after the dm', 20_000, 'barrier at carol');
    expect(carol.events.some((e) => e.type === 'message' && e.text === 'only for bob')).toBe(false);
  });

  it('a member who leaves receives nothing more', async () => {
    carol.send('/leave');
    await alice.waitFor((e) => e.type === 'member-left' && e.name === 'carol', 30_000, 'carol left at alice');
    alice.send('after carol left');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'after carol left', 20_000, 'after-leave at bob');
    await new Promise((r) => setTimeout(r, 1000));
    expect(carol.events.some((e) => e.type === 'message' && e.text === 'after carol left')).toBe(false);
  });

  it('piped input is delivered before the process exits 0', async () => {
    const r = await run(['join', link, '--name', 'dave', '--json'], 'hi from a pipe\n', 60_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    await alice.waitFor((e) => e.type === 'message' && e.text === 'hi from a pipe' && e.from === 'dave', 20_000, 'piped hi');
  });
});
