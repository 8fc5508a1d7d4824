/**
 * Display names (THREATS D.22): what a name may contain, and when two names look alike.
 *
 * The alphabet, chosen so that a name is one word a command line can carry (`/msg NAME TEXT`,
 * `/verify NAME`) and nothing in it can hide, reorder or fake other text:
 *   - after Unicode NFKC normalisation (full-width forms, ligatures, compatibility digits fold);
 *   - 1 to 32 code points (LIMITS.maxNameChars);
 *   - letters (`\p{L}`) and digits (`\p{N}`) of any script, plus `_`, `-` and `.`;
 *   - combining marks (`\p{M}`) only after a letter, digit or mark, at most 3 in a row (scripts
 *     such as Devanagari need a few; a "Zalgo" flood of dozens is refused);
 *   - it starts with a letter or a digit;
 *   - no spaces, no control, format, bidi or zero-width characters (U+200B–200D, U+2060,
 *     U+FEFF, U+202A–202E, U+2066–2069 are all `\p{Cf}`), no line or paragraph separators,
 *     no symbols or other punctuation.
 *
 * Look-alikes: two names whose `nameSkeleton` is equal cannot coexist in a room. The skeleton
 * folds case, strips Latin/Greek/Cyrillic accents, maps common homoglyphs (Cyrillic а/о/е/р/с/х/і,
 * Greek ο/α/ρ/ν..., 0/o, 1/l/I/i, rn/m, vv/w) to one Latin form and drops the separators `_-.`.
 * It is deliberately coarse: a false "taken" costs a joiner another name; a false "different"
 * lets someone impersonate a member.
 */
import { LIMITS } from '../protocol/limits.js';

export type NameResult = { ok: true; name: string } | { ok: false; code: 'E_NAME_INVALID'; message: string };
export type NameCheck = { ok: true } | { ok: false; code: 'E_NAME_TAKEN'; message: string };

const MAX_MARKS_IN_A_ROW = 3;
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
const MARK = /^\p{M}$/u;
const SEPARATOR = /^[_.-]$/;

/** Describes a code point for an error message without printing it raw. */
function describe(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Normalises a display name (NFKC) and checks it against the alphabet above. Returns the
 * normalised name, or `E_NAME_INVALID` with a sentence saying what is wrong.
 */
export function normalizeName(raw: string): NameResult {
  const bad = (message: string): NameResult => ({ ok: false, code: 'E_NAME_INVALID', message });
  if (typeof raw !== 'string') return bad('a name must be text');
  const name = raw.normalize('NFKC');
  const chars = [...name];
  if (chars.length === 0) return bad('a name cannot be empty');
  if (chars.length > LIMITS.maxNameChars)
    return bad(`a name may have at most ${LIMITS.maxNameChars} characters, this one has ${chars.length}`);
  let marks = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    const cp = c.codePointAt(0) ?? 0;
    if (LETTER_OR_DIGIT.test(c)) {
      marks = 0;
      continue;
    }
    if (MARK.test(c)) {
      if (i === 0) return bad('a name cannot start with a combining mark');
      if (++marks > MAX_MARKS_IN_A_ROW) return bad(`a name may have at most ${MAX_MARKS_IN_A_ROW} combining marks in a row`);
      continue;
    }
    if (SEPARATOR.test(c)) {
      if (i === 0) return bad('a name must start with a letter or a digit');
      marks = 0;
      continue;
    }
    if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u.test(c))
      return bad(`a name cannot contain invisible or control characters (found ${describe(cp)})`);
    if (/\s/u.test(c)) return bad('a name cannot contain spaces (use _ - or . instead)');
    return bad(`a name may contain only letters, digits, "_", "-" and "." (found ${describe(cp)})`);
  }
  return { ok: true, name };
}

// Homoglyphs mapped before case folding (capitals that look like a different Latin letter
// than their lowercase form does, e.g. Greek Η looks like H but η like n).
const UPPER: Record<string, string> = {
  Α: 'a', Β: 'b', Ε: 'e', Ζ: 'z', Η: 'h', Ι: 'l', Κ: 'k', Μ: 'm', Ν: 'n', Ο: 'o', Ρ: 'p', Τ: 't', Υ: 'y', Χ: 'x',
  А: 'a', В: 'b', Е: 'e', К: 'k', М: 'm', Н: 'h', О: 'o', Р: 'p', С: 'c', Т: 't', Х: 'x', Ү: 'y', Ѕ: 's', І: 'l', Ј: 'j', Ԛ: 'q', Ԝ: 'w',
  I: 'l',
};

// Homoglyphs mapped after case folding and accent stripping.
const LOWER: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', з: '3', і: 'l', ї: 'l', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', п: 'n', р: 'p',
  с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ъ: 'b', ь: 'b', һ: 'h', ү: 'y', ɡ: 'g',
  // Greek
  α: 'a', β: 'b', γ: 'y', ε: 'e', η: 'n', ι: 'l', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  ω: 'w', μ: 'u', ς: 'c',
  // Latin look-alikes and digits
  ı: 'l', ɩ: 'l', i: 'l', '1': 'l', '|': 'l', '0': 'o',
};

const MULTI: ReadonlyArray<readonly [RegExp, string]> = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
];

/** The look-alike class of a (normalised) name: equal skeletons look alike. */
export function nameSkeleton(name: string): string {
  let s = '';
  for (const c of name.normalize('NFKC')) s += UPPER[c] ?? c;
  // Full case folding, approximately: upper then lower folds ß → ss and similar.
  s = s.toUpperCase().toLowerCase();
  // Strip the combining diacritics Latin, Greek and Cyrillic use (é → e, й → и).
  s = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  let t = '';
  for (const c of s) t += LOWER[c] ?? c;
  for (const [re, to] of MULTI) t = t.replace(re, to);
  return t.replace(/[_.-]/g, '');
}

/**
 * Checks that `name` may join a room whose members have `existing` names: refused when it looks
 * like one of them (equal skeletons), with a sentence naming the look-alike.
 */
export function checkNameAvailable(name: string, existing: Iterable<string>): NameCheck {
  const skel = nameSkeleton(name);
  for (const other of existing) {
    if (nameSkeleton(other) !== skel) continue;
    const message =
      other === name
        ? `the name "${name}" is already taken in this room; choose another`
        : `the name "${name}" looks like "${other}", already in this room; choose another`;
    return { ok: false, code: 'E_NAME_TAKEN', message };
  }
  return { ok: true };
}
