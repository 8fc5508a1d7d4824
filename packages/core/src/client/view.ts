/**
 * The view: what every interface shows (line mode, the terminal UI, the web), built from the
 * client's events by one pure function, `reduceView(view, stamped) → view`. The interfaces draw
 * it and add only their own affordances (dialogs, scrolling, QR codes, what was read).
 *
 * Each event comes stamped (`ViewStore`) with its place in the client's order (`seq`) and the
 * local time it arrived (`at`). The view depends on the *set* of stamped events, not on the order
 * they are applied in, nor on how often: every field is either
 *   - a register that the event with the highest `seq` sets (the connection, proven time, the
 *     current room, a room's snapshot, its timer …), or
 *   - a list ordered by `seq`, where an entry is added once: a message is keyed by its room,
 *     its sender and its id (ids are the senders' choice), so the same message emitted again
 *     (a resend that reached this device twice) is one entry, as it was first shown: a sender
 *     reusing an id cannot edit what was shown. A timed message the expiry keeper shows again
 *     once time is proven (`again`) changes nothing: its entry is there (hidden meanwhile), or it
 *     went (trimmed, or with its room) and stays gone; or
 *   - a set that only grows: expired messages (a tombstone: an expired message never comes
 *     back) and rooms left (what came for a room before it was left is gone with it).
 * The property tests (view.test.ts) apply permutations and duplicates of one event list.
 *
 * Everything here may come from peers (names, room names, text): it is data. A terminal passes
 * it through `safeText`, a browser renders it as text nodes.
 */
import type { ErrorCode } from '../protocol/errors.js';
import type { ClientEvent, ConnectionState, MemberInfo } from './events.js';

export const VIEW_LIMITS = {
  /** Lines kept per room (older ones scroll away: the chat is held in memory only). */
  itemsPerRoom: 2_000,
  /** Lines kept that belong to no room (connection, proven time, rooms left). */
  lobbyItems: 200,
  /** Expired messages remembered, so that one emitted again late is not shown again. */
  expiredKept: 10_000,
} as const;

/** A client event with its place in the client's order and the local time it arrived (Unix ms). */
export type Stamped = { seq: number; at: number; event: ClientEvent };

export type Tone = 'info' | 'good' | 'join' | 'leave' | 'warn' | 'error';

/** `seq`, `sub`: where the item stands (several items may come from one event). */
type Place = { seq: number; sub: number; at: number };

export type MessageItem = Place & {
  kind: 'message';
  /** The room, the sender's fingerprint and the message id (`messageKey`: ids are the senders' choice, and per room). */
  key: string;
  id: string;
  from: string;
  fingerprint: string;
  text: string;
  /** The sender's timestamp. */
  ts: number;
  self: boolean;
  action: boolean;
  direct: boolean;
  /** This many earlier messages from the same sender did not arrive (yet). */
  gap?: number;
  /** A timed message: gone once proven time reaches this; hidden while time is unproven. */
  expiresAt?: number;
  /** Came without the room's timer (a warning tag). */
  untimed?: true;
  /** Every emission merged here (`seq`, `at`, what it said), in order: the entry stands at the first, as the first said it. */
  emits: ReadonlyArray<{ seq: number; at: number; content: MessageContent }>;
};
/** What one emission of a message says (the entry shows its first emission's). */
export type MessageContent = Omit<MessageItem, keyof Place | 'emits'>;
export type NoticeItem = Place & { kind: 'notice'; text: string; tone: Tone; code?: ErrorCode };
/** A title over a list: the answer to `/users`, `/rooms`, `/help`, an invite link, a fingerprint or safety number. */
export type BlockItem = Place & { kind: 'block'; title: string; lines: readonly string[]; tone: Tone; of: ClientEvent['type'] };
export type ViewItem = MessageItem | NoticeItem | BlockItem;

