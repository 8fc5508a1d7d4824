/**
 * The page's state (session.ts, state.ts) over the real client: the page's own transport
 * (transport.ts) on Node's `ws` WebSocket, the real e2ee, the real relay on a real port. What
 * the page draws is asserted through the selectors its components use (`conversation`,
 * `unread`, `markerBefore`, the view's `keyWarnings`, `currentRoom`); the browser tests
 * (test/e2e/web-*.test.ts) check the drawing itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { currentRoom, itemKey, keyWarnings, type TimeSource, type ViewItem } from '@safehouse/core/client';
import { silentLogger, startServer, type RunningServer } from '@safehouse/server';
import { startSession, type Session } from './session.js';
import { conversation, markerBefore, unread, unreadTotal } from './state.js';

const servers: RunningServer[] = [];
const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => (s.page.ended ? Promise.resolve() : s.run('/quit'))));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Proven time from the real clock (±100 ms), that a test takes away and gives back. */
function provenTime(): TimeSource & { up: boolean } {
  const t = {
    up: true,
    current: (): ReturnType<TimeSource['current']> => (t.up ? { kind: 'bounds', earliestMs: Date.now() - 100, latestMs: Date.now() + 100, ageMs: 0 } : { kind: 'none' }),
    refresh: () => Promise.resolve({ ok: t.up }),
    retryDelayMs: () => 0,
  };
  return t;
}

async function relay(): Promise<RunningServer> {
  const s = await startServer({ port: 0, logger: silentLogger });
  servers.push(s);
  return s;
}

/** A page that chose `name` on the join screen of `link`. */
async function open(name: string, link: string, timeSource?: TimeSource): Promise<Session> {
  const s = await startSession({
    name,
    link,
    exportable: false,
    WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    // Faster than the protocol's defaults so the test runs in seconds; same logic.
    client: { timing: { rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 }, connection: { backoffBaseMs: 100, backoffCapMs: 500 }, ...(timeSource ? { timeSource } : {}) },
  });
  sessions.push(s);
  return s;
}

const room = (s: Session) => currentRoom(s.page.view);
const shownItems = (s: Session): ViewItem[] => conversation(s.page);
const texts = (s: Session): string[] => shownItems(s).map((i) => (i.kind === 'message' ? `${i.from}: ${i.text}` : i.kind === 'notice' ? i.text : i.title));
const messages = (s: Session): string[] => shownItems(s).flatMap((i) => (i.kind === 'message' ? [i.text] : []));

/** alice creates a room from the server's link; bob opens its invite link; both see each other. */
async function twoPages(timeSources: { alice?: TimeSource; bob?: TimeSource } = {}): Promise<{ server: RunningServer; alice: Session; bob: Session; link: string }> {
  const server = await relay();
  const alice = await open('alice', server.url, timeSources.alice);
  await until(() => room(alice)?.invite !== undefined, "alice's invite link");
  const link = room(alice)!.invite!;
  const bob = await open('bob', link, timeSources.bob);
  await until(() => room(bob)?.joined === true, 'bob admitted');
  await until(() => room(alice)!.members.length === 2 && room(bob)!.members.length === 2, 'both member lists');
  return { server, alice, bob, link };
}

