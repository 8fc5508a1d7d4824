/**
 * What the terminal UI knows, built from client events: the rooms with their scrollback and
 * members, the connection, key-change warnings, an overlay (a QR code). It is the one place where
 * peer text becomes screen text: every name, room name and message goes through `safeText`
 * here (THREATS D.23), so nothing a peer sends reaches the terminal as a control sequence.
 *
 * Mutable, with a version number that React reads through `useSyncExternalStore`.
 */
import { safeText, type ClientEvent, type ConnectionState, type UserInfo } from '@safehouse/core/client';
import type { Entry, Tone } from './lines.js';
import { qrText, type QrText } from './qr.js';
import { digitGroups } from './wrap.js';

/** Scrollback kept per room, in entries. */
export const MAX_ENTRIES = 2000;

/** Names and room names (a name has at most 32 characters: more is not a name). */
const s = (x: string): string => safeText(x, { maxChars: 200 });
/** Sentences from the client (they may quote a fingerprint). */
const sm = (x: string): string => safeText(x, { maxChars: 2000 });

export type MemberView = { name: string; fingerprint: string; verified: boolean; self: boolean; keyChanged: boolean };

export type RoomView = {
  id: string;
  name: string;
  direct: boolean;
  /** A member (false while waiting to be admitted). */
  joined: boolean;
  entries: Entry[];
  unread: number;
  members: Map<string, MemberView>;
  code?: string;
  /** The room's message timer (ms; 0 or absent: off). */
  ttl?: number;
};

/** 90000 → "90s", 300000 → "5m": the largest unit that divides evenly. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}

export type KeyWarning = { room: string; roomName: string; name: string; message: string };
/** `copy`: what `c` puts on the clipboard (our own link, never peer text). */
export type Overlay = { title: string; text: string[]; qr: QrText; footer: string; copy?: string };

/** How an event reached the model: `quiet` ones refresh panes and print nothing. */
export type Origin = { quiet?: boolean; asked?: 'invite' | 'fingerprint' | 'verify' | 'trust' };

export const KEY_HELP: [string, string][] = [
  ['Enter', 'send the line'],
  ['Up/Down', 'input history'],
  ['PageUp/PageDown', 'scroll the messages'],
  ['Ctrl-N/Ctrl-P', 'next/previous room'],
  ['Tab', "complete a member's name"],
  ['Esc', 'close a QR code; hide the key-change warning'],
  ['Ctrl-C, Ctrl-D', 'deliver what is pending, leave and exit (as /quit)'],
  ['members', '✓ verified (/verify NAME), · not verified, ! key changed, • you'],
];

