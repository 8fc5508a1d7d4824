/**
 * The input line: editing by grapheme (an emoji or an accented letter is one step), a history
 * (Up/Down), horizontal scrolling by display width, Tab to complete a member's name, and the
 * usual shell keys (Ctrl-A/E/U/K/W, Home/End). Keys the app handles (PageUp/PageDown, Esc,
 * Ctrl-C/D/N/P) are left to it.
 */
import { Text, useCursor, useInput } from 'ink';
import { useReducer, useRef } from 'react';
import { graphemes, width } from './wrap.js';

export const MAX_HISTORY = 200;

type Props = {
  width: number;
  onSubmit: (line: string) => void;
  /** Names to complete with Tab (the current room's members). */
  names?: () => string[];
  /** Takes key presses (false while something else has the keyboard). */
  active?: boolean;
  /** Quitting: the line shows that, and takes nothing. */
  leaving?: boolean;
  placeholder?: string;
  prompt?: string;
  /** The screen row this line is on: the terminal's own cursor is put there (IME, screen readers). */
  row?: number;
};

type Edit = { chars: string[]; cursor: number };

/** What the keyboard may type into the line: no control characters; a pasted newline is a space. */
export function cleanTyped(input: string): string {
  return [...input.replace(/\r\n|\r|\n|\t/g, ' ')].filter((c) => !isControl(c)).join('');
}

