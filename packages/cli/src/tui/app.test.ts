/**
 * The chat screen as a user has it: ink draws it into a fake terminal, over a REAL client on the
 * real relay, with real clients as peers (testing/tui.ts). Layout at 100×30, 80×24 and 40×20,
 * keys, the banner, QR codes, rooms, timed messages; and the UI gives the client only what was
 * typed: what it draws comes from the view (no `/users` or `/code` asked behind the user's back).
 */
import type { TimeSource } from '@safehouse/core/client';
import type { CurrentTime } from '@safehouse/core/roughtime';
import type { RunningServer } from '@safehouse/server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { roomOf, until, World, type Member } from '../testing/members.js';
import { KEY, openTui, type Tui } from '../testing/tui.js';
import { width } from './wrap.js';

let world: World;
let server: RunningServer;
const tuis: Tui[] = [];

beforeAll(async () => {
  world = new World();
  server = await world.server();
});
afterAll(() => world.end());
afterEach(async () => {
  await Promise.all(tuis.splice(0).map((t) => t.close()));
  await Promise.all(world.members.splice(0).map((m) => m.client.quit({ timeoutMs: 300 })));
});

/** `name`'s terminal UI in a new room, and `peers` (real clients) admitted to it. */
async function room(name: string, peers: string[], options: Parameters<typeof openTui>[3] = {}) {
  const tui = await openTui(world, name, server.url, options);
  tuis.push(tui);
  await tui.see(`you are in lobby as ${name}`);
  await until(() => tui.member.of('invite').length === 1, 'the invite link');
  const link = tui.member.of('invite')[0]!.link;
  const others: Member[] = [];
  for (const p of peers) {
    const m = await world.member(p, link, options.member ?? {});
    others.push(m);
    await until(() => m.of('joined').length === 1, `${p} admitted`);
    await until(() => tui.member.of('member-joined').some((e) => e.name === p), `${name} to see ${p}`);
  }
  return { tui, link, peers: others };
}

/** How often `text` is on screen. */
const count = (frame: string, text: string): number => frame.split(text).length - 1;

