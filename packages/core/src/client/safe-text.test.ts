import { describe, expect, it } from 'vitest';
import { safeText } from './safe-text.js';

describe('safeText', () => {
  it('keeps ordinary text of any script', () => {
    expect(safeText('hello, мир! 你好 <b>x</b>')).toBe('hello, мир! 你好 <b>x</b>');
  });
  it('shows terminal escapes instead of emitting them', () => {
    const out = safeText('a\u001b[2Jb\u001b]0;title\u0007c\u001b]52;c;AAAA\u001b\\');
    expect([...out].every((c) => c.charCodeAt(0) >= 0x20 && (c.charCodeAt(0) < 0x7f || c.charCodeAt(0) > 0x9f))).toBe(true);
    expect(out).toContain('␛[2J');
    expect(safeText('\u009b31m')).toBe('<U+009B>31m');
  });
  it('neutralises bidi and zero-width characters', () => {
    expect(safeText('abc\u202edcba')).toBe('abc<U+202E>dcba');
    expect(safeText('a\u200bb\u2066c\ufeff')).toBe('a<U+200B>b<U+2066>c<U+FEFF>');
  });
  it('keeps newlines only when asked', () => {
    expect(safeText('a\nb')).toBe('a␤b');
    expect(safeText('a\nb', { multiline: true })).toBe('a\nb');
    expect(safeText('a\r\nb', { multiline: true })).toBe('a␍\nb');
    expect(safeText('a\tb')).toBe('a b');
  });
  it('replaces lone surrogates and cuts long text', () => {
    expect(safeText('a\ud800b')).toBe('a\ufffdb');
    expect(safeText('abcdef', { maxChars: 3 })).toBe('abc…');
  });
});