/** C0, DEL and C1 controls. */
export function isControl(c: string): boolean {
  const cp = c.codePointAt(0) ?? 0;
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

function wordStart(chars: string[], at: number): number {
  let i = at;
  while (i > 0 && chars[i - 1] === ' ') i--;
  while (i > 0 && chars[i - 1] !== ' ') i--;
  return i;
}

function wordEnd(chars: string[], at: number): number {
  let i = at;
  while (i < chars.length && chars[i] === ' ') i++;
  while (i < chars.length && chars[i] !== ' ') i++;
  return i;
}

/** Completes the word before the cursor with a name (the common prefix when several match). */
export function complete(e: Edit, names: string[]): Edit {
  const start = wordStart(e.chars, e.cursor);
  const word = e.chars.slice(start, e.cursor).join('');
  if (word === '') return e;
  const matches = names.filter((n) => n.toLowerCase().startsWith(word.toLowerCase()));
  if (matches.length === 0) return e;
  let prefix = matches[0] ?? '';
  for (const m of matches) while (!m.toLowerCase().startsWith(prefix.toLowerCase())) prefix = prefix.slice(0, -1);
  // One match: the whole name and a space; several: as far as they agree.
  const text = matches.length === 1 ? `${prefix} ` : prefix.length > word.length ? prefix : word;
  const ins = graphemes(text);
  return { chars: [...e.chars.slice(0, start), ...ins, ...e.chars.slice(e.cursor)], cursor: start + ins.length };
}

export function InputLine({
  width: cols,
  onSubmit,
  names,
  active = true,
  leaving = false,
  placeholder = '',
  prompt = '› ',
  row,
}: Props) {
  const { setCursorPosition } = useCursor();
  // The line lives in a ref: two reads can arrive before React re-renders (and re-subscribes
  // this handler), and the second must see what the first typed.
  const editRef = useRef<Edit>({ chars: [], cursor: 0 });
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const setEdit = (e: Edit): void => {
    editRef.current = e;
    rerender();
  };
  const history = useRef<string[]>([]);
  /** Position in the history while browsing it; `history.length` is the line being typed. */
  const browse = useRef(0);
  const draft = useRef<string[]>([]);
  const offset = useRef(0);

  useInput(
    (input, key) => {
      if (key.pageUp || key.pageDown || key.escape) return;
      if (key.ctrl && ['c', 'd', 'n', 'p', 'l'].includes(input)) return;
      const edit = editRef.current;
      const { chars, cursor } = edit;
      const set = (next: string[], at: number): void =>
        setEdit({ chars: next, cursor: Math.max(0, Math.min(next.length, at)) });
      if (key.return) {
        const line = chars.join('');
        if (line.trim() === '') return;
        const h = history.current;
        if (h[h.length - 1] !== line) h.push(line);
        if (h.length > MAX_HISTORY) h.splice(0, h.length - MAX_HISTORY);
        browse.current = h.length;
        set([], 0);
        onSubmit(line);
        return;
      }
      if (key.upArrow || key.downArrow) {
        const h = history.current;
        if (browse.current === h.length) draft.current = chars;
        browse.current = Math.max(0, Math.min(h.length, browse.current + (key.upArrow ? -1 : 1)));
        const next = browse.current === h.length ? draft.current : graphemes(h[browse.current] ?? '');
        set(next, next.length);
        return;
      }
      if (key.tab) {
        if (names) setEdit(complete(edit, names()));
        return;
      }
      if (key.leftArrow) return set(chars, key.ctrl || key.meta ? wordStart(chars, cursor) : cursor - 1);
      if (key.rightArrow) return set(chars, key.ctrl || key.meta ? wordEnd(chars, cursor) : cursor + 1);
      if (key.home || (key.ctrl && input === 'a')) return set(chars, 0);
      if (key.end || (key.ctrl && input === 'e')) return set(chars, chars.length);
      if (key.backspace || key.delete)
        return cursor > 0 ? set([...chars.slice(0, cursor - 1), ...chars.slice(cursor)], cursor - 1) : undefined;
      if (key.ctrl && input === 'u') return set(chars.slice(cursor), 0);
      if (key.ctrl && input === 'k') return set(chars.slice(0, cursor), cursor);
      if (key.ctrl && input === 'w') {
        const start = wordStart(chars, cursor);
        return set([...chars.slice(0, start), ...chars.slice(cursor)], start);
      }
      if (key.ctrl || key.meta) return;
      // Text and Enter can arrive in one read (fast typing over a slow link, a pasted line):
      // each line ending submits what precedes it.
      const parts = input.split(/\r\n|\r|\n/);
      let line = chars.slice(0, cursor);
      const tail = chars.slice(cursor);
      for (let i = 0; i < parts.length - 1; i++) {
        const text = [...line, ...graphemes(cleanTyped(parts[i] ?? '')), ...(i === 0 ? tail : [])].join('');
        line = [];
        if (text.trim() === '') continue;
        const h = history.current;
        if (h[h.length - 1] !== text) h.push(text);
        browse.current = h.length;
        onSubmit(text);
      }
      const typed = graphemes(cleanTyped(parts[parts.length - 1] ?? ''));
      if (parts.length > 1) return set([...line, ...typed], line.length + typed.length);
      if (typed.length === 0) return;
      set([...chars.slice(0, cursor), ...typed, ...chars.slice(cursor)], cursor + typed.length);
    },
    { isActive: active && !leaving },
  );

  const avail = Math.max(1, cols - width(prompt));
  const { chars, cursor } = editRef.current;
  // Scroll sideways just enough to keep the cursor (one column at the end) in view.
  let start = Math.min(offset.current, cursor);
  while (start < cursor && width(chars.slice(start, cursor).join('')) + 1 > avail) start++;
  offset.current = start;
  let end = start;
  let used = 0;
  const reserve = cursor >= chars.length ? 1 : 0;
  while (end < chars.length) {
    const w = width(chars[end] ?? '');
    if (used + w > avail - reserve) break;
    used += w;
    end++;
  }
  const before = chars.slice(start, cursor).join('');
  setCursorPosition(active && !leaving && row !== undefined ? { x: width(prompt) + width(before), y: row } : undefined);
  const at = cursor < end ? (chars[cursor] ?? ' ') : ' ';
  const after = chars.slice(cursor + 1, end).join('');
  if (leaving)
    return (
      <Text dimColor wrap="truncate-end">
        {prompt}leaving: delivering what is pending… (Ctrl-C again: leave at once)
      </Text>
    );
  return (
    <Text wrap="truncate-end">
      <Text color="cyan" bold>
        {prompt}
      </Text>
      {chars.length === 0 && placeholder !== '' ? (
        <>
          <Text inverse> </Text>
          <Text dimColor>{placeholder.slice(0, Math.max(0, avail - 1))}</Text>
        </>
      ) : (
        <>
          {before}
          <Text inverse>{at}</Text>
          {after}
        </>
      )}
    </Text>
  );
}
