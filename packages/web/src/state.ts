/**
 * The chat as the page shows it, built from the client's events by one pure function
 * (`reduce`), so that it is tested without a DOM. Every string in here may come from a peer:
 * the view renders it as text nodes only (ui/*.tsx), never as markup.
 */
import type { ClientEvent, ConnectionState, UserInfo } from '@safehouse/core/client';

/** Lines kept per room: older ones scroll away (the page holds the chat in memory only). */
export const MAX_LINES = 500;

export type Tone = 'info' | 'warn' | 'error';

type LineBody =
  | { kind: 'message'; id: string; from: string; fingerprint: string; text: string; ts: number; self: boolean; action: boolean; expiresAt: number | undefined; untimed?: boolean }
  | { kind: 'notice'; text: string; ts: number; tone: Tone };
export type Line = LineBody & { key: number };

export type RoomView = {
  id: string;
  name: string;
  direct: boolean;
  /** False while we wait for a member to admit us. */
  joined: boolean;
  lines: Line[];
  /** Messages that arrived while another room was shown. */
  unread: number;
  /** Index of the first line that was unread when the room was opened (the "new" marker). */
  markerAt: number | undefined;
  members: UserInfo[];
  /** The invite link, for rooms we created (or the link we joined by). */
  invite: string | undefined;
  /** Members whose key changed and who were neither verified again nor trusted. */
  keyChanged: string[];
  /** The room's message timer (`/ttl`), ms; 0 = off. Shown beside the room's name. */
  ttlMs: number;
};

export type Dialog =
  | { kind: 'safety'; room: string; name: string; safetyNumber: string; verified: boolean }
  | { kind: 'invite'; roomName: string; link: string }
  | { kind: 'code'; roomName: string; code: string; epoch: number }
  | { kind: 'verify-ask'; name: string }
  | { kind: 'identity' }
  | { kind: 'help'; text: string };

/**
 * Timed-message events (core/client expiry and ttl). They are handled by their `type`, so that
 * the page builds against a client that has them and one that does not yet.
 */
type TimedEvent =
  | { type: 'expired'; id: string; fingerprint?: string; room: string }
  | { type: 'time'; state: string; message: string }
  | { type: 'ttl'; room: string; roomName: string; ms: number; text: string };
type KnownEvent = Exclude<ClientEvent | UiAction, { type: TimedEvent['type'] }>;

export type UiAction =
  | { type: 'ui-dialog'; dialog: Dialog | undefined }
  | { type: 'ui-trusted'; room: string; name: string }
  | { type: 'ui-invite'; room: string; link: string }
  /** The tab was hidden or shown again: messages that arrive while hidden count as unread. */
  | { type: 'ui-visibility'; hidden: boolean };

export type ChatState = {
  me: { name: string; fingerprint: string | undefined };
  connection: ConnectionState;
  /** Whether the relay ever answered: if not, a password may be missing or wrong. */
  everConnected: boolean;
  /** The tab is in the background. */
  hidden: boolean;
  rooms: ReadonlyMap<string, RoomView>;
  current: string | undefined;
  dialog: Dialog | undefined;
  /** Notices that belong to no room (before the first room, after the last). */
  notices: Line[];
  fatal: { code: string; message: string } | undefined;
  nextKey: number;
};

export function initialState(name: string): ChatState {
  return {
    me: { name, fingerprint: undefined },
    connection: { state: 'connecting', attempt: 1 },
    everConnected: false,
    hidden: false,
    rooms: new Map(),
    current: undefined,
    dialog: undefined,
    notices: [],
    fatal: undefined,
    nextKey: 1,
  };
}

function emptyRoom(id: string, name: string, direct: boolean): RoomView {
  return { id, name, direct, joined: false, lines: [], unread: 0, markerAt: undefined, members: [], invite: undefined, keyChanged: [], ttlMs: 0 };
}

/** A copy of the state in which rooms and lines can be changed without touching the old one. */
class Draft {
  readonly rooms: Map<string, RoomView>;
  constructor(public s: ChatState) {
    this.rooms = new Map(s.rooms);
  }

  room(id: string, name?: string, direct = false): RoomView {
    const old = this.rooms.get(id) ?? emptyRoom(id, name ?? 'joining…', direct);
    const copy = { ...old };
    this.rooms.set(id, copy);
    return copy;
  }

