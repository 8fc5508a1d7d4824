/** The page's view of the chat (state.ts), from client events, without a DOM. */
import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '@safehouse/core/client';
import { initialState, MAX_LINES, reduce, unreadTotal, type ChatState, type UiAction } from './state.js';

const A = 'AAAAAAAAAAAAAAAAAAAAAA';
const B = 'BBBBBBBBBBBBBBBBBBBBBB';

function run(events: [ClientEvent | UiAction, string | undefined][], s: ChatState = initialState('alice')): ChatState {
  return events.reduce((acc, [ev, cur]) => reduce(acc, ev, cur, 1_000), s);
}

const joined = (room: string, roomName: string, direct = false): ClientEvent => ({ type: 'joined', room, roomName, name: 'alice', fingerprint: '1 2 3', direct });
const msg = (room: string, text: string, extra: Partial<Extract<ClientEvent, { type: 'message' }>> = {}): ClientEvent => ({
  type: 'message',
  id: text,
  room,
  roomName: 'x',
  from: 'bob',
  fingerprint: '9 9 9',
  text,
  ts: 5,
  direct: false,
  ...extra,
});

describe('state: rooms, messages and unread markers', () => {
  it('a joined room becomes current and holds its messages, own ones echoed', () => {
    const s = run([
      [joined(A, 'lobby'), A],
      [msg(A, 'hi'), A],
      [msg(A, 'mine', { from: 'alice', self: true }), A],
    ]);
    const room = s.rooms.get(A)!;
    expect(s.current).toBe(A);
    expect(room.name).toBe('lobby');
    expect(room.lines.map((l) => l.text)).toEqual(['You are in lobby as alice', 'hi', 'mine']);
    expect(room.lines[2]).toMatchObject({ kind: 'message', self: true });
    expect(room.unread).toBe(0);
    expect(s.me.fingerprint).toBe('1 2 3');
  });

  it('counts unread messages of other rooms and marks where they start when the room is opened', () => {
    let s = run([
      [joined(A, 'lobby'), A],
      [joined(B, 'ops'), A],
      [msg(B, 'one'), A],
      [msg(B, 'two'), A],
    ]);
    expect(s.rooms.get(B)!.unread).toBe(2);
    expect(unreadTotal(s)).toBe(2);
    s = reduce(s, { type: 'switched', room: B, roomName: 'ops' }, B, 2);
    const b = s.rooms.get(B)!;
    expect(b.unread).toBe(0);
    expect(b.lines[b.markerAt!]!.text).toBe('one');
    expect(unreadTotal(s)).toBe(0);
  });

  it('messages that arrive while the tab is hidden count as unread, marked when it is shown', () => {
    let s = run([
      [joined(A, 'lobby'), A],
      [{ type: 'ui-visibility', hidden: true }, A],
      [msg(A, 'while away'), A],
    ]);
    expect(unreadTotal(s)).toBe(1);
    s = reduce(s, { type: 'ui-visibility', hidden: false }, A, 3);
    const a = s.rooms.get(A)!;
    expect(unreadTotal(s)).toBe(0);
    expect(a.lines[a.markerAt!]!.text).toBe('while away');
  });

  it('join and leave notices; member lists per room', () => {
    const s = run([
      [joined(A, 'lobby'), A],
      [{ type: 'member-joined', room: A, roomName: 'lobby', name: 'bob', fingerprint: '9' }, A],
      [{ type: 'users', room: A, roomName: 'lobby', users: [{ name: 'bob', fingerprint: '9', verified: false, self: false }] }, A],
      [{ type: 'member-left', room: A, roomName: 'lobby', name: 'bob' }, A],
    ]);
    const room = s.rooms.get(A)!;
    expect(room.lines.map((l) => l.text)).toEqual(['You are in lobby as alice', 'bob joined', 'bob left']);
    expect(room.members.map((m) => m.name)).toEqual(['bob']);
  });

  it('a key change stays flagged until the member is verified again or trusted', () => {
    let s = run([
      [joined(A, 'lobby'), A],
      [{ type: 'key-changed', room: A, roomName: 'lobby', name: 'bob', message: 'the key of bob changed' }, A],
      [{ type: 'key-changed', room: A, roomName: 'lobby', name: 'bob', message: 'the key of bob changed' }, A],
      [{ type: 'key-changed', room: A, roomName: 'lobby', name: 'carol', message: 'the key of carol changed' }, A],
    ]);
    expect(s.rooms.get(A)!.keyChanged).toEqual(['bob', 'carol']);
    // Only looking at the number (/safety) answers nothing; marking verified does.
    s = reduce(s, { type: 'safety-number', room: A, name: 'bob', safetyNumber: '123', verified: false }, A, 3);
    expect(s.rooms.get(A)!.keyChanged).toEqual(['bob', 'carol']);
    s = reduce(s, { type: 'safety-number', room: A, name: 'bob', safetyNumber: '123', verified: true }, A, 3);
    expect(s.rooms.get(A)!.keyChanged).toEqual(['carol']);
    expect(s.dialog).toEqual({ kind: 'safety', room: A, name: 'bob', safetyNumber: '123', verified: true });
    s = reduce(s, { type: 'ui-trusted', room: A, name: 'carol' }, A, 4);
    expect(s.rooms.get(A)!.keyChanged).toEqual([]);
  });

  it('a room we ask to join shows up before it is joined; leaving removes it', () => {
    let s = run([[{ type: 'info', message: 'asking the members of lobby to admit you', room: A }, A]]);
    expect(s.rooms.get(A)).toMatchObject({ joined: false, name: 'joining…' });
    s = run([[joined(A, 'lobby'), A]], s);
    expect(s.rooms.get(A)!.joined).toBe(true);
    s = reduce(s, { type: 'left', room: A, roomName: 'lobby', reason: 'left' }, undefined, 5);
    expect(s.rooms.has(A)).toBe(false);
    expect(s.current).toBeUndefined();
    expect(s.notices.map((l) => l.text)).toEqual(['Left lobby: you left']);
  });

  it('connection, errors, fatal, dialogs', () => {
    let s = run([
      [{ type: 'connection', state: 'reconnecting', delayMs: 500, attempt: 2, reason: 'closed' }, undefined],
      [{ type: 'error', code: 'E_NO_ROOM', message: 'no room' }, undefined],
    ]);
    expect(s.connection).toEqual({ state: 'reconnecting', delayMs: 500, attempt: 2, reason: 'closed' });
    expect(s.everConnected).toBe(false);
    expect(reduce(s, { type: 'connection', state: 'connected', restarted: false }, undefined, 1).everConnected).toBe(true);
    expect(s.notices[0]).toMatchObject({ tone: 'error', text: 'no room (E_NO_ROOM)' });
    s = reduce(s, { type: 'room-code', room: A, roomName: 'lobby', code: '12 34', epoch: 3 }, undefined, 1);
    expect(s.dialog).toMatchObject({ kind: 'code', code: '12 34' });
    s = reduce(s, { type: 'ui-dialog', dialog: undefined }, undefined, 1);
    expect(s.dialog).toBeUndefined();
    s = reduce(s, { type: 'fatal', code: 'E_JOIN_TIMEOUT', message: 'gone' }, undefined, 1);
    expect(s.fatal).toEqual({ code: 'E_JOIN_TIMEOUT', message: 'gone' });
  });

  it('keeps at most MAX_LINES lines per room, and the state before an event is never changed', () => {
    const before = run([[joined(A, 'lobby'), A]]);
    let s = before;
    for (let i = 0; i < MAX_LINES + 20; i++) s = reduce(s, msg(A, `m${i}`), A, i);
    expect(s.rooms.get(A)!.lines).toHaveLength(MAX_LINES);
    expect(s.rooms.get(A)!.lines.at(-1)!.text).toBe(`m${MAX_LINES + 19}`);
    expect(before.rooms.get(A)!.lines).toHaveLength(1);
    const keys = s.rooms.get(A)!.lines.map((l) => l.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('timed messages: a gap is flagged, an expired message leaves the screen, timer changes are said', () => {
    let s = run([
      [joined(A, 'lobby'), A],
      [msg(A, 'later', { gap: 2 }), A],
      [msg(A, 'soon gone'), A],
    ]);
    expect(s.rooms.get(A)!.lines.map((l) => l.text)).toEqual(['You are in lobby as alice', '2 earlier messages from bob did not arrive (dropped or delayed)', 'later', 'soon gone']);
    const expired = { type: 'expired', id: 'soon gone', room: A, expiresAt: 9 } as unknown as ClientEvent;
    s = reduce(s, expired, A, 10);
    expect(s.rooms.get(A)!.lines.map((l) => l.text)).not.toContain('soon gone');
    const ttl = { type: 'ttl', room: A, roomName: 'lobby', from: 'bob', ms: 60_000, self: false, text: 'bob set messages to disappear after 1 min' } as unknown as ClientEvent;
    s = reduce(s, ttl, A, 11);
    expect(s.rooms.get(A)!.lines.at(-1)!.text).toBe('bob set messages to disappear after 1 min');
    expect(s.rooms.get(A)!.ttlMs).toBe(60_000);
    s = reduce(s, { ...ttl, ms: 0, text: 'bob turned off disappearing messages in lobby' } as unknown as ClientEvent, A, 12);
    expect(s.rooms.get(A)!.ttlMs).toBe(0);
  });

  it('a message that came without the room timer is marked untimed; others are not', () => {
    const s = run([
      [joined(A, 'lobby'), A],
      [msg(A, 'stripped', { untimed: true, expiresAt: 99 }), A],
      [msg(A, 'honest'), A],
    ]);
    const lines = s.rooms.get(A)!.lines.filter((l) => l.kind === 'message');
    expect(lines.map((l) => [l.text, l.kind === 'message' && l.untimed === true])).toEqual([['stripped', true], ['honest', false]]);
  });

  it('room ids are map keys, not object keys: "__proto__" is just a room', () => {
    const s = run([[joined('__proto__', 'odd'), '__proto__']]);
    expect(s.rooms.get('__proto__')!.name).toBe('odd');
    expect(({} as Record<string, unknown>).name).toBeUndefined();
  });
});
