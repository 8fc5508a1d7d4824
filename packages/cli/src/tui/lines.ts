/**
 * What the message pane shows: entries (a message, a notice, a block of preformatted lines) and
 * how each becomes styled screen lines at a given width. Entries hold text that already went
 * through `safeText` (model.ts makes them); layout only measures and cuts it.
 */
import { fit, truncate, width, wrapText } from './wrap.js';

export type Tone = 'plain' | 'info' | 'join' | 'leave' | 'error' | 'warn' | 'good' | 'link' | 'dm';

export type Seg = { text: string; color?: string; bold?: boolean; dim?: boolean; italic?: boolean; inverse?: boolean };
export type ScreenLine = Seg[];

export type Entry =
  | {
      kind: 'message';
      /** The message id and its sender's fingerprint (an expired timed message is removed by both: ids are the senders' choice). */
      id?: string;
      fingerprint?: string;
      ts: number;
      /** A timed message: when it disappears (Unix ms). */
      expiresAt?: number;
      /** Came without a valid expiry in a room with a timer (shown with a warning tag). */
      untimed?: boolean;
      from: string;
      text: string;
      self: boolean;
      action: boolean;
      /** A direct message: its tag (`dm`, or `dm → NAME` for our own shown in another room's pane). */
      direct?: string;
    }
  | { kind: 'notice'; ts?: number; text: string; tone: Tone }
  /** A title and a list (members, rooms, digit groups): each item indented, wrapped under itself. */
  | { kind: 'block'; title: string; lines: (string | [string, string])[]; tone: Tone };

export const TONE_COLOR: Record<Tone, string | undefined> = {
  plain: undefined,
  info: 'gray',
  join: 'green',
  leave: 'yellow',
  error: 'red',
  warn: 'redBright',
  good: 'green',
  link: 'cyan',
  dm: 'magenta',
};

const NAME_COLORS = [
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'greenBright',
  'yellowBright',
  'blueBright',
] as const;

/** A stable color per name, so a speaker is recognisable down the pane. */
export function nameColor(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return NAME_COLORS[h % NAME_COLORS.length] ?? 'green';
}

export function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * Lays `prefix` then `text` out over lines of `cols` columns; continuation lines are indented
 * by `indent`. When the prefix leaves too little room (a long name at 40 columns), the text
 * starts on the next line.
 */
function hanging(prefix: Seg[], text: string, style: Omit<Seg, 'text'>, cols: number, indent: number): ScreenLine[] {
  const pw = prefix.reduce((n, s) => n + width(s.text), 0);
  const rest = Math.max(1, cols - indent);
  const pad: Seg = { text: ' '.repeat(indent) };
  if (cols - pw < Math.min(12, rest)) {
    const head = prefix.map((s) => ({ ...s, text: truncate(s.text, cols) }));
    return [head, ...wrapText(text, rest).map((t) => [pad, { ...style, text: t }])];
  }
  return wrapText(text, rest, cols - pw).map((t, i) =>
    i === 0 ? [...prefix, { ...style, text: t }] : [pad, { ...style, text: t }],
  );
}

export function layoutEntry(e: Entry, cols: number): ScreenLine[] {
  const indent = cols >= 40 ? 6 : 2;
  switch (e.kind) {
    case 'message': {
      const time: Seg =
        e.expiresAt === undefined
          ? { text: `${clock(e.ts)} `, dim: true }
          : { text: `${clock(e.ts)} `, color: 'yellow' };
      const tag: Seg[] = [
        ...(e.untimed ? [{ text: '[untimed!] ', color: 'red', bold: true }] : []),
        ...(e.direct ? [{ text: `[${e.direct}] `, color: 'magenta', bold: true }] : []),
      ];
      const color = e.self ? 'cyan' : nameColor(e.from);
      const textStyle: Omit<Seg, 'text'> = e.direct ? { color: 'magenta' } : e.action ? { italic: true } : {};
      if (e.action)
        return hanging(
          [time, ...tag, { text: '* ', bold: true }, { text: `${e.from} `, color, bold: true }],
          e.text,
          { ...textStyle, italic: true },
          cols,
          indent,
        );
      return hanging(
        [time, ...tag, { text: e.from, color, bold: true }, { text: ': ', dim: true }],
        e.text,
        textStyle,
        cols,
        indent,
      );
    }
    case 'notice': {
      const time: Seg[] = e.ts === undefined ? [] : [{ text: `${clock(e.ts)} `, dim: true }];
      return hanging(
        time,
        e.text,
        { color: TONE_COLOR[e.tone], bold: e.tone === 'warn' || e.tone === 'error' },
        cols,
        e.ts === undefined ? 0 : indent,
      );
    }
    case 'block': {
      const color = TONE_COLOR[e.tone];
      const title = wrapText(e.title, cols).map((t): ScreenLine => [{ text: t, color, bold: true }]);
      // Pairs (a command and what it does) in two columns while the width allows.
      const left = Math.min(
        Math.floor(cols * 0.4),
        Math.max(0, ...e.lines.map((l) => (typeof l === 'string' ? 0 : width(l[0])))),
      );
      const pairs = cols - left - 4 >= 16;
      const items = e.lines.flatMap((item) => {
        if (typeof item !== 'string' && pairs) {
          const pad = ' '.repeat(left + 4);
          return wrapText(item[1], cols - left - 4).map((t, i): ScreenLine => [
            i === 0 ? { text: `  ${fit(item[0], left)}  `, color, bold: true } : { text: pad },
            { text: t, color },
          ]);
        }
        const l = typeof item === 'string' ? item : `${item[0]}: ${item[1]}`;
        return wrapText(l, Math.max(1, cols - 4), Math.max(1, cols - 2)).map((t, i): ScreenLine => [
          { text: `${i === 0 ? '  ' : '    '}${t}`, color },
        ]);
      });
      return [...title, ...items];
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** The screen lines of many entries, laid out once per entry and width. */
export class LineCache {
  #cache = new WeakMap<Entry, { cols: number; lines: ScreenLine[] }>();

  lines(entries: readonly Entry[], cols: number): ScreenLine[] {
    const out: ScreenLine[] = [];
    for (const e of entries) {
      let c = this.#cache.get(e);
      if (!c || c.cols !== cols) this.#cache.set(e, (c = { cols, lines: layoutEntry(e, cols) }));
      for (const l of c.lines) out.push(l);
    }
    return out;
  }
}
