import { describe, expect, it } from 'vitest';
import { checkNameAvailable, nameSkeleton, normalizeName } from './names.js';

function ok(raw: string): string {
  const r = normalizeName(raw);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted: ${r.message}`);
  return r.name;
}
function refused(raw: string): string {
  const r = normalizeName(raw);
  if (r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
  expect(r.code).toBe('E_NAME_INVALID');
  return r.message;
}

describe('normalizeName', () => {
  it('accepts letters and digits of any script and _ - .', () => {
    for (const n of ['alice', 'Bob_2', 'ana-maria', 'j.doe', 'Ωmega', 'Алиса', '李小龙', 'हिन्दी', 'مريم', 'x']) expect(ok(n)).toBe(n);
  });
  it('applies NFKC', () => {
    expect(ok('ａｌｉｃｅ')).toBe('alice'); // full-width
    expect(ok('ﬁona')).toBe('fiona'); // ligature
    expect(ok('e\u0301')).toBe('é'); // composed
    expect(ok('bob²')).toBe('bob2');
  });
  it('refuses zero-width and bidi characters', () => {
    for (const cp of [0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069])
      expect(refused(`ali${String.fromCodePoint(cp)}ce`)).toMatch(/invisible or control/);
  });
  it('refuses controls, escapes and newlines', () => {
    refused('ali\u001b[2Jce');
    refused('ali\nce');
    refused('ali\u0000ce');
    refused('ali\u009bce');
    refused('alice\u2028');
  });
  it('refuses spaces, symbols and a leading separator or mark', () => {
    expect(refused('ali ce')).toMatch(/spaces/);
    expect(refused(' alice')).toMatch(/spaces/);
    refused('alice!');
    refused('<img>');
    refused('_alice');
    refused('\u0301alice');
  });
  it('refuses combining-mark floods but allows a few', () => {
    expect(ok('a\u0301\u0302\u0303')).toBeTruthy();
    expect(refused('a' + '\u0489\u0300\u0301\u0302\u0303'.repeat(4))).toMatch(/combining marks/);
  });
  it('checks lengths in code points after normalisation', () => {
    expect(refused('')).toMatch(/empty/);
    expect(ok('a'.repeat(32))).toHaveLength(32);
    expect(refused('a'.repeat(33))).toMatch(/at most 32/);
    expect(ok('😀'.length === 2 ? '李'.repeat(32) : 'x')).toBeTruthy();
  });
});

describe('nameSkeleton and checkNameAvailable', () => {
  const collide = (a: string, b: string) => expect(nameSkeleton(a), `${a} vs ${b}`).toBe(nameSkeleton(b));
  it('folds case and accents', () => {
    collide('Alice', 'alice');
    collide('ALICE', 'alice');
    collide('josé', 'jose');
    collide('Straße', 'strasse');
  });
  it('folds Cyrillic and Greek homoglyphs', () => {
    collide('аlice', 'alice'); // Cyrillic а
    collide('bоb', 'bob'); // Cyrillic о
    collide('реter', 'peter'); // Cyrillic р, е
    collide('сох', 'cox');
    collide('іvan', 'ivan');
    collide('ΑΒΕ', 'abe'); // Greek capitals
    collide('ΗΟΡΕ', 'hope');
  });
  it('folds digits and Latin look-alikes', () => {
    collide('b0b', 'bob');
    collide('1ee', 'lee');
    collide('Ivan', 'lvan');
    collide('rnary', 'mary');
    collide('vvill', 'will');
    collide('al_ice', 'alice');
    collide('ａｌｉｃｅ', 'alice');
  });
  it('keeps different names apart', () => {
    expect(nameSkeleton('alice')).not.toBe(nameSkeleton('bob'));
    expect(nameSkeleton('anna')).not.toBe(nameSkeleton('anne'));
  });
  it('refuses a look-alike of a member with E_NAME_TAKEN and a sentence', () => {
    const r = checkNameAvailable('аlice', ['bob', 'alice']);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('E_NAME_TAKEN');
      expect(r.message).toMatch(/looks like "alice"/);
    }
    const same = checkNameAvailable('bob', ['bob']);
    expect(!same.ok && same.message).toMatch(/already taken/);
    expect(checkNameAvailable('carol', ['alice', 'bob'])).toEqual({ ok: true });
  });
});
