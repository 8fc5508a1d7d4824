/**
 * Line mode (`safehouse join --plain`, or when stdin or stdout is not a terminal): the shared
 * view (core/client/view.ts) printed as lines, each item once, as it becomes visible. A printed
 * line cannot be taken back: a timed message that expires is said to have expired, and one that
 * is shown again once time is proven again is not printed twice (it is one item in the view).
 *
 * Everything that came from a peer goes through `safeText`, so no control or escape sequence,
 * bidi override or zero-width character reaches the terminal (THREATS D.23).
 */
import { currentRoom, isShown, itemKey, messageKey, safeText, type Stamped, type View, type ViewItem, type ViewRoom } from '@safehouse/core/client';

const s = (x: string): string => safeText(x);

/**
 * Printed keys remembered before the set is pruned. Pruning forgets only keys the view no longer
 * holds: the view keeps up to 2,000 items per room and 200 of no room, for every room, and an
 * item still in the view that the printer forgot would be printed again (a quiet room's old
 * messages, after a flood in another). So the set is bounded by the view's own bound.
 */
const REMEMBERED = 20_000;

function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** One item as line-mode text (`room`: the room it is in, when that is not obvious). */
export function formatItem(item: ViewItem, room: ViewRoom | undefined, current: string | undefined): string {
  switch (item.kind) {
    case 'message': {
      const where = room?.direct ? `[dm ${s(room.name)}] ` : room && room.id !== current ? `[${s(room.name)}] ` : '';
      const text = safeText(item.text, { multiline: true }).replace(/\n/g, '\n      ');
      const tags = (item.untimed ? " [untimed! sent without the room's timer]" : '') + (item.expiresAt === undefined ? '' : ` [expires ${new Date(item.expiresAt).toTimeString().slice(0, 8)}]`);
      const gap = item.gap ? `!! ${item.gap} earlier message${item.gap === 1 ? '' : 's'} from ${s(item.from)} did not arrive (yet): dropped or delayed\n` : '';
      const line = item.action ? `${clock(item.ts)} ${where}* ${s(item.from)} ${text}` : `${clock(item.ts)} ${where}<${s(item.from)}> ${text}`;
      return gap + line + tags;
    }
    case 'notice':
      return `${item.tone === 'warn' || item.tone === 'error' ? '!!' : '--'} ${safeText(item.text, { maxChars: 4000 })}`;
    case 'block':
      return [`-- ${safeText(item.title, { maxChars: 4000 })}`, ...item.lines.map((l) => `   ${safeText(l, { maxChars: 4000 })}`)].join('\n');
    default: {
      const never: never = item;
      return String(never);
    }
  }
}

export class LinePrinter {
  readonly #write: (text: string) => void;
  #printed = new Set<string>();
  /** The size at which the printed set is pruned next (at least `REMEMBERED`). */
  #pruneAt = REMEMBERED;
  #current: string | undefined;
  #hadCurrent = false;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** Prints what `stamped` made visible in `view`. */
  update(view: View, stamped: Stamped): void {
    const ev = stamped.event;
    if (ev.type === 'expired' && this.#printed.has(`m:${messageKey(ev.room, ev.fingerprint, ev.id)}`)) {
      this.#write('-- a timed message expired (the client forgot it; this terminal\'s scrollback still shows it)');
    }
    // Proven time came back: held timed messages become visible (at their old places). Anything
    // else shows at its own `seq`, but a message merged into an earlier entry of its room (the
    // same message again) stands at that entry's place: that entry is looked at too. Never every
    // item of every room per message: with many rooms' history that is a flood's CPU amplifier.
    const candidates = this.#candidates(view, ev.type === 'time' ? -1 : stamped.seq);
    if (ev.type === 'message') {
      const room = view.rooms.get(ev.room);
      const key = messageKey(ev.room, ev.fingerprint, ev.id);
      const entry = room?.items.find((i) => i.kind === 'message' && i.key === key);
      if (room && entry && entry.seq < stamped.seq) candidates.unshift({ item: entry, room });
    }
    for (const { item, room } of candidates) {
      const key = itemKey(item);
      if (this.#printed.has(key) || !isShown(view, item)) continue;
      this.#remember(key, view);
      this.#write(formatItem(item, room, view.current));
    }
    if (view.current !== this.#current) {
      this.#current = view.current;
      const room = currentRoom(view);
      if (this.#hadCurrent && room) this.#write(`-- now in ${s(room.name)}: plain lines go there`);
      this.#hadCurrent ||= room !== undefined;
    }
  }

  /** Items at `seq` or later (all of them for -1), in order. */
  #candidates(view: View, seq: number): Array<{ item: ViewItem; room: ViewRoom | undefined }> {
    const out: Array<{ item: ViewItem; room: ViewRoom | undefined }> = [];
    const take = (items: readonly ViewItem[], room: ViewRoom | undefined): void => {
      for (let i = items.length - 1; i >= 0; i--) {
        const item = items[i]!;
        if (item.seq < seq) break;
        out.push({ item, room });
      }
    };
    take(view.lobby, undefined);
    for (const room of view.rooms.values()) take(room.items, room);
    return out.sort((a, b) => a.item.seq - b.item.seq || a.item.sub - b.item.sub);
  }

  #remember(key: string, view: View): void {
    this.#printed.add(key);
    if (this.#printed.size <= this.#pruneAt) return;
    // Forget what the view no longer holds; never what it still shows (it would print again).
    const held = new Set<string>();
    for (const i of view.lobby) held.add(itemKey(i));
    for (const r of view.rooms.values()) for (const i of r.items) held.add(itemKey(i));
    this.#printed = new Set([...this.#printed].filter((k) => held.has(k)));
    this.#pruneAt = Math.max(REMEMBERED, 2 * this.#printed.size);
  }
}
