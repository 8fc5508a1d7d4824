/**
 * The page's state: the client's view (core/client/view.ts: what every interface shows, with
 * its wording) and what only this page adds to it — the open dialog, whether the tab is hidden,
 * what was read in each room and where its "new messages" marker stands, whether the visit
 * ended. One pure function (`reducePage`) and selectors; the components read nothing else.
 * Every string in the view may come from a peer: ui/*.tsx renders it as text nodes only.
 */
import { isShown, itemKey, timeline, unreadCount, VIEW_LIMITS, type CommandOutcome, type View, type ViewItem, type ViewRoom } from '@safehouse/core/client';

export type Dialog =
  | { kind: 'safety'; room: string; name: string; safetyNumber: string; verified: boolean }
  | { kind: 'invite'; roomName: string; link: string }
  | { kind: 'code'; roomName: string; code: string; epoch: number }
  | { kind: 'verify-ask'; name: string }
  | { kind: 'identity' }
  | { kind: 'help'; text: string };

export type PageState = {
  view: View;
  /** The tab is in the background: what arrives counts as unread. */
  hidden: boolean;
  dialog: Dialog | undefined;
  /** Per room: the highest item `seq` shown while the room was on screen (what was read). */
  seen: ReadonlyMap<string, number>;
  /** Per room: what had been read when it was opened with unread messages; the marker goes after it. */
  marker: ReadonlyMap<string, number>;
  /** Answers shown in a dialog (their event's `seq`): the dialog shows them, the conversation does not. */
  inDialog: ReadonlySet<number>;
  /** `/quit` ran: delivered, every room left, the connection closed. */
  ended: boolean;
};

export type PageAction =
  | { type: 'view'; view: View }
  /** `answers`: the `seq` of the event the dialog shows. */
  | { type: 'dialog'; dialog: Dialog | undefined; answers?: number }
  | { type: 'visibility'; hidden: boolean }
  | { type: 'ended' };

export function initialPage(view: View): PageState {
  return read({ view, hidden: false, dialog: undefined, seen: new Map(), marker: new Map(), inDialog: new Set(), ended: false }, undefined);
}

export function reducePage(s: PageState, a: PageAction): PageState {
  switch (a.type) {
    case 'view':
      return read({ ...s, view: a.view }, visibleRoom(s));
    case 'dialog': {
      if (a.answers === undefined) return { ...s, dialog: a.dialog };
      const inDialog = [...s.inDialog, a.answers].slice(-VIEW_LIMITS.itemsPerRoom);
      return { ...s, dialog: a.dialog, inDialog: new Set(inDialog) };
    }
    case 'visibility':
      return read({ ...s, hidden: a.hidden }, visibleRoom(s));
    case 'ended':
      return { ...s, ended: true };
    default: {
      const never: never = a;
      throw new Error(`unhandled page action ${JSON.stringify(never)}`);
    }
  }
}

/** The room on screen: the current one, unless the tab is hidden. */
function visibleRoom(s: PageState): string | undefined {
  return s.hidden ? undefined : s.view.current;
}

/**
 * What was read: the room on screen has read everything it shows. A room that comes on screen
 * (opened, or the tab shown again) with unread messages gets its marker where they start.
 */
function read(s: PageState, wasVisible: string | undefined): PageState {
  const id = visibleRoom(s);
  const room = id === undefined ? undefined : s.view.rooms.get(id);
  // Rooms left are forgotten (a room joined again later starts unread).
  let seen = prune(s.seen, s.view);
  let marker = prune(s.marker, s.view);
  if (!room) return seen === s.seen && marker === s.marker ? s : { ...s, seen, marker };
  const before = seen.get(room.id) ?? -1;
  if (room.id !== wasVisible) {
    const next = new Map(marker);
    if (unreadCount(s.view, room.id, before) > 0) next.set(room.id, before);
    else next.delete(room.id);
    marker = next;
  }
  const last = lastShown(s.view, room);
  if (last > before) seen = new Map(seen).set(room.id, last);
  return seen === s.seen && marker === s.marker ? s : { ...s, seen, marker };
}

function prune(m: ReadonlyMap<string, number>, view: View): ReadonlyMap<string, number> {
  if ([...m.keys()].every((id) => view.rooms.has(id))) return m;
  return new Map([...m].filter(([id]) => view.rooms.has(id)));
}

function lastShown(view: View, room: ViewRoom): number {
  for (let i = room.items.length - 1; i >= 0; i--) {
    const item = room.items[i]!;
    if (isShown(view, item)) return item.seq;
  }
  return -1;
}

// --- Selectors: what the components ask. ---

/**
 * The current room's conversation: its timeline (timed messages hidden while time is unproven,
 * a message emitted again shown once), without what the page shows elsewhere: answers shown in
 * a dialog, and invite links (the Invite button and card show them, with a QR code).
 */
export function conversation(s: PageState): ViewItem[] {
  return timeline(s.view, s.view.current).filter((i) => !s.inDialog.has(i.seq) && !(i.kind === 'block' && i.of === 'invite'));
}

/** Messages from others in the room not read yet. */
export function unread(s: PageState, roomId: string): number {
  return unreadCount(s.view, roomId, s.seen.get(roomId) ?? -1);
}

/** Unread messages in every room, for the tab's title. */
export function unreadTotal(s: PageState): number {
  let n = 0;
  for (const id of s.view.rooms.keys()) n += unread(s, id);
  return n;
}

/** Where the current room's "new messages" marker goes: before the first unread message (its `itemKey`), if anywhere. */
export function markerBefore(s: PageState, items: readonly ViewItem[]): string | undefined {
  const id = s.view.current;
  const after = id === undefined ? undefined : s.marker.get(id);
  if (after === undefined) return undefined;
  const first = items.find((i) => i.kind === 'message' && !i.self && i.seq > after);
  return first && itemKey(first);
}

/** The dialog that shows a command's answer (`/verify`, `/safety`, `/code`, `/help`, `/invite`), if it has one. */
export function dialogFor(out: CommandOutcome): Dialog | undefined {
  if (!out.ok || out.shown === undefined) return undefined;
  const e = out.shown;
  const c = out.command;
  if ((c === 'safety' || c === 'verify') && e.type === 'safety-number') return { kind: 'safety', room: e.room, name: e.name, safetyNumber: e.safetyNumber, verified: e.verified };
  if (c === 'code' && e.type === 'room-code') return { kind: 'code', roomName: e.roomName, code: e.code, epoch: e.epoch };
  if (c === 'help' && e.type === 'help') return { kind: 'help', text: e.text };
  if (c === 'invite' && e.type === 'invite') return { kind: 'invite', roomName: e.roomName, link: e.link };
  // Other answers (`/users`, `/rooms`, a new room's link …) stay in the conversation.
  return undefined;
}