export type ViewRoom = {
  id: string;
  name: string;
  direct: boolean;
  /** A member (false while waiting for a member to admit this device). */
  joined: boolean;
  /** May remove others here. */
  admin: boolean;
  epoch: number;
  /** The room code at `epoch`. */
  code: string | undefined;
  /** The room's message timer (ms; 0: off). */
  ttlMs: number;
  members: readonly MemberInfo[];
  /** The room's invite link (its fragment holds the room's secret: shown to this device's user only). */
  invite: string | undefined;
  /** Ordered by `seq`, then `sub`. */
  items: readonly ViewItem[];
  /** The `seq` of each register's value. */
  at: { name: number; state: number; joined: number; ttl: number; invite: number; direct: number };
};

export type View = {
  me: { name: string; fingerprint: string | undefined };
  connection: ConnectionState;
  /** Whether the relay ever answered (if not, the link's path or a password may be wrong). */
  everConnected: boolean;
  /** Proven time (Roughtime): without it timed messages are hidden. */
  time: 'proven' | 'unproven' | undefined;
  rooms: ReadonlyMap<string, ViewRoom>;
  /** The room plain lines go to (the client's). */
  current: string | undefined;
  /** Items of no room: shown with every room's (see `timeline`). */
  lobby: readonly ViewItem[];
  /** Rooms left: the `seq` of leaving. */
  gone: ReadonlyMap<string, number>;
  /** Expired messages (keys): never shown again. */
  expired: ReadonlySet<string>;
  fatal: { code: ErrorCode; message: string } | undefined;
  at: { me: number; connection: number; time: number; current: number; fatal: number };
};

export function initialView(name: string): View {
  return {
    me: { name, fingerprint: undefined },
    // Before the first `connection` event: no relay named yet.
    connection: { state: 'connecting', attempt: 1, endpoint: '', relays: 0 },
    everConnected: false,
    time: undefined,
    rooms: new Map(),
    current: undefined,
    lobby: [],
    gone: new Map(),
    expired: new Set(),
    fatal: undefined,
    at: { me: -1, connection: -1, time: -1, current: -1, fatal: -1 },
  };
}

/** A message's key: its room, its sender and its id (another room, or another sender, may use the same id). */
export const messageKey = (room: string, fingerprint: string, id: string): string => `${room}/${fingerprint}/${id}`;

/** Inserts in (seq, sub) order; an item already at that place is kept (a duplicate event). Keeps the last `max`. */
function insert(items: readonly ViewItem[], item: ViewItem, max: number): readonly ViewItem[] {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const m = items[mid]!;
    if (m.seq < item.seq || (m.seq === item.seq && m.sub < item.sub)) lo = mid + 1;
    else hi = mid;
  }
  const at = items[lo];
  if (at !== undefined && at.seq === item.seq && at.sub === item.sub) return items;
  const next = [...items.slice(0, lo), item, ...items.slice(lo)];
  return next.length > max ? next.slice(next.length - max) : next;
}

function emptyRoom(id: string): ViewRoom {
  return {
    id,
    name: `room-${id.slice(0, 6)}`,
    direct: false,
    joined: false,
    admin: false,
    epoch: 0,
    code: undefined,
    ttlMs: 0,
    members: [],
    invite: undefined,
    items: [],
    at: { name: -1, state: -1, joined: -1, ttl: -1, invite: -1, direct: -1 },
  };
}

const LEFT_BECAUSE = {
  left: 'you left',
  removed: 'you were removed',
  refused: 'a member refused to admit you',
  timeout: 'no member admitted you in time',
} as const;

/** A working copy: rooms and lists are copied on first change, the old view is never touched. */
class Draft {
  v: View;
  readonly rooms: Map<string, ViewRoom>;
  readonly seq: number;
  readonly at: number;
  constructor(view: View, s: Stamped) {
    this.v = { ...view, at: { ...view.at } };
    this.rooms = new Map(view.rooms);
    this.seq = s.seq;
    this.at = s.at;
  }