  push(room: RoomView, line: LineBody): void {
    const withKey: Line = { ...line, key: this.s.nextKey };
    this.s = { ...this.s, nextKey: this.s.nextKey + 1 };
    room.lines = [...room.lines, withKey].slice(-MAX_LINES);
    if (room.markerAt !== undefined && room.lines.length === MAX_LINES) room.markerAt = Math.max(0, room.markerAt - 1);
  }

  /** A notice in `roomId` if we have that room, else in the current room, else on its own. */
  notice(roomId: string | undefined, text: string, ts: number, tone: Tone): void {
    const id = roomId !== undefined && this.rooms.has(roomId) ? roomId : this.s.current;
    if (id !== undefined && this.rooms.has(id)) return this.push(this.room(id), { kind: 'notice', text, ts, tone });
    const line: Line = { kind: 'notice', key: this.s.nextKey, text, ts, tone };
    this.s = { ...this.s, nextKey: this.s.nextKey + 1, notices: [...this.s.notices, line].slice(-50) };
  }

  done(): ChatState {
    return { ...this.s, rooms: this.rooms };
  }
}

const LEFT_BECAUSE = { left: 'you left', removed: 'you were removed', refused: 'the members refused you', timeout: 'no member admitted you in time' } as const;

/**
 * Applies one client event (or a UI action) to the state. `current` is the client's current
 * room after the event (`client.currentRoom()`): the client decides, the page follows.
 */
