/**
 * The chat screen rendered by ink into a fake terminal (ink-testing-library), driven by a
 * scripted client: layout at 100×30, 80×24 and 40×20, keys, the banner, the QR overlay.
 */
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App, type Size } from './app.js';
import { FakeClient } from './fake-client.js';
import { Session } from './session.js';
import { width } from './wrap.js';

const FP = '11111 22222 33333 44444 55555 66666 77777 88888 99999 00000 12345 67890';
const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));
const KEY = {
  up: '\x1b[A',
  down: '\x1b[B',
  pageUp: '\x1b[5~',
  pageDown: '\x1b[6~',
  esc: '\x1b',
  enter: '\r',
  ctrlD: '\x04',
  ctrlN: '\x0e',
  tab: '\t',
};

let unmount: (() => void) | undefined;
/** Waits (under load, a frame can lag the event that asked for it) until the screen shows `text`, or not. */
const WAIT = { timeout: 3000, interval: 10 };
const see = (frame: () => string, text: string | RegExp): Promise<void> =>
  vi.waitFor(
    () => void (typeof text === 'string' ? expect(frame()).toContain(text) : expect(frame()).toMatch(text)),
    WAIT,
  );
const notSee = (frame: () => string, text: string): Promise<void> =>
  vi.waitFor(() => void expect(frame()).not.toContain(text), WAIT);
afterEach(() => unmount?.());