  /** The room, made if new; undefined if this event came before the room was left. */
  room(id: string, name?: string): ViewRoom | undefined {
    const gone = this.v.gone.get(id);
    if (gone !== undefined && gone >= this.seq) return undefined;
    const old = this.rooms.get(id) ?? emptyRoom(id);
    const r: ViewRoom = { ...old, at: { ...old.at } };
    if (name !== undefined && this.seq > r.at.name) {
      r.name = name;
      r.at.name = this.seq;
    }
    this.rooms.set(id, r);
    return r;
  }

  add(room: ViewRoom | undefined, item: Omit<NoticeItem, keyof Place> | Omit<BlockItem, keyof Place>, sub = 0): void {
    // Fields in one order per kind (see placeMessage).
    const placed = (item.kind === 'notice' ? { kind: 'notice', seq: this.seq, sub, at: this.at, text: item.text, tone: item.tone, code: item.code } : { kind: 'block', seq: this.seq, sub, at: this.at, title: item.title, lines: item.lines, tone: item.tone, of: item.of }) as ViewItem;
    if (room) room.items = insert(room.items, placed, VIEW_LIMITS.itemsPerRoom);
    else this.v = { ...this.v, lobby: insert(this.v.lobby, placed, VIEW_LIMITS.lobbyItems) };
  }

  /** In the room if it is (or may be) ours, else with no room. */
  addTo(roomId: string | undefined, item: Omit<NoticeItem, keyof Place> | Omit<BlockItem, keyof Place>): void {
    if (roomId === undefined) return this.add(undefined, item);
    const gone = this.v.gone.get(roomId);
    if (gone !== undefined && gone >= this.seq) return; // it went with the room
    this.add(this.room(roomId), item);
  }

  notice(roomId: string | undefined, text: string, tone: Tone, code?: ErrorCode): void {
    this.addTo(roomId, { kind: 'notice', text, tone, ...(code === undefined ? {} : { code }) });
  }

  /** A register of the view: set if this event is the latest to set it. */
  newer(field: keyof View['at']): boolean {
    if (this.seq <= this.v.at[field]) return false;
    this.v.at[field] = this.seq;
    return true;
  }

  done(): View {
    return { ...this.v, rooms: this.rooms };
  }
}