export class ChatModel {
  version = 0;
  me: { name: string; fingerprint?: string } = { name: '' };
  readonly rooms = new Map<string, RoomView>();
  current: string | undefined;
  /** Shown while there is no room yet. */
  readonly lobby: Entry[] = [];
  connection: ConnectionState & { at: number } = { state: 'connecting', attempt: 1, at: 0 };
  warnings: KeyWarning[] = [];
  bannerHidden = false;
  overlay: Overlay | undefined;
  quitting = false;
  /** Whether time is proven (Roughtime): without it, timed messages are hidden. */
  time: 'proven' | 'unproven' | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(readonly now: () => number = Date.now) {}

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  changed(): void {
    this.version++;
    for (const l of [...this.#listeners]) l();
  }

  currentRoom(): RoomView | undefined {
    return this.current === undefined ? undefined : this.rooms.get(this.current);
  }

  entries(): Entry[] {
    const all = this.currentRoom()?.entries ?? this.lobby;
    // Without proven time a timed message could outlive its expiry: not shown until time is back.
    return this.time === 'unproven' ? all.filter((e) => e.kind !== 'message' || e.expiresAt === undefined) : all;
  }

  setCurrent(id: string | undefined): void {
    if (id === this.current || (id !== undefined && !this.rooms.has(id))) return;
    this.current = id;
    const room = this.currentRoom();
    if (room) room.unread = 0;
    this.changed();
  }

  /** Adds a line to a room's pane (the current one when `room` is not given or unknown). */
  log(entry: Entry, room?: string): void {
    const target = (room !== undefined ? this.rooms.get(room) : undefined) ?? this.currentRoom();
    const list = target?.entries ?? this.lobby;
    list.push(entry);
    if (list.length > MAX_ENTRIES) list.splice(0, list.length - MAX_ENTRIES);
    if (target && target.id !== this.current && entry.kind === 'message') target.unread++;
  }

  notice(text: string, tone: Tone, room?: string): void {
    this.log({ kind: 'notice', ts: this.now(), text, tone }, room);
  }

  ensureRoom(id: string, name: string, direct: boolean): RoomView {
    let room = this.rooms.get(id);
    if (!room) {
      // The first room takes over what was said before it existed (the fingerprint, "joining").
      const entries = this.rooms.size === 0 ? this.lobby.splice(0) : [];
      room = { id, name: s(name), direct, joined: false, entries, unread: 0, members: new Map() };
      this.rooms.set(id, room);
      this.current ??= id;
    }
    return room;
  }

  showQr(title: string, text: string[], data: string, copy?: string): void {
    const footer = `${copy ? 'c copies the link · ' : ''}Esc, Enter or q goes back to the chat`;
    this.overlay = { title, text, qr: qrText(data), footer, ...(copy ? { copy } : {}) };
  }

  /** After `c`: says what happened (a terminal may refuse programs the clipboard). */
  copied(): void {
    if (!this.overlay) return;
    this.overlay = {
      ...this.overlay,
      footer: 'sent to the clipboard (if this terminal lets programs set it) · Esc goes back',
    };
    this.changed();
  }

  closeOverlay(): boolean {
    if (!this.overlay) return false;
    this.overlay = undefined;
    this.changed();
    return true;
  }

  hideBanner(): boolean {
    if (this.warnings.length === 0 || this.bannerHidden) return false;
    this.bannerHidden = true;
    this.changed();
    return true;
  }

  #clearWarning(name: string): void {
    this.warnings = this.warnings.filter((w) => w.name !== name);
    for (const r of this.rooms.values()) {
      const m = r.members.get(name);
      if (m) m.keyChanged = false;
    }
  }

  #setUsers(room: RoomView, users: UserInfo[]): void {
    const old = room.members;
    room.members = new Map(
      users.map((u) => {
        const name = s(u.name);
        return [
          name,
          {
            name,
            fingerprint: u.fingerprint,
            verified: u.verified,
            self: u.self,
            keyChanged: old.get(name)?.keyChanged ?? false,
          },
        ];
      }),
    );
  }

  apply(ev: ClientEvent, origin: Origin = {}): void {
    this.#apply(ev, origin);
    this.changed();
  }

