/**
 * What the terminal shows of the view (core's `View`, the same for every UI), and the little it
 * adds of its own: which lines the message pane holds (the current room's timeline, with the
 * direct messages that came from elsewhere while it was on screen), what was read per room, and
 * which key warnings the banner still shows. Pure functions of the view and the screen's state.
 */
import {
  currentRoom,
  isShown,
  keyWarnings,
  roomList,
  timeline,
  unreadCount,
  type View,
  type ViewItem,
} from '@safehouse/core/client';
import type { QrText } from './qr.js';

/** A QR code over the chat. `copy`: what `c` puts on the clipboard (our own link, never peer text). */
export type Overlay = { title: string; text: string[]; qr: QrText; footer: string; copy?: string };

/** The terminal's state: the view, and what is the terminal's own. Immutable: a change is a new one. */
export type Screen = {
  readonly view: View;
  /** When the connection last changed (local ms): the reconnect countdown counts from it. */
  readonly connectionAt: number;
  readonly overlay: Overlay | undefined;
  /** The key warnings (`warningKey`) on screen when Esc hid the banner: another one shows it again. */
  readonly bannerHidden: ReadonlySet<string>;
  readonly quitting: boolean;
  /** Per room, the highest item `seq` shown while it was on screen: what was read. */
  readonly seen: ReadonlyMap<string, number>;
};

/**
 * An entry of the pane: a view item; for a direct message shown outside its room, its tag
 * (`dm`, or `dm → NAME` for our own; NAME as the peer sent it: drawing makes it safe).
 */
export type PaneItem = { item: ViewItem; tag?: string };

/** Direct messages of other rooms that came while the current room was on screen (not before). */
function mirrored(view: View): Array<{ room: string; name: string; items: ViewItem[] }> {
  const cur = view.current;
  if (cur === undefined) return [];
  const since = view.at.current;
  const out: Array<{ room: string; name: string; items: ViewItem[] }> = [];
  for (const r of view.rooms.values()) {
    if (!r.direct || r.id === cur) continue;
    const items = r.items.filter((i) => i.kind === 'message' && i.seq > since && isShown(view, i));
    if (items.length > 0) out.push({ room: r.id, name: r.name, items });
  }
  return out;
}

/** The message pane: the current room's timeline (core's `timeline`) and the direct messages from elsewhere, in order. */
export function paneItems(view: View): PaneItem[] {
  const own: PaneItem[] = timeline(view, view.current).map((item) => ({ item }));
  const extra = mirrored(view);
  if (extra.length === 0) return own;
  const dms = extra.flatMap(({ name, items }) =>
    items.map((item): PaneItem => ({ item, tag: item.kind === 'message' && item.self ? `dm → ${name}` : 'dm' })),
  );
  return [...own, ...dms].sort((a, b) => a.item.seq - b.item.seq || a.item.sub - b.item.sub);
}

/** The `seq` of the last item of `items` that is shown now. */
function lastShown(view: View, items: readonly ViewItem[]): number | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (isShown(view, item)) return item.seq;
  }
  return undefined;
}

/** `seen` after this view was on screen: the current room, and the direct messages shown with it. */
export function markSeen(view: View, seen: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
  let next: Map<string, number> | undefined;
  const mark = (room: string, seq: number | undefined): void => {
    if (seq === undefined || (seen.get(room) ?? -1) >= seq) return;
    next ??= new Map(seen);
    next.set(room, seq);
  };
  const cur = currentRoom(view);
  if (cur) mark(cur.id, lastShown(view, cur.items));
  for (const { room, items } of mirrored(view)) mark(room, lastShown(view, items));
  return next ?? seen;
}

/** Unread messages per room (never the current one). */
export function unread(screen: Screen, room: string): number {
  return room === screen.view.current ? 0 : unreadCount(screen.view, room, screen.seen.get(room) ?? -1);
}

/** Unread messages in the rooms not on screen. */
export function unreadElsewhere(screen: Screen): number {
  return roomList(screen.view).reduce((n, r) => n + unread(screen, r.id), 0);
}

export type KeyWarning = ReturnType<typeof keyWarnings>[number];

/** A warning is about one key under a name in a room: another key under the same name is a new warning (the banner shows again). */
export const warningKey = (w: KeyWarning): string => `${w.room}/${w.name}/${w.fingerprint}`;

/** The key warnings, if the banner shows them (it does until Esc, and again for a new one). */
export function bannerWarnings(screen: Screen): KeyWarning[] {
  const all = keyWarnings(screen.view);
  return all.some((w) => !screen.bannerHidden.has(warningKey(w))) ? all : [];
}