describe('terminal UI on the real client', () => {
  it('100×30: messages both ways, the members, the room code and the status bar, all from the view', async () => {
    const { tui, peers } = await room('alice', ['bob']);
    const [bob] = peers as [Member];
    await bob.client.command('hello alice');
    await tui.enter('hi bob');
    await tui.enter('/me waves');
    await tui.see('bob: hello alice');
    await tui.see('alice: hi bob');
    await tui.see('* alice waves');
    await tui.see(/Members \(2\)/);
    await tui.see('· bob');
    await tui.see('• alice (you)');
    // The room code every member compares: bob's client computed the same one.
    await until(
      () => bob.of('room-state').some((e) => e.members.length === 2 && e.code !== undefined),
      'bob’s room code',
    );
    const code = bob
      .of('room-state')
      .filter((e) => e.members.length === 2)
      .at(-1)!.code!;
    await tui.see(`code ${code}`);
    await tui.see('2 members');
    const f = tui.frame();
    expect(f).toContain('#lobby');
    expect(f).toContain('● connected');
    const lines = f.split('\n');
    expect(lines).toHaveLength(29);
    for (const l of lines) expect(width(l)).toBeLessThanOrEqual(100);
    // Only what was typed reached the client.
    expect(tui.commands).toEqual(['hi bob', '/me waves']);
  });

  it('sends lines in order, with history on Up/Down; Tab completes a name; /verify shows the QR code and marks the member verified', async () => {
    const { tui, peers } = await room('alice', ['bob']);
    const [bob] = peers as [Member];
    await tui.enter('first line');
    await tui.enter('/me waves');
    await until(() => bob.texts().includes('first line') && bob.texts().includes('waves'), 'both lines at bob');
    expect(bob.received().map((m) => m.text)).toEqual(['first line', 'waves']);
    await tui.type(KEY.up);
    await tui.type(KEY.up);
    await tui.see('› first line');
    await tui.type(KEY.down);
    await tui.see('› /me waves');
    await tui.type(KEY.down);
    // Text and Enter in one read (a fast link): still one line sent.
    await tui.type('together\r');
    await until(() => bob.texts().includes('together'), 'the line typed in one read');

    await tui.see('· bob');
    await tui.type('/verify b');
    await tui.type(KEY.tab);
    await tui.type(KEY.enter);
    await tui.see('Safety number with bob');
    await tui.see('█▀▀▀▀▀▀▀█');
    await tui.type(KEY.esc);
    await tui.notSee('Safety number with bob');
    await tui.see('✓ bob');
    await tui.see('safety number with bob: compare it with theirs over another channel');
    expect(tui.commands).toEqual(['first line', '/me waves', 'together', '/verify bob ']);
  });

  it('40×20: no side pane, wide characters wrap within 40 columns; a key change is a banner until /trust, Esc hides it', async () => {
    const { tui, link, peers } = await room('alice', ['bob'], { size: { columns: 40, rows: 20 } });
    const [bob] = peers as [Member];
    await bob.client.command('你好 مرحبا 👋 a long line with wide characters that has to wrap several times here');
    await tui.see('here');
    expect(tui.frame()).not.toContain('Members');
    expect(tui.frame()).toContain('👋');
    for (const l of tui.frame().split('\n')) expect(width(l)).toBeLessThanOrEqual(40);
    expect(tui.frame().split('\n')).toHaveLength(19);

    // bob leaves; someone else comes back as "bob" with another key.
    await bob.client.quit({ timeoutMs: 1_000 });
    await until(() => tui.member.of('member-left').some((e) => e.name === 'bob'), 'bob gone');
    const impostor = await world.member('bob', link);
    await until(() => impostor.of('joined').length === 1, 'the new bob admitted');
    await tui.see('⚠ KEY CHANGED: bob (in lobby)');
    await tui.see('! key changed');
    const b = tui.frame().split('\n');
    expect(b).toHaveLength(19);
    for (const l of b) expect(width(l)).toBeLessThanOrEqual(40);
    await tui.type(KEY.esc);
    await tui.notSee('⚠');
    await tui.see('! key changed');
    await tui.enter('/trust bob');
    await tui.notSee('! key changed');
    await tui.see('you accepted the current key of');
  });

  it('the member list shows a key change and a verified member from the room’s snapshot (100×30)', async () => {
    const { tui, link, peers } = await room('alice', ['bob', 'carol']);
    const [bob] = peers as [Member, Member];
    await tui.enter('/verify carol');
    await tui.see('Safety number with carol');
    await tui.type(KEY.esc);
    await tui.see('✓ carol');
    await bob.client.quit({ timeoutMs: 1_000 });
    await until(() => tui.member.of('member-left').some((e) => e.name === 'bob'), 'bob gone');
    await world.member('bob', link);
    await tui.see('! bob');
    await tui.see('⚠ KEY CHANGED: bob (in lobby)');
    await tui.see('✓ carol');
    expect(tui.commands).toEqual(['/verify carol']);
  });

  it('/invite shows the link with its QR code over the chat; c copies it; Esc goes back', async () => {
    const { tui } = await room('alice', []);
    const link = tui.member.of('invite')[0]!.link;
    await tui.enter('/invite');
    await tui.see('Invite to lobby');
    await tui.see('█▀▀▀▀▀▀▀█');
    // c copies our own link with OSC 52 (base64: nothing in it is a control sequence).
    await tui.type('c');
    expect(tui.stdout.frames.some((f) => f.includes(`\x1b]52;c;${Buffer.from(link).toString('base64')}\x07`))).toBe(
      true,
    );
    await tui.see('sent to the clipboard');
    await tui.type(KEY.esc);
    await tui.notSee('Invite to lobby');
    await tui.see(link.slice(0, 40));
  });

  it('at 40×20: a fingerprint QR code fits; an invite QR code says how large the terminal must be', async () => {
    const { tui } = await room('alice', [], { size: { columns: 40, rows: 20 } });
    await tui.enter('/fingerprint');
    await tui.see('Your fingerprint (alice)');
    await tui.see('█▀▀▀▀▀▀▀█');
    await tui.type(KEY.esc);
    await tui.enter('/invite');
    await vi.waitFor(
      () =>
        expect(tui.frame().replace(/\s+/g, ' ')).toMatch(/The QR code needs a terminal of \d+×\d+; this one is 40×20/),
      { timeout: 15_000 },
    );
    for (const l of tui.frame().split('\n')) expect(width(l)).toBeLessThanOrEqual(40);
  });

  it('80×24: PageUp scrolls back and stays put while messages arrive; PageDown returns', async () => {
    const { tui, peers } = await room('alice', ['bob'], { size: { columns: 80, rows: 24 } });
    const [bob] = peers as [Member];
    for (let i = 0; i < 40; i++) await bob.client.command(`line ${i}`);
    await tui.see('line 39');
    await tui.type(KEY.pageUp);
    await tui.notSee('line 39');
    await tui.see(/more lines below/);
    const before = tui.frame().split('\n').slice(0, 10).join('\n');
    await bob.client.command('new while scrolled');
    await until(() => tui.member.texts().includes('new while scrolled'), 'the new line at alice');
    await new Promise((r) => setTimeout(r, 100));
    expect(tui.frame().split('\n').slice(0, 10).join('\n')).toBe(before);
    // A page down at a time: the line that came meanwhile is one more.
    await tui.type(KEY.pageDown);
    await tui.see('1 more line below');
    await tui.type(KEY.pageDown);
    await tui.see('new while scrolled');
    await tui.notSee('more line');
  });

  it('escape sequences from a peer are shown as visible characters, never sent to the terminal', async () => {
    const { tui, peers } = await room('alice', ['bob']);
    const [bob] = peers as [Member];
    await bob.client.command('x\x1b[2J\x1b]0;pwned\x07\x1b]52;c;aGk=\x07');
    await tui.see('␛[2J␛]0;pwned␇');
    expect(
      tui.stdout.frames.some((f) => f.includes('\x1b]0;') || f.includes('\x1b[2J') || f.includes('\x1b]52;c;aGk=')),
    ).toBe(false);
  });

  it('/quit and Ctrl-D leave through the client: the others see them go', async () => {
    const a = await room('alice', ['bob']);
    const [bob] = a.peers as [Member];
    const c = await openTui(world, 'carol', a.link);
    tuis.push(c);
    await c.see('you are in lobby as carol');
    await until(() => bob.of('member-joined').some((e) => e.name === 'carol'), 'carol in');
    await a.tui.enter('last words');
    await a.tui.enter('/quit');
    await a.tui.see('… leaving');
    expect(await a.tui.session.done).toEqual({ delivered: true });
    await until(() => bob.of('member-left').some((e) => e.name === 'alice'), 'alice gone');
    expect(bob.texts()).toContain('last words');
    expect(a.tui.commands).toEqual(['last words']);

    await c.type(KEY.ctrlD);
    expect(await c.session.done).toEqual({ delivered: true });
    await until(() => bob.of('member-left').some((e) => e.name === 'carol'), 'carol gone');
    expect(c.commands).toEqual([]);
  });

  it('after the last room is gone the status bar says what to do', async () => {
    const { tui } = await room('alice', []);
    await tui.enter('/leave');
    await tui.see('no room: /join LINK or /room create NAME');
    await tui.see('left lobby: you left');
  });
});