export function reduce(state: ChatState, event: ClientEvent | UiAction, current: string | undefined, now: number): ChatState {
  const d = new Draft(state);
  const t: string = event.type;
  if (t === 'expired' || t === 'time' || t === 'ttl') {
    timed(d, event as unknown as TimedEvent, now);
    return follow(d, current);
  }
  const ev = event as KnownEvent;
  switch (ev.type) {
    case 'joined': {
      const r = d.room(ev.room, ev.roomName, ev.direct);
      r.name = ev.roomName;
      r.direct = ev.direct;
      r.joined = true;
      d.s = { ...d.s, me: { name: ev.name, fingerprint: ev.fingerprint } };
      d.push(r, { kind: 'notice', text: ev.direct ? `Direct messages with ${ev.roomName}` : `You are in ${ev.roomName} as ${ev.name}${ev.code === undefined ? '' : ` (room code ${ev.code}: compare with a member's /code)`}`, ts: now, tone: 'info' });
      break;
    }
    case 'message': {
      const r = d.room(ev.room, ev.roomName, ev.direct);
      if (ev.gap !== undefined && ev.gap > 0)
        d.push(r, { kind: 'notice', text: `${ev.gap} earlier message${ev.gap === 1 ? '' : 's'} from ${ev.from} did not arrive (dropped or delayed)`, ts: now, tone: 'warn' });
      const expiresAt = (ev as { expiresAt?: number }).expiresAt;
      const untimed = (ev as { untimed?: true }).untimed === true;
      d.push(r, { kind: 'message', id: ev.id, from: ev.from, fingerprint: ev.fingerprint, text: ev.text, ts: ev.ts, self: ev.self === true, action: ev.action === true, expiresAt, ...(untimed ? { untimed } : {}) });
      if ((ev.room !== current || d.s.hidden) && ev.self !== true) r.unread += 1;
      break;
    }
    case 'member-joined':
      d.push(d.room(ev.room, ev.roomName), { kind: 'notice', text: `${ev.name} joined`, ts: now, tone: 'info' });
      break;
    case 'member-left':
      d.push(d.room(ev.room, ev.roomName), { kind: 'notice', text: ev.by === undefined ? `${ev.name} left` : ev.absent ? `${ev.name} was removed as absent (no sign of life) by ${ev.by}` : `${ev.name} was removed by ${ev.by}`, ts: now, tone: 'info' });
      break;
    case 'users':
      d.room(ev.room, ev.roomName).members = ev.users;
      break;
    case 'invite':
    case 'ui-invite': {
      const r = d.room(ev.room);
      r.invite = ev.link;
      break;
    }
    case 'key-changed': {
      const r = d.room(ev.room, ev.roomName);
      if (!r.keyChanged.includes(ev.name)) r.keyChanged = [...r.keyChanged, ev.name];
      d.push(r, { kind: 'notice', text: `Warning: ${ev.message}`, ts: now, tone: 'error' });
      break;
    }
    case 'error':
      d.notice(ev.room, `${ev.message} (${ev.code})`, now, 'error');
      break;
    case 'fatal':
      d.s = { ...d.s, fatal: { code: ev.code, message: ev.message } };
      break;
    case 'connection': {
      const { type: _type, ...conn } = ev;
      d.s = { ...d.s, connection: conn, everConnected: d.s.everConnected || conn.state === 'connected' };
      break;
    }
    case 'fingerprint':
      d.s = { ...d.s, me: { name: ev.name, fingerprint: ev.fingerprint } };
      break;
    case 'safety-number': {
      // Shown by /safety (to compare) or by /verify (then marked verified: the warning is answered).
      const r = d.room(ev.room);
      if (ev.verified) r.keyChanged = r.keyChanged.filter((n) => n !== ev.name);
      d.s = { ...d.s, dialog: { kind: 'safety', room: ev.room, name: ev.name, safetyNumber: ev.safetyNumber, verified: ev.verified } };
      break;
    }
    case 'ui-trusted': {
      const r = d.room(ev.room);
      r.keyChanged = r.keyChanged.filter((n) => n !== ev.name);
      break;
    }
    case 'room-code':
      d.s = { ...d.s, dialog: { kind: 'code', roomName: ev.roomName, code: ev.code, epoch: ev.epoch } };
      break;
    case 'rooms':
      d.notice(undefined, `Your rooms: ${ev.rooms.map((r) => `${r.roomName}${r.direct ? ' (direct)' : ''}${r.current ? ' (current)' : ''}`).join(', ')}`, now, 'info');
      break;
    case 'switched':
      d.room(ev.room, ev.roomName).name = ev.roomName;
      break;
    case 'left':
      d.rooms.delete(ev.room);
      d.notice(undefined, `Left ${ev.roomName}: ${LEFT_BECAUSE[ev.reason]}${ev.by === undefined ? '' : ` by ${ev.by}`}`, now, ev.reason === 'left' ? 'info' : 'warn');
      break;
    case 'help':
      d.s = { ...d.s, dialog: { kind: 'help', text: ev.text } };
      break;
    case 'info':
      if (ev.room !== undefined && !d.rooms.has(ev.room)) d.room(ev.room); // a room we are asking to join
      d.notice(ev.room, ev.message, now, 'info');
      break;
    case 'room-state':
    case 'current':
      break;
    case 'ui-dialog':
      d.s = { ...d.s, dialog: ev.dialog };
      break;
    case 'ui-visibility':
      d.s = { ...d.s, hidden: ev.hidden };
      // Back in the tab: the current room's unread lines get their marker, as on opening a room.
      if (!ev.hidden && current !== undefined && d.rooms.has(current)) openRoom(d.room(current));
      break;
    default: {
      const never: never = ev;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
  return follow(d, current);
}

function timed(d: Draft, ev: TimedEvent, now: number): void {
  switch (ev.type) {
    case 'expired': {
      // The message's time is up on proven time: it goes from the screen and from memory.
      if (!d.rooms.has(ev.room)) return;
      const r = d.room(ev.room);
      // By id and sender: ids are the senders' choice, another member may reuse one.
      r.lines = r.lines.filter((l) => l.kind !== 'message' || l.id !== ev.id || (ev.fingerprint !== undefined && l.fingerprint !== ev.fingerprint));
      return;
    }
    case 'time':
      return d.notice(undefined, ev.message, now, ev.state === 'proven' ? 'info' : 'warn');
    case 'ttl': {
      const r = d.room(ev.room, ev.roomName);
      r.ttlMs = ev.ms;
      return d.push(r, { kind: 'notice', text: ev.text, ts: now, tone: 'info' });
    }
    default: {
      const never: never = ev;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
}

function openRoom(r: RoomView): void {
  r.markerAt = r.unread > 0 ? r.lines.length - r.unread : undefined;
  r.unread = 0;
}

/** Follows the client's current room; opening a room clears its unread count and sets its marker. */
function follow(d: Draft, current: string | undefined): ChatState {
  const cur = current !== undefined && d.rooms.has(current) ? current : undefined;
  if (cur !== d.s.current && cur !== undefined && !d.s.hidden) openRoom(d.room(cur));
  d.s = { ...d.s, current: cur };
  return d.done();
}

/** Total unread messages, for the tab title. */
export function unreadTotal(s: ChatState): number {
  let n = 0;
  for (const r of s.rooms.values()) n += r.unread;
  return n;
}
