/**
 * What the terminal UI knows, built from client events: the rooms with their scrollback and
 * members, the connection, key-change warnings, an overlay (a QR code). With apply.ts (what each
 * event changes) it is the one place where peer text becomes screen text: every name, room name
 * and message goes through `safeText` there (THREATS D.23), so nothing a peer sends reaches the
 * terminal as a control sequence.
 *
 * Mutable, with a version number that React reads through `useSyncExternalStore`.
 */
import { safeText, type ClientEvent, type ConnectionState, type UserInfo } from '@safehouse/core/client';
import type { Entry, Tone } from './lines.js';
import { qrText, type QrText } from './qr.js';
import { applyEvent } from './apply.js';

/** Scrollback kept per room, in entries. */
export const MAX_ENTRIES = 2000;

/** Names and room names (a name has at most 32 characters: more is not a name). */
const s = (x: string): string => safeText(x, { maxChars: 200 });

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
  ['Ctrl-L', 'draw the screen again'],
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

  clearWarning(name: string): void {
    this.warnings = this.warnings.filter((w) => w.name !== name);
    for (const r of this.rooms.values()) {
      const m = r.members.get(name);
      if (m) m.keyChanged = false;
    }
  }

  /** The member list from a `users` event (keeps the key-change marks). */
  setUsers(room: RoomView, users: UserInfo[]): void {
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
    applyEvent(this, ev, origin);
    this.changed();
  }
}
