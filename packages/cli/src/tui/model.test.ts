/**
 * The model is where peer text becomes screen text: nothing a peer sends may come out as a
 * control sequence (THREATS D.23), whatever the event.
 */
import type { ClientEvent } from '@safehouse/core/client';
import { describe, expect, it } from 'vitest';
import { layoutEntry } from './lines.js';
import { ChatModel } from './model.js';

const EVIL =
  'x\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://e.example\x1b\\l\x1b]8;;\x1b\\\x1b]52;c;aGk=\x07\u202eabc\u200b\x9b31m';
const FP = '11111 22222 33333 44444 55555 66666 77777 88888 99999 00000 12345 67890';

function screen(model: ChatModel, cols = 60): string {
  return model
    .entries()
    .flatMap((e) => layoutEntry(e, cols))
    .map((l) => l.map((s) => s.text).join(''))
    .join('\n');
}

describe('ChatModel', () => {
  it('no control character from a peer reaches the screen, in any event', () => {
    const m = new ChatModel(() => 0);
    const evs: ClientEvent[] = [
      { type: 'joined', room: 'r', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false },
      {
        type: 'message',
        id: '1',
        room: 'r',
        roomName: EVIL,
        from: EVIL,
        fingerprint: FP,
        text: `${EVIL}\n${EVIL}`,
        ts: 0,
        direct: false,
      },
      {
        type: 'message',
        id: '2',
        room: 'r',
        roomName: 'lobby',
        from: 'bob',
        fingerprint: FP,
        text: EVIL,
        ts: 0,
        direct: false,
        action: true,
      },
      { type: 'member-joined', room: 'r', roomName: 'lobby', name: EVIL, fingerprint: FP },
      { type: 'key-changed', room: 'r', roomName: 'lobby', name: EVIL, message: EVIL },
      { type: 'error', code: 'E_USAGE', message: EVIL },
      { type: 'info', message: EVIL },
      {
        type: 'users',
        room: 'r',
        roomName: 'lobby',
        users: [{ name: EVIL, fingerprint: FP, verified: false, self: false }],
      },
      { type: 'ttl', room: 'r', roomName: 'lobby', from: EVIL, ms: 60_000, self: false, text: EVIL },
      {
        type: 'message',
        id: '3',
        room: 'd',
        roomName: EVIL,
        from: EVIL,
        fingerprint: FP,
        text: EVIL,
        ts: 0,
        direct: true,
      },
    ];
    for (const ev of evs) m.apply(ev);
    const out =
      screen(m) +
      [...m.rooms.values()].map((r) => r.name + [...r.members.keys()].join()).join() +
      m.warnings.map((w) => w.name + w.message).join();
    // No C0 (but the newlines joining lines), DEL, C1, bidi or zero-width character.
    const bad = [...out].filter((c) => {
      const cp = c.codePointAt(0)!;
      return (
        (cp < 0x20 && cp !== 0x0a) ||
        (cp >= 0x7f && cp <= 0x9f) ||
        /[\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]/.test(c)
      );
    });
    expect(bad).toEqual([]);
    expect(out).toContain('␛[2J');
    expect(out).toContain('<U+202E>');
  });

  it('a key change raises a warning that /verify (a safety number) clears', () => {
    const m = new ChatModel(() => 0);
    m.apply({ type: 'joined', room: 'r', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    m.apply({ type: 'member-joined', room: 'r', roomName: 'lobby', name: 'bob', fingerprint: FP });
    m.apply({ type: 'key-changed', room: 'r', roomName: 'lobby', name: 'bob', message: 'new key' });
    expect(m.warnings.map((w) => w.name)).toEqual(['bob']);
    expect(m.rooms.get('r')!.members.get('bob')!.keyChanged).toBe(true);
    expect(m.hideBanner()).toBe(true);
    m.apply({ type: 'safety-number', room: 'r', name: 'bob', safetyNumber: FP, verified: true });
    expect(m.warnings).toEqual([]);
    expect(m.rooms.get('r')!.members.get('bob')).toMatchObject({ verified: true, keyChanged: false });
    expect(m.overlay?.title).toBe('Safety number with bob');
  });

  it('direct messages are tagged, and shown in the current room too', () => {
    const m = new ChatModel(() => 0);
    m.apply({ type: 'joined', room: 'r', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    m.apply({
      type: 'message',
      id: '1',
      room: 'd',
      roomName: 'bob',
      from: 'bob',
      fingerprint: FP,
      text: 'psst',
      ts: 0,
      direct: true,
    });
    expect(screen(m)).toContain('[dm] bob: psst');
    expect(m.rooms.get('d')).toMatchObject({ direct: true, unread: 1 });
  });

  it('an expired timed message is wiped everywhere; unproven time hides timed ones', () => {
    const m = new ChatModel(() => 0);
    m.apply({ type: 'joined', room: 'r', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    m.apply({
      type: 'message',
      id: 't',
      room: 'r',
      roomName: 'lobby',
      from: 'bob',
      fingerprint: FP,
      text: 'timed',
      ts: 0,
      direct: false,
      expiresAt: 10,
    });
    m.apply({
      type: 'message',
      id: 'p',
      room: 'r',
      roomName: 'lobby',
      from: 'bob',
      fingerprint: FP,
      text: 'plain',
      ts: 0,
      direct: false,
    });
    m.apply({ type: 'time', state: 'unproven', message: 'no time' });
    expect(screen(m)).not.toContain('bob: timed');
    m.apply({ type: 'time', state: 'proven', message: 'time ok' });
    expect(screen(m)).toContain('bob: timed');
    m.apply({ type: 'expired', id: 't', fingerprint: FP, room: 'r', expiresAt: 10 });
    expect(screen(m)).not.toContain('bob: timed');
    expect(screen(m)).toContain('plain');
  });

  it('a message that came without the room timer is shown with a warning tag', () => {
    const m = new ChatModel(() => 0);
    m.apply({ type: 'joined', room: 'r', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    m.apply({ type: 'message', id: 'u', room: 'r', roomName: 'lobby', from: 'bob', fingerprint: FP, text: 'stripped', ts: 0, direct: false, untimed: true });
    m.apply({ type: 'message', id: 'h', room: 'r', roomName: 'lobby', from: 'bob', fingerprint: FP, text: 'honest', ts: 0, direct: false });
    expect(screen(m)).toContain('[untimed!] bob: stripped');
    expect(screen(m)).not.toContain('[untimed!] bob: honest');
  });

  it('an expired message is taken away by id and sender: another sender reusing the id keeps its line', () => {
    const m = new ChatModel(() => 0);
    m.apply({ type: 'joined', room: 'r', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    const base = { type: 'message', id: 'same', room: 'r', roomName: 'lobby', ts: 0, direct: false, expiresAt: 10 } as const;
    m.apply({ ...base, from: 'bob', fingerprint: FP, text: 'genuine' });
    m.apply({ ...base, from: 'mallory', fingerprint: 'other', text: 'squat' });
    m.apply({ type: 'expired', id: 'same', fingerprint: 'other', room: 'r', expiresAt: 10 });
    expect(screen(m)).toContain('bob: genuine');
    expect(screen(m)).not.toContain('mallory: squat');
  });

  it('a gap is said; what was said before the first room moves into it', () => {
    const m = new ChatModel(() => 0);
    m.apply({ type: 'fingerprint', name: 'alice', fingerprint: FP });
    m.apply({ type: 'joined', room: 'r', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    m.apply({
      type: 'message',
      id: '1',
      room: 'r',
      roomName: 'lobby',
      from: 'bob',
      fingerprint: FP,
      text: 'x',
      ts: 0,
      direct: false,
      gap: 2,
    });
    expect(screen(m)).toContain('your fingerprint');
    expect(screen(m)).toContain('2 earlier messages from bob did not arrive');
  });
});