async function open(size: Size = { columns: 100, rows: 30 }) {
  const client = new FakeClient('alice');
  const session = new Session(client, undefined, { refreshMs: 1 });
  const r = render(createElement(App, { session, size }));
  unmount = r.unmount;
  session.start();
  client.emit({ type: 'fingerprint', name: 'alice', fingerprint: FP });
  client.emit({ type: 'connection', state: 'connected', restarted: false });
  client.emit({ type: 'joined', room: 'r1', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
  client.emit({ type: 'member-joined', room: 'r1', roomName: 'lobby', name: 'bob', fingerprint: FP });
  await tick();
  const frame = (): string => r.lastFrame() ?? '';
  const type = async (text: string): Promise<void> => {
    r.stdin.write(text);
    await tick();
  };
  return { client, session, frame, type, stdin: r.stdin, stdout: r.stdout };
}

function say(client: FakeClient, from: string, text: string, extra: object = {}): void {
  client.emit({
    type: 'message',
    id: `${from}-${text}`,
    room: 'r1',
    roomName: 'lobby',
    from,
    fingerprint: FP,
    text,
    ts: 0,
    direct: false,
    ...extra,
  });
}

describe('terminal UI', () => {
  it('shows messages, the members with their state, rooms and the status bar at 100×30', async () => {
    const { client, frame } = await open();
    say(client, 'bob', 'hello alice');
    say(client, 'alice', 'hi bob', { self: true });
    say(client, 'bob', 'waves', { action: true });
    client.emit({ type: 'room-code', room: 'r1', roomName: 'lobby', code: '1234 5678 9012 3456', epoch: 2 });
    await see(frame, 'code 1234 5678 9012 3456');
    const f = frame();
    expect(f).toContain('bob: hello alice');
    expect(f).toContain('alice: hi bob');
    expect(f).toContain('* bob waves');
    expect(f).toMatch(/Members \(2\)/);
    expect(f).toContain('· bob');
    expect(f).toContain('#lobby');
    expect(f).toContain('● connected');
    const lines = f.split('\n');
    expect(lines).toHaveLength(29);
    for (const l of lines) expect(width(l)).toBeLessThanOrEqual(100);
  });

  it('hides the side pane at 40×20 and keeps every line within 40 columns', async () => {
    const { client, frame } = await open({ columns: 40, rows: 20 });
    say(client, 'bob', '你好 مرحبا 👋 a long line with wide characters that has to wrap several times here');
    await see(frame, 'here');
    const f = frame();
    expect(f).not.toContain('Members');
    expect(f).toContain('#lobby');
    const lines = f.split('\n');
    expect(lines).toHaveLength(19);
    for (const l of lines) expect(width(l)).toBeLessThanOrEqual(40);
    expect(f).toContain('👋');
    client.emit({ type: 'key-changed', room: 'r1', roomName: 'lobby', name: 'bob', message: 'bob has a new key' });
    await see(frame, 'KEY CHANGED');
    const b = frame();
    expect(b.replace(/\s+/g, ' ')).toContain('KEY CHANGED: bob (in lobby)');
    expect(b.split('\n')).toHaveLength(19);
    for (const l of b.split('\n')) expect(width(l)).toBeLessThanOrEqual(40);
  });

  it('sends what is typed to the client, with history on Up/Down', async () => {
    const { client, type, frame } = await open();
    await type('first line');
    await type(KEY.enter);
    await type('/me waves');
    await type(KEY.enter);
    await vi.waitFor(
      () => expect(client.lines.filter((l) => !['/users', '/code'].includes(l))).toEqual(['first line', '/me waves']),
      WAIT,
    );
    await type(KEY.up);
    await type(KEY.up);
    await see(frame, '› first line');
    await type(KEY.down);
    await see(frame, '› /me waves');
    // Text and Enter in one read (a fast link): still one line sent.
    await type('x');
    await type(KEY.down);
    await type('together\r');
    await vi.waitFor(() => expect(client.lines.at(-1)).toBe('together'), WAIT);
  });

  it('Tab completes a member name', async () => {
    const { client, type } = await open();
    await type('/verify b');
    await type(KEY.tab);
    await type(KEY.enter);
    await vi.waitFor(() => expect(client.lines).toContain('/verify bob '), WAIT);
  });

  it('PageUp scrolls back, PageDown returns', async () => {
    const { client, type, frame } = await open({ columns: 80, rows: 24 });
    for (let i = 0; i < 60; i++) say(client, 'bob', `line ${i}`);
    await tick();
    await see(frame, 'line 59');
    await type(KEY.pageUp);
    await notSee(frame, 'line 59');
    await see(frame, /more lines below/);
    await type(KEY.pageDown);
    await see(frame, 'line 59');
  });

  it('a key change is a banner that cannot be missed; Esc hides it', async () => {
    const { client, type, frame } = await open();
    client.emit({ type: 'key-changed', room: 'r1', roomName: 'lobby', name: 'bob', message: 'bob has a new key' });
    await tick();
    await see(frame, 'KEY CHANGED: bob (in lobby) has a new key');
    await see(frame, '! bob');
    await see(frame, '! key changed: bob');
    await type(KEY.esc);
    await notSee(frame, 'KEY CHANGED: bob (in lobby)');
    await see(frame, '! bob');
  });

  it('/invite shows the link with its QR code over the chat; Esc goes back', async () => {
    const { client, type, frame, stdout } = await open();
    const link =
      'http://127.0.0.1:8090/abc/#r=AAAAAAAAAAAAAAAAAAAAAA&k=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB&f=CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC';
    client.onCommand = (line) => {
      if (line === '/invite') client.emit({ type: 'invite', room: 'r1', roomName: 'lobby', link });
    };
    await type('/invite');
    await type(KEY.enter);
    await see(frame, 'Invite to lobby');
    await see(frame, '█▀▀▀▀▀▀▀█');
    // c copies our own link with OSC 52 (base64: nothing in it is a control sequence).
    await type('c');
    expect(stdout.frames.some((f) => f.includes(`\x1b]52;c;${Buffer.from(link).toString('base64')}\x07`))).toBe(true);
    await see(frame, 'sent to the clipboard');
    await type(KEY.esc);
    await notSee(frame, 'Invite to lobby');
    await see(frame, link.slice(0, 40));
  });

  it('at 40×20: a fingerprint QR code fits; an invite QR code says how large the terminal must be', async () => {
    const { client, type, frame } = await open({ columns: 40, rows: 20 });
    client.onCommand = (line) => {
      if (line === '/fingerprint') client.emit({ type: 'fingerprint', name: 'alice', fingerprint: FP });
      if (line === '/invite')
        client.emit({
          type: 'invite',
          room: 'r1',
          roomName: 'lobby',
          link: `http://127.0.0.1:8090/abc/#r=${'A'.repeat(150)}`,
        });
    };
    await type('/fingerprint\r');
    await see(frame, 'Your fingerprint (alice)');
    await see(frame, '█▀▀▀▀▀▀▀█');
    await see(frame, '11111 22222 33333 44444');
    await type(KEY.esc);
    await type('/invite\r');
    await vi.waitFor(
      () => expect(frame().replace(/\s+/g, ' ')).toMatch(/The QR code needs a terminal of \d+×\d+; this one is 40×20/),
      WAIT,
    );
    for (const l of frame().split('\n')) expect(width(l)).toBeLessThanOrEqual(40);
  });

  it('/quit and Ctrl-D leave through the client', async () => {
    const a = await open();
    await a.type('/quit');
    await a.type(KEY.enter);
    await a.session.done;
    expect(a.client.quitCalls).toBe(1);
    unmount?.();
    const b = await open();
    await b.type(KEY.ctrlD);
    await b.session.done;
    expect(b.client.quitCalls).toBe(1);
  });

  it('escape sequences from a peer are shown as visible characters, never sent', async () => {
    const { client, frame } = await open();
    say(client, 'bob', 'x\x1b[2J\x1b]0;pwned\x07\x1b]52;c;aGk=\x07');
    await tick();
    await see(frame, '␛[2J␛]0;pwned␇');
    await notSee(frame, '\x1b]');
    await notSee(frame, '\x1b[2J');
  });
});

describe('terminal UI, edge cases', () => {
  it('scrolled back, the view stays put while messages arrive; a tiny terminal does not crash', async () => {
    const { client, type, frame } = await open({ columns: 80, rows: 24 });
    for (let i = 0; i < 60; i++) say(client, 'bob', `line ${i}`);
    await tick();
    await type(KEY.pageUp);
    await see(frame, 'more lines below');
    const before = frame().split('\n').slice(0, 10).join('\n');
    say(client, 'bob', 'new while scrolled');
    await tick();
    expect(frame().split('\n').slice(0, 10).join('\n')).toBe(before);
    unmount?.();
    const tiny = await open({ columns: 20, rows: 6 });
    say(tiny.client, 'bob', 'still here in a tiny terminal');
    await tick();
    await see(tiny.frame, 'terminal');
  });

  it('after the last room is gone the status bar says what to do', async () => {
    const { client, frame } = await open();
    client.emit({ type: 'left', room: 'r1', roomName: 'lobby', reason: 'timeout' });
    client.current = undefined;
    await tick();
    await see(frame, 'no room: /join LINK or /room create NAME');
    await see(frame, 'no member admitted you in time: lobby');
  });
});

describe('new rooms', () => {
  it('/room create shows the new room with its invite QR code, and the room list gains it', async () => {
    const { client, type, frame } = await open();
    client.onCommand = (line) => {
      if (line !== '/room create ops') return;
      client.emit({ type: 'joined', room: 'r2', roomName: 'ops', name: 'alice', fingerprint: FP, direct: false });
      client.current = 'r2';
      client.emit({ type: 'invite', room: 'r2', roomName: 'ops', link: 'http://127.0.0.1:8090/abc/#r=ops' });
    };
    await type('/room create ops\r');
    await see(frame, 'Invite to ops');
    await type(KEY.esc);
    await see(frame, '#ops');
    await see(frame, '#lobby');
    await see(frame, 'you are in ops as alice');
  });
});

describe('resizing', () => {
  it('lays itself out again for the new size (the store is read before ink redraws)', async () => {
    const { EventEmitter } = await import('node:events');
    const { terminalSizeStore } = await import('./app.js');
    const fake = Object.assign(new EventEmitter(), { columns: 100, rows: 30 });
    const sizes = terminalSizeStore(fake as unknown as NodeJS.WriteStream);
    expect(sizes.get()).toBe(sizes.get()); // a stable snapshot
    const client = new FakeClient('alice');
    const session = new Session(client, undefined, { refreshMs: 1 });
    const r = render(createElement(App, { session, sizes }));
    unmount = r.unmount;
    client.emit({ type: 'joined', room: 'r1', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    await tick();
    expect(r.lastFrame()).toContain('Members');
    expect(r.lastFrame()!.split('\n')).toHaveLength(29);
    fake.columns = 40;
    fake.rows = 20;
    fake.emit('resize');
    await tick(120);
    expect(sizes.get()).toMatchObject({ columns: 40, rows: 20, resizes: 1 });
    expect(r.lastFrame()).not.toContain('Members');
    expect(r.lastFrame()!.split('\n')).toHaveLength(19);
    sizes.close();
    expect(fake.listenerCount('resize')).toBe(0);
  });
});