export function reduceView(view: View, stamped: Stamped): View {
  const d = new Draft(view, stamped);
  const ev = stamped.event;
  const seq = stamped.seq;
  switch (ev.type) {
    case 'message':
      message(d, ev);
      break;
    case 'expired': {
      const key = messageKey(ev.room, ev.fingerprint, ev.id);
      const expired = new Set(d.v.expired);
      expired.add(key);
      if (expired.size > VIEW_LIMITS.expiredKept) expired.delete(expired.values().next().value ?? '');
      d.v = { ...d.v, expired };
      // Only in its room: the same id in another room is another message (maybe not a timed one).
      const r = d.rooms.get(ev.room);
      if (r?.items.some((i) => i.kind === 'message' && i.key === key)) {
        const rest = { ...r, items: r.items.filter((i) => i.kind !== 'message' || i.key !== key) };
        // A room that only this message had made (the expiry came first elsewhere) is no room.
        if (firstSeq(rest) === undefined) d.rooms.delete(ev.room);
        else d.rooms.set(ev.room, rest);
      }
      break;
    }
    case 'joined': {
      if (d.newer('me')) d.v = { ...d.v, me: { name: ev.name, fingerprint: ev.fingerprint } };
      // In a room again after a fatal (`/join`): the client has something to do after all.
      if (d.newer('fatal')) d.v = { ...d.v, fatal: undefined };
      const r = d.room(ev.room, ev.roomName);
      if (!r) break;
      if (seq > r.at.joined) {
        r.joined = true;
        r.at.joined = seq;
      }
      setDirect(r, seq, ev.direct);
      d.notice(
        ev.room,
        ev.direct
          ? `direct room with ${ev.roomName}: only the two of you can read it`
          : `you are in ${ev.roomName} as ${ev.name}${ev.code === undefined ? '' : ` (room code ${ev.code} at epoch ${ev.epoch ?? 0}: compare it with a member's /code)`}`,
        'good',
      );
      break;
    }
    case 'room-state': {
      const r = d.room(ev.room, ev.roomName);
      if (!r || seq <= r.at.state) break;
      r.at.state = seq;
      setDirect(r, seq, ev.direct);
      r.admin = ev.admin;
      r.epoch = ev.epoch;
      r.code = ev.code;
      r.members = ev.members;
      if (seq > r.at.joined) {
        r.joined = ev.joined;
        r.at.joined = seq;
      }
      if (seq > r.at.ttl) {
        r.ttlMs = ev.ttlMs;
        r.at.ttl = seq;
      }
      break;
    }
    case 'member-joined':
      d.notice(ev.room, ev.direct ? `${ev.name} is in your direct room: only the two of you can read it` : `${ev.name} joined ${ev.roomName}`, 'join');
      break;
    case 'member-left': {
      const how = ev.by === undefined ? 'left' : ev.absent ? `was removed as absent (no sign of life) by ${ev.by}` : `was removed by ${ev.by}`;
      d.notice(ev.room, `${ev.name} ${how}${ev.by === undefined ? ` ${ev.roomName}` : ''}`, 'leave');
      break;
    }
    case 'users':
      d.addTo(ev.room, {
        kind: 'block',
        of: 'users',
        title: `members of ${ev.roomName}:`,
        lines: ev.users.map((u) => `${u.name}${u.self ? ' (you)' : u.verified ? '  verified' : '  not verified'}  ${u.fingerprint}`),
        tone: 'info',
      });
      break;
    case 'invite': {
      const r = d.room(ev.room, ev.roomName);
      if (!r) break;
      if (seq > r.at.invite) {
        r.invite = ev.link;
        r.at.invite = seq;
      }
      d.add(r, { kind: 'block', of: 'invite', title: `invite link for ${ev.roomName} (share it privately: it admits whoever holds it):`, lines: [ev.link], tone: 'info' });
      break;
    }
    case 'key-changed':
      d.notice(ev.room, `KEY CHANGED: ${ev.message}`, 'error', 'E_KEY_CHANGED');
      break;
    case 'error':
      d.notice(ev.room, `${ev.message} (${ev.code})`, 'error', ev.code);
      break;
    case 'fatal':
      if (d.newer('fatal')) d.v = { ...d.v, fatal: { code: ev.code, message: ev.message } };
      d.notice(undefined, `${ev.message} (${ev.code})`, 'error', ev.code);
      break;
    case 'connection': {
      const { type: _type, ...state } = ev;
      if (d.newer('connection')) d.v = { ...d.v, connection: state };
      if (state.state === 'connected') d.v = { ...d.v, everConnected: true };
      const text = connectionNotice(state);
      if (text) d.notice(undefined, text.text, text.tone);
      break;
    }
    case 'fingerprint':
      if (d.newer('me')) d.v = { ...d.v, me: { name: ev.name, fingerprint: ev.fingerprint } };
      d.add(undefined, { kind: 'block', of: 'fingerprint', title: `your fingerprint (${ev.name}): others see it in /users and compare it with theirs`, lines: [ev.fingerprint], tone: 'info' });
      break;
    case 'safety-number':
      d.addTo(ev.room, {
        kind: 'block',
        of: 'safety-number',
        title: `safety number with ${ev.name}: compare it with theirs over another channel${ev.verified ? `; ${ev.name} is marked verified` : ''}`,
        lines: [ev.safetyNumber],
        tone: 'good',
      });
      break;
    case 'room-code':
      d.notice(ev.room, `room code of ${ev.roomName}: ${ev.code} (epoch ${ev.epoch}; every member should see the same)`, 'info');
      break;
    case 'rooms':
      d.add(undefined, {
        kind: 'block',
        of: 'rooms',
        title: 'your rooms:',
        lines: ev.rooms.map((r) => `${r.current ? '* ' : '  '}${r.roomName}${r.direct ? ' (direct)' : ''}  ${r.members} member${r.members === 1 ? '' : 's'}${r.joined ? '' : ' (waiting to be admitted)'}`),
        tone: 'info',
      });
      break;
    case 'switched':
      d.room(ev.room, ev.roomName);
      break;
    case 'current':
      if (d.newer('current')) d.v = { ...d.v, current: ev.room };
      break;
    case 'left': {
      const gone = new Map(d.v.gone);
      gone.set(ev.room, Math.max(gone.get(ev.room) ?? -1, seq));
      d.v = { ...d.v, gone };
      const r = d.rooms.get(ev.room);
      if (r) {
        // What came before leaving goes with the room; a later return keeps what came after.
        const kept = afterLeaving(r, seq);
        if (kept) d.rooms.set(ev.room, kept);
        else d.rooms.delete(ev.room);
      }
      d.notice(undefined, `left ${ev.roomName}: ${LEFT_BECAUSE[ev.reason]}${ev.by === undefined ? '' : ` by ${ev.by}`}`, ev.reason === 'left' ? 'info' : 'warn', ev.code);
      break;
    }
    case 'help':
      d.add(undefined, { kind: 'block', of: 'help', title: 'commands (a plain line is a message):', lines: ev.text.split('\n'), tone: 'info' });
      break;
    case 'info':
      d.notice(ev.room, ev.message, 'info');
      break;
    case 'time':
      if (d.newer('time')) d.v = { ...d.v, time: ev.state };
      d.notice(undefined, ev.message, ev.state === 'proven' ? 'info' : 'warn');
      break;
    case 'ttl': {
      const r = d.room(ev.room, ev.roomName);
      if (!r) break;
      if (seq > r.at.ttl) {
        r.ttlMs = ev.ms;
        r.at.ttl = seq;
      }
      d.add(r, { kind: 'notice', text: ev.text, tone: 'info' });
      break;
    }
    default: {
      const never: never = ev;
      throw new Error(`unhandled event ${JSON.stringify(never)}`);
    }
  }
  return d.done();
}

function setDirect(r: ViewRoom, seq: number, direct: boolean): void {
  if (seq <= r.at.direct) return;
  r.direct = direct;
  r.at.direct = seq;
}

/** What is left of a room after leaving it at `seq`: only what came later (a return), or nothing. */
function afterLeaving(r: ViewRoom, seq: number): ViewRoom | undefined {
  const items: ViewItem[] = [];
  for (const i of r.items) {
    if (i.kind !== 'message') {
      if (i.seq > seq) items.push(i);
      continue;
    }
    // A message emitted again after the return stays, from that emission on.
    const emits = i.emits.filter((e) => e.seq > seq);
    if (emits.length > 0) items.push(emits.length === i.emits.length ? i : placeMessage(emits));
  }
  items.sort((a, b) => a.seq - b.seq || a.sub - b.sub);
  const later = [...items.map((i) => i.seq), ...Object.values(r.at)].filter((s) => s > seq);
  if (later.length === 0) return undefined;
  const fresh = emptyRoom(r.id);
  const kept: ViewRoom = { ...fresh, items, at: { ...fresh.at } };
  if (r.at.name > seq) [kept.name, kept.at.name] = [r.name, r.at.name];
  if (r.at.state > seq) {
    Object.assign(kept, { admin: r.admin, epoch: r.epoch, code: r.code, members: r.members });
    kept.at.state = r.at.state;
  }
  if (r.at.direct > seq) [kept.direct, kept.at.direct] = [r.direct, r.at.direct];
  if (r.at.joined > seq) [kept.joined, kept.at.joined] = [r.joined, r.at.joined];
  if (r.at.ttl > seq) [kept.ttlMs, kept.at.ttl] = [r.ttlMs, r.at.ttl];
  if (r.at.invite > seq) [kept.invite, kept.at.invite] = [r.invite, r.at.invite];
  return kept;
}

function message(d: Draft, ev: Extract<ClientEvent, { type: 'message' }>): void {
  // Shown again by the expiry keeper: the entry is there (hidden while time was unproven), or it
  // went with its room or scrolled away, and a UI must not show it anew (at the bottom, as new).
  if (ev.again === true) return;
  const key = messageKey(ev.room, ev.fingerprint, ev.id);
  if (d.v.expired.has(key)) return;
  // Only the item: a message sets nothing of its room, so that one taken back by its expiry leaves no trace.
  const r = d.room(ev.room);
  if (!r) return;
  const fields: MessageContent = {
    kind: 'message' as const,
    key,
    id: ev.id,
    from: ev.from,
    fingerprint: ev.fingerprint,
    text: ev.text,
    ts: ev.ts,
    self: ev.self === true,
    action: ev.action === true,
    direct: ev.direct,
    ...(ev.gap ? { gap: ev.gap } : {}),
    ...(ev.expiresAt === undefined ? {} : { expiresAt: ev.expiresAt }),
    ...(ev.untimed ? { untimed: true as const } : {}),
  };
  const old = r.items.find((i): i is MessageItem => i.kind === 'message' && i.key === key);
  const emission = { seq: d.seq, at: d.at, content: fields };
  if (!old) {
    r.items = insert(r.items, placeMessage([emission]), VIEW_LIMITS.itemsPerRoom);
    return;
  }
  // The same message again: one entry, where it was first shown, as it was first shown. The id
  // is the sender's choice: a sender that sends it again with another text (once this device's
  // dedup window forgot it) must not edit what was read.
  if (old.emits.some((e) => e.seq === d.seq)) return;
  const emits = [...old.emits, emission].sort((a, b) => a.seq - b.seq);
  r.items = insert(r.items.filter((i) => i !== old), placeMessage(emits), VIEW_LIMITS.itemsPerRoom);
}

/**
 * A message entry stands where its first emission is, as that emission said it. Every entry has
 * the same fields in the same order (absent ones undefined): lookups over a room's items stay
 * monomorphic, which makes them several times faster (measured: bench/view in the closing note).
 */
function placeMessage(emits: MessageItem['emits']): MessageItem {
  const first = emits[0]!;
  const c = first.content;
  return {
    kind: 'message',
    seq: first.seq,
    sub: 0,
    at: first.at,
    key: c.key,
    id: c.id,
    from: c.from,
    fingerprint: c.fingerprint,
    text: c.text,
    ts: c.ts,
    self: c.self,
    action: c.action,
    direct: c.direct,
    gap: c.gap,
    expiresAt: c.expiresAt,
    untimed: c.untimed,
    emits,
  };
}

function connectionNotice(s: ConnectionState): { text: string; tone: Tone } | undefined {
  switch (s.state) {
    case 'connecting':
      return undefined;
    case 'connected': {
      // With several relays, which one (a failover is a relay change: what it missed is resent).
      if (s.relays > 1)
        return { text: s.restarted ? `connected to ${s.endpoint} (another relay, or it restarted; resending what it may have missed)` : `connected to ${s.endpoint}`, tone: 'join' };
      return { text: s.restarted ? 'connected (the relay restarted; resending what it may have missed)' : 'connected', tone: 'join' };
    }
    case 'reconnecting':
      // Said when the connection is lost, not at every retry.
      if (s.attempt > 1) return undefined;
      return { text: s.relays > 1 ? `connection to ${s.endpoint} lost (${s.reason}); reconnecting` : `connection lost (${s.reason}); reconnecting`, tone: 'leave' };
    case 'offline':
      // Closed on purpose (quit): nothing to warn about.
      return s.reason === 'quit' ? undefined : { text: `offline: ${s.reason}`, tone: 'error' };
    default:
      return undefined;
  }
}

/** The lowest `seq` that shows in the room (its registers and items); undefined for an empty room. */
export function firstSeq(r: ViewRoom): number | undefined {
  let min = Infinity;
  for (const s of Object.values(r.at)) if (s >= 0 && s < min) min = s;
  const first = r.items[0];
  if (first !== undefined && first.seq < min) min = first.seq;
  return min === Infinity ? undefined : min;
}
