/**
 * What an interface asks of the view (view.ts): the rooms in order, the current room, what a
 * pane shows (`timeline`), unread counts, key-change warnings, stable item keys; and
 * `ViewStore`, which stamps a client's events and keeps its view.
 */
import type { ClientEvent } from './events.js';
import { firstSeq, initialView, reduceView, type Stamped, type View, type ViewItem, type ViewRoom } from './view.js';

/** The rooms in the order they first appeared. */
export function roomList(view: View): ViewRoom[] {
  return [...view.rooms.values()].sort((a, b) => (firstSeq(a) ?? 0) - (firstSeq(b) ?? 0) || (a.id < b.id ? -1 : 1));
}

export function currentRoom(view: View): ViewRoom | undefined {
  return view.current === undefined ? undefined : view.rooms.get(view.current);
}

/** Whether an item is shown now: a timed message is hidden while time is not proven. */
export function isShown(view: View, item: ViewItem): boolean {
  return item.kind !== 'message' || item.expiresAt === undefined || view.time === 'proven';
}

/**
 * What a room's pane shows, in order: its items and the items of no room (connection, proven
 * time, rooms left), without what is hidden. With no room: the items of no room.
 */
export function timeline(view: View, roomId: string | undefined): ViewItem[] {
  const own = roomId === undefined ? [] : (view.rooms.get(roomId)?.items ?? []);
  const merged: ViewItem[] = [];
  let i = 0;
  let j = 0;
  const lobby = view.lobby;
  while (i < own.length || j < lobby.length) {
    const a = own[i];
    const b = lobby[j];
    const takeOwn = b === undefined || (a !== undefined && (a.seq < b.seq || (a.seq === b.seq && a.sub <= b.sub)));
    const item = takeOwn ? a! : b;
    if (takeOwn) i++;
    else j++;
    if (isShown(view, item)) merged.push(item);
  }
  return merged;
}

/** Messages from others in the room after `seenSeq` (what this interface last showed of it). */
export function unreadCount(view: View, roomId: string, seenSeq: number): number {
  const r = view.rooms.get(roomId);
  if (!r) return 0;
  let n = 0;
  for (const i of r.items) if (i.kind === 'message' && !i.self && i.seq > seenSeq && isShown(view, i)) n++;
  return n;
}

/**
 * Members whose key changed and was neither verified nor trusted, per room (a UI's warning
 * banner); `fingerprint`: the new key, so that a UI tells a second key under the same name from
 * the first (a warning the user dismissed is about one key, not about a name).
 */
export function keyWarnings(view: View): Array<{ room: string; roomName: string; name: string; fingerprint: string; blocked: boolean }> {
  const out: Array<{ room: string; roomName: string; name: string; fingerprint: string; blocked: boolean }> = [];
  for (const r of roomList(view)) for (const m of r.members) if (m.keyChanged) out.push({ room: r.id, roomName: r.name, name: m.name, fingerprint: m.fingerprint, blocked: m.blocked });
  return out;
}

/** A stable key per item (a message by sender and id, the rest by place). */
export function itemKey(item: ViewItem): string {
  return item.kind === 'message' ? `m:${item.key}` : `${item.seq}.${item.sub}`;
}

/**
 * Holds the view of one client: stamps each event as it comes (`seq`, `at`) and reduces it.
 * Listeners get the new view and the stamped event.
 */
export class ViewStore {
  #view: View;
  #seq = 0;
  readonly #now: () => number;
  readonly #listeners = new Set<(view: View, stamped: Stamped) => void>();
  readonly #off: () => void;

  constructor(client: { name: string; on(listener: (e: ClientEvent) => void): () => void }, now: () => number = Date.now) {
    this.#view = initialView(client.name);
    this.#now = now;
    this.#off = client.on((event) => this.apply(event));
  }

  get view(): View {
    return this.#view;
  }

  apply(event: ClientEvent): void {
    const stamped: Stamped = { seq: ++this.#seq, at: this.#now(), event };
    this.#view = reduceView(this.#view, stamped);
    for (const l of [...this.#listeners]) l(this.#view, stamped);
  }

  subscribe(listener: (view: View, stamped: Stamped) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Stops following the client. */
  close(): void {
    this.#off();
    this.#listeners.clear();
  }
}
