/**
 * Line mode (`join --plain`, or when stdin or stdout is not a terminal) and `--json`: lines from
 * the input go to the client in order; out come lines of text, or one JSON event per line.
 *
 * The text is core's view (the same as the terminal UI's and the web's), printed as it grows. A
 * printed line cannot be taken back, so each item is printed once, when it is first shown: a
 * timed message that came while time was unproven is printed once time is proven; the same
 * message emitted again is not printed again; an expired one is said to have expired. What
 * line mode adds is its own: a tag on messages of a room that is not the current one, and a
 * line when the current room changes (it has no status bar). Everything from the view goes
 * through `safeText` (THREATS D.23).
 *
 * `--json` writes the client's events themselves: they are the interface (docs/cli.md).
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  isQuit,
  isShown,
  safeText,
  ViewStore,
  type MessageItem,
  type SafehouseClient,
  type Stamped,
  type View,
  type ViewItem,
} from '@safehouse/core/client';
import type { ErrorCode } from '@safehouse/core/protocol';

const s = (x: string): string => safeText(x);

function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Timed messages printed and remembered until they expire (the oldest are forgotten first). */
const PRINTED_TIMED_KEPT = 2_000;

/** A message's line(s); `where`: the room's tag when it is not the current room. */
function messageLines(m: MessageItem, where: string): string[] {
  const from = s(m.from);
  const text = safeText(m.text, { multiline: true }).replace(/\n/g, '\n      ');
  const timed =
    (m.untimed ? " [untimed! sent without the room's timer]" : '') +
    (m.expiresAt === undefined ? '' : ` [expires ${new Date(m.expiresAt).toTimeString().slice(0, 8)}]`);
  const gap = m.gap
    ? [`!! ${m.gap} earlier message${m.gap === 1 ? '' : 's'} from ${from} did not arrive (yet): dropped or delayed`]
    : [];
  const line = m.action
    ? `${clock(m.ts)} ${where}* ${from} ${text}${timed}`
    : `${clock(m.ts)} ${where}<${from}> ${text}${timed}`;
  return [...gap, line];
}

function itemLines(view: View, item: ViewItem, room: string | undefined): string[] {
  switch (item.kind) {
    case 'message': {
      const r = room === undefined ? undefined : view.rooms.get(room);
      const where = !r ? '' : r.direct ? `[dm ${s(r.name)}] ` : r.id === view.current ? '' : `[${s(r.name)}] `;
      return messageLines(item, where);
    }
    case 'notice':
      return [`${item.tone === 'error' || item.tone === 'warn' ? '!!' : '--'} ${s(item.text)}`];
    case 'block':
      return [`-- ${s(item.title)}`, ...item.lines.map((l) => `   ${s(l)}`)];
    default: {
      const never: never = item;
      return never;
    }
  }
}

/**
 * Turns each new view into the lines it adds. Keeps what it needs to print each item once:
 * the timed messages waiting for proven time, and the printed ones that may yet expire.
 */
export class LinePrinter {
  /** Messages first seen hidden (time unproven), by key, with their room. */
  readonly #waiting = new Map<string, string>();
  readonly #printedTimed = new Set<string>();
  #current: string | undefined;

  lines(view: View, stamped: Stamped): string[] {
    const out: string[] = [];
    const print = (item: ViewItem, room: string | undefined): void => {
      if (item.kind === 'message' && !isShown(view, item)) {
        this.#waiting.set(item.key, room ?? '');
        return;
      }
      if (item.kind === 'message' && item.expiresAt !== undefined) {
        this.#printedTimed.add(item.key);
        if (this.#printedTimed.size > PRINTED_TIMED_KEPT)
          this.#printedTimed.delete(this.#printedTimed.values().next().value ?? '');
      }
      out.push(...itemLines(view, item, room));
    };
    // The items this event added: the latest `seq`, so at the end of their lists.
    for (const [room, items] of [
      [undefined, view.lobby] as const,
      ...[...view.rooms].map(([id, r]) => [id, r.items] as const),
    ]) {
      const fresh: ViewItem[] = [];
      for (let i = items.length - 1; i >= 0 && items[i]!.seq >= stamped.seq; i--)
        if (items[i]!.seq === stamped.seq) fresh.unshift(items[i]!);
      for (const item of fresh) print(item, room);
    }
    // Held back while time was unproven: printed once it is proven (if still there).
    if (view.time === 'proven')
      for (const [key, room] of [...this.#waiting]) {
        const item = view.rooms.get(room)?.items.find((i) => i.kind === 'message' && i.key === key);
        if (item && !isShown(view, item)) continue;
        this.#waiting.delete(key);
        if (item) print(item, room);
      }
    for (const key of this.#waiting.keys())
      if (view.expired.has(key) || !view.rooms.has(this.#waiting.get(key)!)) this.#waiting.delete(key);
    for (const key of [...this.#printedTimed])
      if (view.expired.has(key)) {
        this.#printedTimed.delete(key);
        out.push('-- a timed message expired (the client forgot it; this terminal’s scrollback still shows it)');
      }
    // No status bar here: a line says which room plain lines now go to (not for the first).
    if (view.current !== this.#current) {
      const was = this.#current;
      this.#current = view.current;
      const r = view.current === undefined ? undefined : view.rooms.get(view.current);
      if (was !== undefined && r) out.push(`-- now in ${r.direct ? '@' : ''}${s(r.name)}`);
    }
    return out;
  }
}

/**
 * Runs one client from `input` until it ends or `/quit`: lines go to the client in order (it
 * waits for its start, and holds a message until a member admitted this device); then delivers
 * what is pending and leaves. Resolves with why the last room ended, if it did.
 */
export async function runLines(
  client: Pick<SafehouseClient, 'start' | 'command' | 'quit' | 'on' | 'name'>,
  io: { input: Readable; write: (text: string) => void; json: boolean },
): Promise<{ fatal: { code: ErrorCode; message: string } | undefined }> {
  const store = new ViewStore(client);
  if (io.json) client.on((ev) => io.write(JSON.stringify(ev) + '\n'));
  else {
    const printer = new LinePrinter();
    store.subscribe((view, stamped) => {
      for (const line of printer.lines(view, stamped)) io.write(line + '\n');
    });
  }
  const rl = createInterface({ input: io.input, terminal: false });
  let chain: Promise<unknown> = client.start();
  let quitting = false;
  const done = new Promise<void>((resolve) => {
    rl.on('line', (line) => {
      if (quitting) return;
      if (isQuit(line)) {
        quitting = true;
        rl.close();
        return;
      }
      chain = chain.then(() => client.command(line));
    });
    rl.on('close', resolve);
  });
  try {
    await done;
    await chain;
    await client.quit();
    return { fatal: store.view.fatal };
  } finally {
    rl.close();
    store.close();
  }
}
