/**
 * Line mode (`safehouse join --plain`, or when stdin or stdout is not a terminal): the shared
 * view (core/client/view.ts) printed as lines, each item once, as it becomes visible. A printed
 * line cannot be taken back: a timed message that expires is said to have expired, and one that
 * is shown again once time is proven again is not printed twice (it is one item in the view).
 *
 * Everything that came from a peer goes through `safeText`, so no control or escape sequence,
 * bidi override or zero-width character reaches the terminal (THREATS D.23).
 */
import { currentRoom, isShown, itemKey, safeText, type Stamped, type View, type ViewItem, type ViewRoom } from '@safehouse/core/client';

const s = (x: string): string => safeText(x);

/** Printed keys remembered (the view keeps at most this many items per room anyway). */
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
  readonly #printed = new Set<string>();
  #current: string | undefined;
  #hadCurrent = false;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** Prints what `stamped` made visible in `view`. */
  update(view: View, stamped: Stamped): void {
    const ev = stamped.event;
    if (ev.type === 'expired' && this.#printed.has(`m:${ev.fingerprint}/${ev.id}`)) {
      this.#write('-- a timed message expired (the client forgot it; this terminal\'s scrollback still shows it)');
    }
    // Proven time came back: held timed messages become visible (at their old places).
    const all = ev.type === 'time' || ev.type === 'message';
    for (const { item, room } of this.#candidates(view, all ? -1 : stamped.seq)) {
      const key = itemKey(item);
      if (this.#printed.has(key) || !isShown(view, item)) continue;
      this.#remember(key);
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

  #remember(key: string): void {
    this.#printed.add(key);
    if (this.#printed.size > REMEMBERED) this.#printed.delete(this.#printed.values().next().value ?? '');
  }
}