describe('rooms', () => {
  it('/room create shows the new room’s invite QR code; unread messages elsewhere; Ctrl-N/Ctrl-P switch', async () => {
    const { tui, peers } = await room('alice', ['bob']);
    const [bob] = peers as [Member];
    const lobby = tui.member.of('joined')[0]!.room;
    await tui.enter('/room create ops');
    await tui.see('Invite to ops');
    await tui.type(KEY.esc);
    await tui.see('you are in ops as alice');
    await tui.see('›#ops');
    await tui.see(' #lobby');
    await bob.client.command('in the lobby while alice is away');
    await tui.see('1 unread (Ctrl-N)');
    await tui.see(/ #lobby +1/);
    await tui.notSee('in the lobby while alice is away');
    await tui.type(KEY.ctrlN);
    await tui.see('bob: in the lobby while alice is away');
    await tui.see('›#lobby');
    await tui.notSee('unread');
    await tui.type(KEY.ctrlP);
    await tui.see('›#ops');
    expect(tui.commands).toEqual(['/room create ops', `/switch ${lobby}`, expect.stringMatching(/^\/switch /)]);
  });

  it('a direct message from elsewhere is shown in the room on screen, tagged', { timeout: 60_000 }, async () => {
    const { tui, peers } = await room('alice', ['bob']);
    const [bob] = peers as [Member];
    await bob.client.command('/msg alice psst');
    await tui.see('[dm] bob: psst', 40_000);
    await tui.see('@bob');
    await tui.enter('/msg bob hi back');
    await tui.see('[dm → bob] alice: hi back', 20_000);
    await until(() => bob.received().some((m) => m.direct && m.text === 'hi back'), 'the reply at bob');
    // Seen where it was shown: the direct room has nothing unread.
    await tui.notSee('unread');
  });

  it('a line typed before the client started and before a member admitted this device is sent once admitted', async () => {
    const { link } = await room('bob', []);
    const carol = await openTui(world, 'carol', link, { start: false });
    tuis.push(carol);
    carol.session.submit('typed early');
    carol.session.start();
    await carol.see('(waiting to be admitted)');
    await carol.see('you are in lobby as carol');
    const bob = tuis[0]!.member;
    await until(() => bob.texts().includes('typed early'), 'the early line at bob');
    await carol.see('carol: typed early');
    expect(carol.commands).toEqual(['typed early']);
    expect(roomOf(link)).toBe(carol.session.getScreen().view.current);
  });
});

/** Proven time from the real clock, ±100 ms, switchable off. */
function switchableTime(): TimeSource & { up: boolean } {
  const s = {
    up: true,
    current(): CurrentTime {
      return s.up
        ? { kind: 'bounds', earliestMs: Date.now() - 100, latestMs: Date.now() + 100, ageMs: 0 }
        : { kind: 'none' };
    },
    refresh: () => Promise.resolve({ ok: s.up }),
  };
  return s;
}

describe('timed messages', () => {
  it(
    'hidden while time is unproven, and shown once (not twice) when it is proven again',
    { timeout: 60_000 },
    async () => {
      const time = switchableTime();
      const tui = await openTui(world, 'alice', server.url, { member: { timeSource: time } });
      tuis.push(tui);
      await tui.see('you are in lobby as alice');
      await until(() => tui.member.of('invite').length === 1, 'the invite link');
      const bob = await world.member('bob', tui.member.of('invite')[0]!.link, { timeSource: switchableTime() });
      await until(() => bob.of('joined').length === 1, 'bob admitted');
      await tui.see('· bob');
      await bob.client.command('/ttl 1h');
      await tui.see('timer 1h');
      await bob.client.command('secret');
      await tui.see('bob: secret');
      time.up = false;
      await tui.see('time not proven: timed messages hidden', 10_000);
      await tui.notSee('bob: secret');
      time.up = true;
      await tui.see('bob: secret', 10_000);
      await tui.notSee('time not proven');
      await new Promise((r) => setTimeout(r, 300));
      expect(count(tui.frame(), 'bob: secret')).toBe(1);
      // The keeper emitted it twice (same id): the view holds one entry.
      expect(tui.member.of('message').filter((m) => m.text === 'secret')).toHaveLength(2);
    },
  );
});

describe('resizing', () => {
  it('lays itself out again for the new size (the store is read before ink redraws); a tiny terminal does not crash', async () => {
    const { EventEmitter } = await import('node:events');
    const { terminalSizeStore } = await import('./app.js');
    const fake = Object.assign(new EventEmitter(), { columns: 100, rows: 30 });
    const sizes = terminalSizeStore(fake as unknown as NodeJS.WriteStream);
    expect(sizes.get()).toBe(sizes.get()); // a stable snapshot
    const tui = await openTui(world, 'alice', server.url, { sizes });
    tuis.push(tui);
    await tui.see('Members');
    expect(tui.frame().split('\n')).toHaveLength(29);
    fake.columns = 40;
    fake.rows = 20;
    fake.emit('resize');
    await tui.notSee('Members');
    expect(sizes.get()).toMatchObject({ columns: 40, rows: 20, resizes: 1 });
    await vi.waitFor(() => expect(tui.frame().split('\n')).toHaveLength(19));
    fake.columns = 20;
    fake.rows = 6;
    fake.emit('resize');
    await vi.waitFor(() => expect(tui.frame().split('\n')).toHaveLength(5));
    sizes.close();
    expect(fake.listenerCount('resize')).toBe(0);
  });
});
