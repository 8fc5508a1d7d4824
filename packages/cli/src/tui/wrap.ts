/**
 * Text measured in terminal columns: wide characters (CJK, most emoji) take two, combining marks
 * none (`string-width`, the measure ink itself lays out with). Nothing here ever splits a
 * grapheme cluster (`Intl.Segmenter`), so an accent never lands on the wrong line and an emoji
 * is never cut in half.
 *
 * Input is text that already went through `safeText`: no control characters but `\n`.
 */
import stringWidth from 'string-width';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Columns `text` takes in a terminal. */
export function width(text: string): number {
  return stringWidth(text);
}

/** Cuts `text` to at most `cols` columns, ending with `…` when something was cut. */
export function truncate(text: string, cols: number): string {
  if (cols <= 0) return '';
  if (width(text) <= cols) return text;
  let out = '';
  let w = 0;
  for (const g of graphemes(text)) {
    const gw = width(g);
    if (w + gw > cols - 1) break;
    out += g;
    w += gw;
  }
  return out + '…';
}

/** Pads `text` with spaces to exactly `cols` columns (cutting it first if longer). */
export function fit(text: string, cols: number): string {
  const t = truncate(text, cols);
  return t + ' '.repeat(Math.max(0, cols - width(t)));
}

/** Splits a word wider than a line into pieces of at most `cols` columns (at least one grapheme each). */
function hardSplit(word: string, firstCols: number, cols: number): string[] {
  const out: string[] = [];
  let cur = '';
  let w = 0;
  let limit = firstCols;
  for (const g of graphemes(word)) {
    const gw = width(g);
    if (w + gw > limit && cur !== '') {
      out.push(cur);
      cur = '';
      w = 0;
      limit = cols;
    }
    cur += g;
    w += gw;
  }
  if (cur !== '' || out.length === 0) out.push(cur);
  return out;
}

/**
 * Wraps `text` into lines: the first at most `firstCols` wide, the others at most `cols` wide.
 * Breaks at spaces when it can, inside a word only when the word is longer than a line; `\n`
 * starts a new line; spaces at a break are dropped. A grapheme wider than the line (an emoji at
 * width 1) gets a line of its own rather than being lost.
 */
export function wrapText(text: string, cols: number, firstCols: number = cols): string[] {
  cols = Math.max(1, Math.floor(cols));
  firstCols = Math.max(1, Math.floor(firstCols));
  const lines: string[] = [];
  const limit = (): number => (lines.length === 0 ? firstCols : cols);
  for (const paragraph of text.split('\n')) {
    let cur = '';
    let w = 0;
    const push = (): void => {
      lines.push(cur.trimEnd());
      cur = '';
      w = 0;
    };
    for (const token of paragraph.split(/( +)/)) {
      if (token === '') continue;
      const tw = width(token);
      if (token.startsWith(' ')) {
        // Spaces: kept inside a line, dropped at a break.
        if (w + tw <= limit()) {
          cur += token;
          w += tw;
        } else if (cur !== '') push();
        continue;
      }
      if (w + tw <= limit()) {
        cur += token;
        w += tw;
        continue;
      }
      // Fits on a line of its own: break before it (also when only a first-line prefix precedes).
      if (tw <= cols && (cur.trim() !== '' || (lines.length === 0 && tw > firstCols))) {
        push();
        cur = token;
        w = tw;
        continue;
      }
      // Longer than a line (or nothing to break before): fill this line, then whole lines.
      const pieces = hardSplit(token, Math.max(1, limit() - w), cols);
      if (w > 0 && width(pieces[0] ?? '') > limit() - w) push();
      for (let i = 0; i < pieces.length; i++) {
        if (i > 0) push();
        cur += pieces[i];
        w += width(pieces[i] ?? '');
      }
    }
    push();
  }
  return lines;
}

/** A 60-digit fingerprint or safety number ("12345 12345 ...") as lines of `perLine` groups. */
export function digitGroups(digits: string, perLine = 4): string[] {
  const groups = digits.split(' ').filter((g) => g !== '');
  const out: string[] = [];
  for (let i = 0; i < groups.length; i += perLine) out.push(groups.slice(i, i + perLine).join(' '));
  return out;
}
