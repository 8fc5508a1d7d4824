/**
 * Drawing the view: whatever a peer put in it (names, room names, text, and the client's
 * sentences that quote them) reaches the terminal as visible characters, never as a control
 * sequence (THREATS D.23), in every part of the screen; and what the terminal adds to the view's
 * items (direct messages shown where the user is, gaps, tags, digit groups, the keys after /help).
 * The views are made by core's reducer from client events, as the client emits them.
 */
import { initialView, reduceView, type ClientEvent, type View } from '@safehouse/core/client';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { describe, expect, it } from 'vitest';
import { bannerLines } from './banner.js';
import { layoutEntry } from './lines.js';
import { SidePane } from './members.js';
import { fingerprintOverlay, inviteOverlay, safetyOverlay } from './overlay.js';
import { markSeen, paneItems, unreadElsewhere, type Screen } from './pane.js';
import { statusParts } from './status.js';

const EVIL =
  'x\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://e.example\x1b\\l\x1b]8;;\x1b\\\x1b]52;c;aGk=\x07\u202eabc\u200b\x9b31m';
const FP = '11111 22222 33333 44444 55555 66666 77777 88888 99999 00000 12345 67890';

function viewOf(events: ClientEvent[]): View {
  return events.reduce((v, event, i) => reduceView(v, { seq: i + 1, at: 0, event }), initialView('alice'));
}

function screenOf(view: View, seen: ReadonlyMap<string, number> = new Map()): Screen {
  return { view, connectionAt: 0, overlay: undefined, bannerHidden: new Set(), quitting: false, seen };
}

/** The pane as text, at `cols` columns. */
function pane(view: View, cols = 60): string {
  return paneItems(view)
    .flatMap((p) => layoutEntry(p, cols))
    .map((l) => l.map((s) => s.text).join(''))
    .join('\n');
}

const joined = (room: string, roomName: string, direct = false): ClientEvent => ({
  type: 'joined',
  room,
  roomName,
  name: 'alice',
  fingerprint: FP,
  direct,
});
const current = (room: string): ClientEvent => ({ type: 'current', room });
const message = (
  room: string,
  id: string,
  from: string,
  text: string,
  extra: Partial<Extract<ClientEvent, { type: 'message' }>> = {},
): ClientEvent => ({
  type: 'message',
  id,
  room,
  roomName: 'lobby',
  from,
  fingerprint: from === 'alice' ? FP : `${from}-fp`,
  text,
  ts: 0,
  direct: false,
  ...extra,
});