  #apply(ev: ClientEvent, origin: Origin): void {
    const now = this.now();
    switch (ev.type) {
      case 'message': {
        const room = this.ensureRoom(ev.room, ev.roomName, ev.direct);
        const from = s(ev.from);
        const text = safeText(ev.text, { multiline: true });
        if (ev.gap)
          this.notice(
            `${ev.gap} earlier message${ev.gap === 1 ? '' : 's'} from ${from} did not arrive (yet): dropped or delayed`,
            'warn',
            ev.room,
          );
        const entry: Entry = {
          kind: 'message',
          id: ev.id,
          ts: ev.ts,
          from,
          text,
          self: ev.self === true,
          action: ev.action === true,
          ...(ev.expiresAt !== undefined ? { expiresAt: ev.expiresAt } : {}),
        };
        this.log(ev.direct ? { ...entry, direct: 'dm' } : entry, ev.room);
        // A direct message in another room than the one on screen is shown here too, marked.
        if (ev.direct && this.current !== undefined && this.current !== ev.room) {
          this.log({ ...entry, direct: ev.self ? `dm → ${room.name}` : 'dm' });
        }
        return;
      }
      case 'joined': {
        const room = this.ensureRoom(ev.room, ev.roomName, ev.direct);
        room.joined = true;
        this.me = { ...this.me, name: s(ev.name), fingerprint: ev.fingerprint };
        if (!room.members.has(this.me.name))
          room.members.set(this.me.name, {
            name: this.me.name,
            fingerprint: ev.fingerprint,
            verified: false,
            self: true,
            keyChanged: false,
          });
        this.notice(
          ev.direct
            ? `direct room with ${room.name}: only the two of you can read it`
            : `you are in ${room.name} as ${this.me.name}`,
          'good',
          ev.room,
        );
        return;
      }
      case 'invite': {
        const room = this.ensureRoom(ev.room, ev.roomName, false);
        const link = s(ev.link.slice(0, 2048));
        this.notice(
          `invite link for ${room.name} — share it privately: it admits whoever holds it${origin.asked ? '' : ' (/invite shows its QR code)'}:`,
          'info',
          ev.room,
        );
        this.log({ kind: 'notice', text: link, tone: 'link' }, ev.room);
        if (origin.asked === 'invite')
          this.showQr(
            `Invite to ${room.name}`,
            ['Share privately: whoever holds this link can ask to join.', link],
            ev.link,
            link,
          );
        return;
      }
      case 'member-joined': {
        const room = this.ensureRoom(ev.room, ev.roomName, false);
        const name = s(ev.name);
        room.members.set(name, { name, fingerprint: ev.fingerprint, verified: false, self: false, keyChanged: false });
        this.notice(
          room.direct ? `→ ${name} joined this direct room` : `→ ${name} joined ${room.name}`,
          'join',
          ev.room,
        );
        return;
      }
      case 'member-left': {
        const room = this.rooms.get(ev.room);
        const name = s(ev.name);
        room?.members.delete(name);
        this.notice(`← ${name} left ${room?.name ?? s(ev.roomName)}`, 'leave', ev.room);
        return;
      }
      case 'users': {
        const room = this.ensureRoom(ev.room, ev.roomName, false);
        this.#setUsers(room, ev.users);
        if (origin.quiet) return;
        const lines = [...room.members.values()].map((m): [string, string] => [
          `${m.name}${m.self ? ' (you)' : ''}`,
          `${m.self ? '' : m.verified ? 'verified; ' : 'not verified; '}fingerprint ${m.fingerprint}`,
        ]);
        this.log({ kind: 'block', title: `members of ${room.name}:`, lines, tone: 'plain' }, ev.room);
        return;
      }
      case 'key-changed': {
        const room = this.ensureRoom(ev.room, ev.roomName, false);
        const name = s(ev.name);
        const m = room.members.get(name);
        if (m) m.keyChanged = true;
        this.warnings = [
          ...this.warnings.filter((w) => w.name !== name),
          { room: ev.room, roomName: room.name, name, message: sm(ev.message) },
        ];
        this.bannerHidden = false;
        this.notice(`KEY CHANGED: ${name} in ${room.name} has a new key: ${sm(ev.message)}`, 'warn', ev.room);
        return;
      }
      case 'error':
        this.notice(`${sm(ev.message)} (${ev.code})`, 'error', ev.room);
        return;
      case 'fatal':
        this.notice(`${sm(ev.message)} (${ev.code}) — /join LINK, /room create NAME, or /quit`, 'error');
        return;
      case 'connection': {
        const was = this.connection.state;
        this.connection = { ...ev, at: now };
        if (ev.state === 'reconnecting' && was !== 'reconnecting')
          this.notice(`connection lost (${sm(ev.reason)}); reconnecting`, 'leave');
        if (ev.state === 'connected' && (was === 'reconnecting' || ev.restarted))
          this.notice(
            ev.restarted
              ? 'connected again (the relay restarted; resending what it may have missed)'
              : 'connected again',
            'join',
          );
        if (ev.state === 'offline') this.notice(`offline: ${sm(ev.reason)}`, 'error');
        return;
      }
      case 'fingerprint': {
        this.me = { name: s(ev.name), fingerprint: ev.fingerprint };
        const title = `your fingerprint (${this.me.name}) — others see it in /users and compare it with theirs:`;
        this.log({ kind: 'block', title, lines: digitGroups(ev.fingerprint), tone: 'info' });
        if (origin.asked === 'fingerprint')
          this.showQr(
            `Your fingerprint (${this.me.name})`,
            digitGroups(ev.fingerprint),
            ev.fingerprint.replace(/ /g, ''),
          );
        return;
      }
      case 'safety-number': {
        const name = s(ev.name);
        const room = this.rooms.get(ev.room);
        const m = room?.members.get(name);
        if (m) m.verified = ev.verified;
        this.#clearWarning(name);
        const title = `safety number with ${name}: compare it with theirs over another channel${ev.verified ? `; ${name} is now marked verified` : ''}`;
        this.log({ kind: 'block', title, lines: digitGroups(ev.safetyNumber), tone: 'good' }, ev.room);
        this.showQr(
          `Safety number with ${name}`,
          [...digitGroups(ev.safetyNumber), `${name} scans this, or reads the digits aloud.`],
          ev.safetyNumber.replace(/ /g, ''),
        );
        return;
      }
      case 'room-code': {
        const room = this.ensureRoom(ev.room, ev.roomName, false);
        room.code = ev.code;
        if (!origin.quiet)
          this.notice(`room code of ${room.name}: ${ev.code} (every member should see the same)`, 'info', ev.room);
        return;
      }
      case 'rooms': {
        for (const r of ev.rooms) {
          const room = this.ensureRoom(r.room, r.roomName, r.direct);
          room.joined = r.joined;
        }
        if (origin.quiet) return;
        const lines = ev.rooms.map(
          (r) =>
            `${r.current ? '*' : ' '} ${s(r.roomName)}${r.direct ? ' (direct)' : ''}  ${r.members} members${r.joined ? '' : ' (waiting to be admitted)'}`,
        );
        this.log({ kind: 'block', title: 'your rooms (Ctrl-N/Ctrl-P or /switch ROOM):', lines, tone: 'plain' });
        return;
      }
      case 'switched':
        this.ensureRoom(ev.room, ev.roomName, false);
        this.setCurrent(ev.room);
        return;
      case 'left': {
        const name = this.rooms.get(ev.room)?.name ?? s(ev.roomName);
        this.rooms.delete(ev.room);
        if (this.current === ev.room) this.current = this.rooms.keys().next().value;
        const why = {
          left: 'you left',
          removed: 'you were removed',
          refused: 'a member refused to admit you',
          timeout: 'no member admitted you in time',
        }[ev.reason];
        this.notice(`${why}: ${name}`, ev.reason === 'left' ? 'info' : 'error');
        return;
      }
      case 'help':
        this.log({
          kind: 'block',
          title: 'commands (a plain line is a message):',
          lines: ev.text.split('\n'),
          tone: 'plain',
        });
        this.log({ kind: 'block', title: 'keys:', lines: KEY_HELP, tone: 'plain' });
        return;
      case 'expired':
        // Wiped from every pane it is in (a direct message may also be shown in another room's).
        for (const list of [this.lobby, ...[...this.rooms.values()].map((r) => r.entries)]) {
          for (let i = list.length - 1; i >= 0; i--) {
            const e = list[i];
            if (e?.kind === 'message' && e.id === ev.id) list.splice(i, 1);
          }
        }
        return;
      case 'time': {
        const was = this.time;
        this.time = ev.state;
        if (ev.state === 'unproven')
          this.notice(`${sm(ev.message)} — timed messages are hidden until time is proven again`, 'warn');
        else if (was === 'unproven') this.notice(sm(ev.message), 'info');
        return;
      }
      case 'ttl': {
        const room = this.ensureRoom(ev.room, ev.roomName, false);
        room.ttl = ev.ms;
        this.notice(sm(ev.text), 'info', ev.room);
        return;
      }
      case 'info':
        if (origin.asked === 'trust') {
          for (const w of this.warnings) if (ev.message.includes(w.name)) this.#clearWarning(w.name);
        }
        this.notice(sm(ev.message), 'info', ev.room);
        return;
      default: {
        const never: never = ev;
        return never;
      }
    }
  }
}
