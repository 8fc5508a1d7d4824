import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digitGroups, fit, graphemes, truncate, width, wrapText } from './wrap.js';

describe('wrapText (terminal columns, whole graphemes)', () => {
  it('breaks at spaces, indents nothing, keeps every word', () => {
    expect(wrapText('the quick brown fox jumps', 10)).toEqual(['the quick', 'brown fox', 'jumps']);
    expect(wrapText('a\nb c', 3)).toEqual(['a', 'b c']);
    expect(wrapText('', 5)).toEqual(['']);
  });

  it('counts CJK and emoji as two columns and never splits a grapheme', () => {
    expect(wrapText('你好世界你好', 5)).toEqual(['你好', '世界', '你好']);
    expect(wrapText('👋👋👋', 4)).toEqual(['👋👋', '👋']);
    // e + combining acute is one grapheme of width 1
    expect(wrapText('e\u0301e\u0301e\u0301', 2)).toEqual(['e\u0301e\u0301', 'e\u0301']);
    // wider than the line: its own line, not lost
    expect(wrapText('👋', 1)).toEqual(['👋']);
  });

  it('a first line of another width (after a prefix)', () => {
    expect(wrapText('aaaa bbbb cccc', 9, 4)).toEqual(['aaaa', 'bbbb cccc']);
    // a word that fits a full line but not the first one moves down whole
    expect(wrapText('abcdef', 8, 3)).toEqual(['', 'abcdef']);
  });

  it('property: no line is wider than the width; no grapheme is lost or reordered', () => {
    const pieces = ['a', 'b', ' ', 'é', '你', '好', '👋', 'مر', 'ح', 'e\u0301', 'xyz', '  '];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces), { maxLength: 60 }),
        fc.integer({ min: 2, max: 30 }),
        (parts, cols) => {
          const text = parts.join('');
          const lines = wrapText(text, cols);
          for (const l of lines) expect(width(l)).toBeLessThanOrEqual(cols);
          expect(graphemes(lines.join('')).filter((g) => g !== ' ')).toEqual(graphemes(text).filter((g) => g !== ' '));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('truncate, fit, digitGroups', () => {
  it('cuts to columns with an ellipsis and pads to exactly the width', () => {
    expect(truncate('hello world', 6)).toBe('hello…');
    expect(truncate('你好世界', 5)).toBe('你好…');
    expect(width(fit('你好世界', 5))).toBe(5);
    expect(fit('ab', 4)).toBe('ab  ');
  });
  it('lays 60 digits out as 3 lines of 4 groups', () => {
    const fp = Array.from({ length: 12 }, (_, i) => String(i).padStart(5, '0')).join(' ');
    expect(digitGroups(fp)).toEqual(['00000 00001 00002 00003', '00004 00005 00006 00007', '00008 00009 00010 00011']);
  });
});