describe('drawing the view', () => {
  it('no control character from a peer reaches the screen, in any part of it', () => {
    const member = (name: string, extra = {}) => ({
      name,
      fingerprint: FP,
      self: false,
      verified: false,
      keyChanged: false,
      blocked: false,
      ...extra,
    });
    const view = viewOf([
      { type: 'fingerprint', name: 'alice', fingerprint: FP },
      joined('r', EVIL),
      current('r'),
      {
        type: 'room-state',
        room: 'r',
        roomName: EVIL,
        direct: false,
        joined: true,
        admin: true,
        epoch: 1,
        code: '1234',
        ttlMs: 60_000,
        members: [member('alice', { self: true }), member(EVIL, { keyChanged: true, blocked: true })],
      },
      message('r', '1', EVIL, `${EVIL}\n${EVIL}`, { roomName: EVIL, gap: 2 }),
      message('r', '2', 'bob', EVIL, { action: true, untimed: true }),
      { type: 'member-joined', room: 'r', roomName: EVIL, name: EVIL, fingerprint: FP },
      { type: 'member-left', room: 'r', roomName: EVIL, name: EVIL, by: EVIL },
      { type: 'key-changed', room: 'r', roomName: EVIL, name: EVIL, message: EVIL },
      { type: 'error', code: 'E_USAGE', message: EVIL, room: 'r' },
      { type: 'info', message: EVIL },
      {
        type: 'users',
        room: 'r',
        roomName: EVIL,
        users: [{ name: EVIL, fingerprint: FP, verified: false, self: false }],
      },
      { type: 'ttl', room: 'r', roomName: EVIL, from: EVIL, ms: 60_000, self: false, text: EVIL },
      { type: 'rooms', rooms: [{ room: 'r', roomName: EVIL, members: 2, current: true, direct: false, joined: true }] },
      { type: 'invite', room: 'r', roomName: EVIL, link: `http://x/#${EVIL}` },
      { type: 'safety-number', room: 'r', name: EVIL, safetyNumber: FP, verified: false },
      joined('d', EVIL, true),
      message('d', '3', EVIL, EVIL, { roomName: EVIL, direct: true }),
      message('d', '4', 'alice', EVIL, { roomName: EVIL, direct: true, self: true }),
      { type: 'help', commands: [], text: `${EVIL}\n/quit` },
    ]);
    const screen = screenOf(view);
    const side = render(createElement(SidePane, { screen, width: 28, height: 20 }));
    const sideFrame = side.lastFrame() ?? '';
    side.unmount();
    const overlays = [inviteOverlay(EVIL, `http://x/#${EVIL}`), fingerprintOverlay(EVIL, FP), safetyOverlay(EVIL, FP)];
    const out = [
      pane(view),
      statusParts(screen, 0)
        .map((p) => p.text)
        .join('|'),
      bannerLines([{ room: 'r', roomName: EVIL, name: EVIL, fingerprint: FP, blocked: true }], 60).join('\n'),
      ...overlays.flatMap((o) => [o.title, ...o.text, o.footer, o.copy ?? '']),
      // ink adds its own SGR color codes around the text: those are the only escapes allowed.
      sideFrame.replace(new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;]*m`, 'g'), ''),
    ].join('\n');
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
    expect(sideFrame).toContain('␛[2J');
  });

  it('a direct message from elsewhere is shown, tagged, in the room on screen once it is current, and counts as read', () => {
    const before = message('d', 'old', 'bob', 'before', { roomName: 'bob', direct: true });
    const view = viewOf([
      joined('r', 'lobby'),
      joined('d', 'bob', true),
      before,
      current('r'),
      message('d', 'new', 'bob', 'psst', { roomName: 'bob', direct: true }),
      message('d', 'mine', 'alice', 'hi', { roomName: 'bob', direct: true, self: true }),
      message('r', 'x', 'carol', 'in the lobby'),
    ]);
    const text = pane(view);
    expect(text).toContain('[dm] bob: psst');
    expect(text).toContain('[dm → bob] alice: hi');
    expect(text).toContain('carol: in the lobby');
    expect(text).not.toContain('before');
    expect(text.indexOf('psst')).toBeLessThan(text.indexOf('in the lobby'));
    // Shown here: the direct room counts as read, up to the last message shown.
    const seen = markSeen(view, new Map());
    expect(unreadElsewhere(screenOf(view, seen))).toBe(0);
    expect(unreadElsewhere(screenOf(view))).toBe(2);
  });

  it('draws what the terminal adds: a gap, the untimed tag, digit groups, the keys after /help, the invite hint', () => {
    const view = viewOf([
      joined('r', 'lobby'),
      current('r'),
      message('r', '1', 'bob', 'x', { gap: 2 }),
      message('r', 'u', 'bob', 'stripped', { untimed: true }),
      { type: 'fingerprint', name: 'alice', fingerprint: FP },
      { type: 'help', commands: [], text: '/quit  leave' },
      { type: 'invite', room: 'r', roomName: 'lobby', link: 'http://127.0.0.1/#r=abc' },
    ]);
    const text = pane(view, 80);
    expect(text).toContain('2 earlier messages from bob did not arrive (yet): dropped or delayed');
    expect(text).toContain('[untimed!] bob: stripped');
    expect(text).toContain('  11111 22222 33333 44444\n  55555 66666 77777 88888');
    expect(text).toMatch(/keys:\n +Enter +send the line/);
    expect(text).toContain('http://127.0.0.1/#r=abc\n/invite shows it as a QR code');
  });
});