describe('the page over the real client and relay', () => {
  it('two pages chat: each message shown once on both, members and notices from the view, answers in dialogs', async () => {
    const { alice, bob } = await twoPages();
    expect(texts(bob).some((t) => t.startsWith('you are in lobby as bob (room code '))).toBe(true);
    expect(texts(alice)).toContain('bob joined lobby');

    await alice.run('hello bob');
    await until(() => messages(bob).includes('hello bob'), 'the message at bob');
    await bob.run('/me waves');
    await until(() => messages(alice).includes('waves'), 'the answer at alice');
    for (const s of [alice, bob]) expect(messages(s)).toEqual(['hello bob', 'waves']);
    const echoed = shownItems(alice).find((i) => i.kind === 'message' && i.text === 'hello bob');
    expect(echoed).toMatchObject({ self: true, from: 'alice' });
    expect(shownItems(alice).find((i) => i.kind === 'message' && i.text === 'waves')).toMatchObject({ self: false, action: true, from: 'bob' });

    // Members and their verification come from the room's snapshot; no /users is asked.
    expect(room(alice)!.members.map((m) => [m.name, m.self, m.verified])).toEqual(
      expect.arrayContaining([
        ['alice', true, false],
        ['bob', false, false],
      ]),
    );

    // /verify opens the safety-number dialog from the command's outcome, and marks bob verified.
    await alice.run('/verify bob');
    expect(alice.page.dialog).toMatchObject({ kind: 'safety', name: 'bob', verified: true });
    await until(() => room(alice)!.members.find((m) => m.name === 'bob')!.verified, 'bob verified in the snapshot');
    // The dialog shows the number; the conversation does not repeat it.
    expect(shownItems(alice).some((i) => i.kind === 'block' && i.of === 'safety-number')).toBe(false);
    alice.dispatch({ type: 'dialog', dialog: undefined });

    await bob.run('/code');
    expect(bob.page.dialog).toEqual({ kind: 'code', roomName: 'lobby', code: room(bob)!.code, epoch: room(bob)!.epoch });
    await bob.run('/help');
    expect(bob.page.dialog).toMatchObject({ kind: 'help', text: expect.stringContaining('/msg NAME TEXT') });
    await bob.run('/invite');
    expect(bob.page.dialog).toMatchObject({ kind: 'invite', roomName: 'lobby', link: expect.stringMatching(/#r=/) });
    // Other answers stay in the conversation.
    await bob.run('/users');
    expect(shownItems(bob).at(-1)).toMatchObject({ kind: 'block', of: 'users', title: 'members of lobby:' });
    // A command that fails says so in the view's words; no dialog opens.
    bob.dispatch({ type: 'dialog', dialog: undefined });
    await bob.run('/verify nobody');
    expect(bob.page.dialog).toBeUndefined();
    expect(texts(bob).at(-1)).toMatch(/no member called "nobody".*\(E_UNKNOWN_MEMBER\)$/);
  });

  it('a changed key raises the banner until /trust; the member list says which', async () => {
    const { alice, bob, link } = await twoPages();
    await bob.run('/quit');
    await until(() => texts(alice).includes('bob left lobby'), 'bob gone');
    // "bob" comes back with another key (a new device, or someone else).
    const bob2 = await open('bob', link);
    await until(() => room(bob2)?.joined === true, 'the new bob admitted');
    await until(() => keyWarnings(alice.page.view).length === 1, 'the key-change warning');
    expect(keyWarnings(alice.page.view)).toEqual([{ room: room(alice)!.id, roomName: 'lobby', name: 'bob', fingerprint: room(alice)!.members.find((m) => m.name === 'bob')!.fingerprint, blocked: false }]);
    expect(room(alice)!.members.find((m) => m.name === 'bob')).toMatchObject({ keyChanged: true, verified: false });
    expect(texts(alice).some((t) => t.startsWith('KEY CHANGED:'))).toBe(true);

    // "Accept new key" types /trust: the snapshot clears the warning (no page-side bookkeeping).
    await alice.run('/trust bob');
    await until(() => keyWarnings(alice.page.view).length === 0, 'the warning cleared');
    expect(room(alice)!.members.find((m) => m.name === 'bob')).toMatchObject({ keyChanged: false });
    expect(texts(alice).at(-1)).toMatch(/^you accepted the current key of bob/);
  });

  it('a timed message is hidden while time is unproven and shown once when it is proven again', async () => {
    const aliceTime = provenTime();
    const bobTime = provenTime();
    const { alice, bob } = await twoPages({ alice: aliceTime, bob: bobTime });
    await alice.run('/ttl 1h');
    await until(() => room(bob)!.ttlMs === 3_600_000, 'the timer at bob');
    await alice.run('timed hello');
    await until(() => messages(bob).includes('timed hello'), 'the timed message at bob');
    expect(bob.page.view.time).toBe('proven');
    const seen = unreadTotal(bob.page);

    // bob's proven time goes: the message leaves his screen (it is not expired, only hidden).
    bobTime.up = false;
    await until(() => bob.page.view.time === 'unproven', 'time unproven at bob', 10_000);
    expect(messages(bob)).toEqual([]);
    // One more arrives meanwhile: held by the client, not shown.
    await alice.run('timed while unproven');
    await until(() => messages(alice).includes('timed while unproven'), 'sent');
    await new Promise((r) => setTimeout(r, 500));
    expect(messages(bob)).toEqual([]);

    // Proven again: both are shown, each once (the client emits the first one again, same id).
    bobTime.up = true;
    await until(() => bob.page.view.time === 'proven' && messages(bob).length === 2, 'both shown again', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(messages(bob)).toEqual(['timed hello', 'timed while unproven']);
    expect(unreadTotal(bob.page)).toBe(seen);
  });

  it('unread counts and the "new messages" marker follow what was on screen', async () => {
    const { alice, bob } = await twoPages();
    const lobby = room(alice)!.id;
    await alice.run('/room create ops');
    await until(() => room(alice)?.name === 'ops', 'alice in ops');
    const ops = room(alice)!.id;
    expect(alice.page.view.current).toBe(ops);

    await bob.run('first while away');
    await bob.run('second while away');
    await until(() => unread(alice.page, lobby) === 2, 'two unread in lobby');
    expect(unreadTotal(alice.page)).toBe(2);
    expect(unread(alice.page, ops)).toBe(0);

    // Opening lobby: read, and the marker stands before the first of the two.
    await alice.run('/switch lobby');
    expect(alice.page.view.current).toBe(lobby);
    expect(unreadTotal(alice.page)).toBe(0);
    const items = conversation(alice.page);
    const at = items.findIndex((i) => itemKey(i) === markerBefore(alice.page, items));
    expect(items[at]).toMatchObject({ kind: 'message', text: 'first while away' });
    expect(items.slice(at).flatMap((i) => (i.kind === 'message' ? [i.text] : []))).toEqual(['first while away', 'second while away']);

    // A hidden tab reads nothing: what arrives counts, and is marked when the tab is shown.
    alice.dispatch({ type: 'visibility', hidden: true });
    await bob.run('while hidden');
    await until(() => unread(alice.page, lobby) === 1, 'one unread while hidden');
    expect(unreadTotal(alice.page)).toBe(1);
    alice.dispatch({ type: 'visibility', hidden: false });
    expect(unreadTotal(alice.page)).toBe(0);
    const now = conversation(alice.page);
    expect(now.find((i) => itemKey(i) === markerBefore(alice.page, now))).toMatchObject({ text: 'while hidden' });

    // Own messages are never unread; a room read on screen stays read.
    await alice.run('my own line');
    await bob.run('seen at once');
    await until(() => messages(alice).includes('seen at once'), 'the line on screen');
    expect(unreadTotal(alice.page)).toBe(0);
  });

  it('/quit, in any case, quits: delivered, left, closed, and the page says so', async () => {
    const { alice, bob } = await twoPages();
    await alice.run('last words');
    await alice.run('/QUIT');
    expect(alice.page.ended).toBe(true);
    await until(() => messages(bob).includes('last words') && texts(bob).includes('alice left lobby'), 'bob sees alice go');
    await bob.run('/Quit  ');
    expect(bob.page.ended).toBe(true);
    // Nothing runs after the end: a line now is refused, in the view's words.
    await alice.run('too late');
    expect(texts(alice).at(-1)).toMatch(/closing|not started/);
  });
});
