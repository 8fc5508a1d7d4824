/**
 * Makes peer-supplied text safe to show (THREATS D.22–23): nothing a peer sends may move the
 * cursor, clear a screen, set a title, write the clipboard (OSC 52), open a hyperlink (OSC 8),
 * reorder text (bidi overrides) or hide text (zero-width characters).
 *
 * Every such character is replaced by a visible stand-in: C0 controls by their Control Pictures
 * (ESC → ␛, BEL → ␇), DEL by ␡, and C1 controls, format characters (bidi, zero-width, BOM),
 * line/paragraph separators and private-use or unassigned code points by `<U+XXXX>`. Lone
 * surrogates become U+FFFD. Newlines are kept only when `multiline` is set; a tab becomes a space.
 * The result contains no character below U+0020 except, if asked, `\n`.
 */

export type SafeTextOptions = {
  /** Keep `\n` (a UI that renders several lines); otherwise it is shown as ␤. */
  multiline?: boolean;
  /** Cut the result to this many code points, adding `…`. */
  maxChars?: number;
};

const NEUTRAL = /[\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u;

function visible(cp: number): string {
  return `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`;
}

export function safeText(text: string, options: SafeTextOptions = {}): string {
  let out = '';
  let count = 0;
  const max = options.maxChars ?? Infinity;
  for (const c of String(text)) {
    if (count >= max) {
      out += '…';
      break;
    }
    count++;
    const cp = c.codePointAt(0) ?? 0;
    if (cp === 0x0a) out += options.multiline ? '\n' : '␤';
    else if (cp === 0x09) out += ' ';
    else if (cp < 0x20) out += String.fromCodePoint(0x2400 + cp);
    else if (cp === 0x7f) out += '␡';
    else if (cp >= 0x80 && cp <= 0x9f) out += visible(cp);
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else if (NEUTRAL.test(c)) out += visible(cp);
    else out += c;
  }
  return out;
}
