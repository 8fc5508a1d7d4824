/**
 * How the message pane's entries (pane.ts: view items) become styled screen lines at a given
 * width. Everything an item holds came from the view as peers sent it: it goes through
 * text.ts's `safeText` here, before it is measured or cut. What each notice says is the view's
 * (core, the same words in every UI); what is drawn around it is the terminal's own: colors, a
 * fingerprint in groups of digits, the keys after `/help`.
 */
import type { MessageItem, ViewItem, ViewTone } from '@safehouse/core/client';
import type { PaneItem } from './pane.js';
import { bodyText, lineText, nameText } from './text.js';
import { digitGroups, fit, truncate, width, wrapText } from './wrap.js';

export type Seg = { text: string; color?: string; bold?: boolean; dim?: boolean; italic?: boolean; inverse?: boolean };
export type ScreenLine = Seg[];

/** The keys of the terminal UI, shown after the commands (`/help`). */
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

export const TONE_COLOR: Record<ViewTone, string> = {
  info: 'gray',
  good: 'green',
  join: 'green',
  leave: 'yellow',
  warn: 'redBright',
  error: 'red',
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

function layoutMessage(m: MessageItem, tag: string | undefined, cols: number, indent: number): ScreenLine[] {
  const from = nameText(m.from);
  const text = bodyText(m.text);
  const shownTag = tag ?? (m.direct ? 'dm' : undefined);
  const time: Seg = { text: `${clock(m.ts)} `, ...(m.expiresAt === undefined ? { dim: true } : { color: 'yellow' }) };
  const tags: Seg[] = [
    ...(m.untimed ? [{ text: '[untimed!] ', color: 'red', bold: true }] : []),
    ...(shownTag ? [{ text: `[${lineText(shownTag)}] `, color: 'magenta', bold: true }] : []),
  ];
  const color = m.self ? 'cyan' : nameColor(from);
  const textStyle: Omit<Seg, 'text'> = m.direct ? { color: 'magenta' } : m.action ? { italic: true } : {};
  const gap = m.gap
    ? hanging(
        [],
        `${m.gap} earlier message${m.gap === 1 ? '' : 's'} from ${from} did not arrive (yet): dropped or delayed`,
        { color: TONE_COLOR.warn, bold: true },
        cols,
        0,
      )
    : [];
  const lines = m.action
    ? hanging(
        [time, ...tags, { text: '* ', bold: true }, { text: `${from} `, color, bold: true }],
        text,
        { ...textStyle, italic: true },
        cols,
        indent,
      )
    : hanging(
        [time, ...tags, { text: from, color, bold: true }, { text: ': ', dim: true }],
        text,
        textStyle,
        cols,
        indent,
      );
  return [...gap, ...lines];
}

/** A title and a list (members, rooms, digit groups): each item indented, wrapped under itself; pairs in two columns. */
function layoutBlock(
  title: string,
  items: (string | [string, string])[],
  color: string | undefined,
  cols: number,
): ScreenLine[] {
  const head = wrapText(title, cols).map((t): ScreenLine => [{ text: t, color, bold: true }]);
  const left = Math.min(
    Math.floor(cols * 0.4),
    Math.max(0, ...items.map((l) => (typeof l === 'string' ? 0 : width(l[0])))),
  );
  const pairs = cols - left - 4 >= 16;
  const body = items.flatMap((item) => {
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
  return [...head, ...body];
}

function layoutItem(item: ViewItem, tag: string | undefined, cols: number): ScreenLine[] {
  const indent = cols >= 40 ? 6 : 2;
  switch (item.kind) {
    case 'message':
      return layoutMessage(item, tag, cols, indent);
    case 'notice': {
      const bold = item.tone === 'warn' || item.tone === 'error';
      return hanging(
        [{ text: `${clock(item.at)} `, dim: true }],
        lineText(item.text),
        { color: TONE_COLOR[item.tone], bold },
        cols,
        indent,
      );
    }
    case 'block': {
      const title = lineText(item.title);
      const lines = item.lines.map(lineText);
      const color = TONE_COLOR[item.tone];
      if (item.of === 'fingerprint' || item.of === 'safety-number')
        return layoutBlock(
          title,
          lines.flatMap((l) => digitGroups(l)),
          color,
          cols,
        );
      if (item.of === 'invite')
        return [
          ...layoutBlock(title, [], color, cols),
          ...lines.flatMap((l) => wrapText(l, cols).map((t): ScreenLine => [{ text: t, color: 'cyan' }])),
          [{ text: '/invite shows it as a QR code', dim: true }],
        ];
      if (item.of === 'help')
        return [...layoutBlock(title, lines, undefined, cols), ...layoutBlock('keys:', KEY_HELP, undefined, cols)];
      // Lists to read (members, rooms) in the terminal's own color.
      return layoutBlock(title, lines, item.of === 'users' || item.of === 'rooms' ? undefined : color, cols);
    }
    default: {
      const never: never = item;
      return never;
    }
  }
}

/** The screen lines of one pane entry. */
export function layoutEntry(entry: PaneItem, cols: number): ScreenLine[] {
  return layoutItem(entry.item, entry.tag, cols);
}

/** The screen lines of the pane, laid out once per item, width and tag (view items are immutable). */
export class LineCache {
  #cache = new WeakMap<ViewItem, { cols: number; tag: string | undefined; lines: ScreenLine[] }>();

  lines(entries: readonly PaneItem[], cols: number): ScreenLine[] {
    const out: ScreenLine[] = [];
    for (const e of entries) {
      let c = this.#cache.get(e.item);
      if (!c || c.cols !== cols || c.tag !== e.tag)
        this.#cache.set(e.item, (c = { cols, tag: e.tag, lines: layoutEntry(e, cols) }));
      for (const l of c.lines) out.push(l);
    }
    return out;
  }
}
