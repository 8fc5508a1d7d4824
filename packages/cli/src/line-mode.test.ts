/**
 * Line mode and `--json` on a REAL client and relay, with real peers: lines in, the view printed
 * out (each item once), or the events as JSON; `/quit` leaves.
 */
import { PassThrough } from 'node:stream';
import type { ClientEvent, TimeSource } from '@safehouse/core/client';
import type { CurrentTime } from '@safehouse/core/roughtime';
import type { RunningServer } from '@safehouse/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runLines } from './line-mode.js';
import { Member, until, World } from './testing/members.js';

let world: World;
let server: RunningServer;
beforeAll(async () => {
  world = new World();
  server = await world.server();
});
afterAll(() => world.end());
afterEach(() => Promise.all(world.members.splice(0).map((m) => m.client.quit({ timeoutMs: 300 }))));

/** `name` in line mode on `link`: what it printed, and its input. */
function lineMode(
  name: string,
  link: string,
  options: { json?: boolean; member?: ConstructorParameters<typeof Member>[2] } = {},
) {
  const member = new Member(name, link, options.member);
  world.members.push(member);
  const input = new PassThrough();
  let out = '';
  const ended = runLines(member.client, { input, write: (t) => void (out += t), json: options.json === true });
  return { member, input, out: () => out, ended, say: (line: string) => void input.write(`${line}\n`) };
}

const count = (text: string, part: string): number => text.split(part).length - 1;

/** Proven time from the real clock, ±100 ms, switchable off. */
function switchableTime(): TimeSource & { up: boolean } {
  const t = {
    up: true,
    current(): CurrentTime {
      return t.up
        ? { kind: 'bounds', earliestMs: Date.now() - 100, latestMs: Date.now() + 100, ageMs: 0 }
        : { kind: 'none' };
    },
    refresh: () => Promise.resolve({ ok: t.up }),
  };
  return t;
}

describe('line mode', () => {
  it('prints the view as it grows: notices, messages, rooms other than the current one tagged; escapes as text; /quit leaves', async () => {
    const alice = lineMode('alice', server.url);
    await until(() => alice.out().includes('-- you are in lobby as alice'), 'alice in her room');
    await until(() => alice.member.of('invite').length === 1, 'the invite');
    expect(alice.out()).toContain('-- invite link for lobby');
    const bob = await world.member('bob', alice.member.of('invite')[0]!.link);
    await until(() => alice.out().includes('-- bob joined lobby'), 'bob joined');
    await bob.client.command('x\x1b[2J\x1b]0;pwned\x07 hello');
    await until(() => alice.out().includes('<bob> x␛[2J␛]0;pwned␇ hello'), 'the escapes as text');
    alice.say('hi bob');
    await until(() => bob.texts().includes('hi bob'), 'alice → bob');
    alice.say('/room create ops');
    await until(() => alice.out().includes('-- now in ops'), 'the new room current');
    await bob.client.command('back in the lobby');
    await until(() => alice.out().includes('[lobby] <bob> back in the lobby'), 'a message of another room, tagged');
    alice.say('/switch lobby');
    await until(() => alice.out().includes('-- now in lobby'), 'switched');
    alice.say('/quit');
    expect(await alice.ended).toEqual({ fatal: undefined });
    await until(() => bob.of('member-left').some((e) => e.name === 'alice'), 'alice gone');
    // Nothing but printable text and newlines.
    expect([...alice.out()].filter((c) => c !== '\n' && (c.codePointAt(0)! < 0x20 || c === '\x7f'))).toEqual([]);
    // Each item once.
    expect(count(alice.out(), '-- bob joined lobby')).toBe(1);
  });

  it(
    'a timed message is printed once: not again when time is proven again; one that came unproven is printed once proven',
    { timeout: 60_000 },
    async () => {
      const time = switchableTime();
      const alice = lineMode('alice', server.url, { member: { timeSource: time } });
      await until(() => alice.member.of('invite').length === 1, 'the invite');
      const bob = await world.member('bob', alice.member.of('invite')[0]!.link, { timeSource: switchableTime() });
      await until(() => alice.out().includes('-- bob joined lobby'), 'bob joined');
      await until(() => bob.of('joined').length === 1, 'bob admitted');
      await bob.client.command('/ttl 1h');
      await until(() => alice.member.of('ttl').length === 1, 'the timer');
      await bob.client.command('secret');
      await until(() => alice.out().includes('<bob> secret [expires'), 'the timed message');
      time.up = false;
      await until(() => alice.member.of('time').some((e) => e.state === 'unproven'), 'time unproven', 10_000);
      await bob.client.command('while unproven');
      // Held by the client's expiry keeper while time is unproven: nothing to print yet.
      await new Promise((r) => setTimeout(r, 500));
      expect(alice.out()).not.toContain('while unproven');
      time.up = true;
      await until(() => alice.out().includes('<bob> while unproven [expires'), 'printed once proven', 10_000);
      await until(
        () => alice.member.of('message').filter((m) => m.text === 'secret').length === 2,
        'the keeper showing it again',
      );
      expect(count(alice.out(), '<bob> secret')).toBe(1);
      expect(count(alice.out(), '<bob> while unproven')).toBe(1);

      await bob.client.command('/ttl 1s');
      await until(() => alice.member.of('ttl').length === 2, 'the short timer');
      await bob.client.command('short-lived');
      await until(() => alice.out().includes('<bob> short-lived'), 'the short-lived message');
      await until(() => alice.out().includes('-- a timed message expired'), 'its expiry said', 10_000);
      alice.say('/quit');
      await alice.ended;
    },
  );
});

describe('--json', () => {
  it('writes the events; a line typed before a member admitted this device is sent once admitted', async () => {
    const bob = await world.member('bob', server.url);
    await until(() => bob.of('invite').length === 1, 'the invite');
    const carol = lineMode('carol', bob.of('invite')[0]!.link, { json: true });
    carol.say('typed early');
    await until(() => bob.texts().includes('typed early'), 'the early line at bob');
    carol.say('/quit');
    expect(await carol.ended).toEqual({ fatal: undefined });
    const events = carol
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ClientEvent);
    expect(events.find((e) => e.type === 'joined')).toMatchObject({ roomName: 'lobby', name: 'carol' });
    expect(events.some((e) => e.type === 'message' && e.self && e.text === 'typed early')).toBe(true);
  });
});
