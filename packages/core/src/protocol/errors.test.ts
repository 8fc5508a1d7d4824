import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SafehouseError, UsageError } from './errors.js';

describe('error codes', () => {
  it('every code is documented in docs/errors.md, and every documented code exists', () => {
    const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`(E_[A-Z0-9_]+)`/g)].map((m) => m[1]));
    for (const code of Object.keys(ERROR_CODES)) expect(documented, `${code} undocumented`).toContain(code);
    for (const code of documented) expect(Object.keys(ERROR_CODES), `${code} documented but unknown`).toContain(code);
  });

  it('keeps code, kind and cause', () => {
    const cause = new Error('inner');
    const e = new UsageError('E_BAD_LINK', 'bad', { cause });
    expect(e).toBeInstanceOf(SafehouseError);
    expect([e.code, e.kind, e.cause, e.name]).toEqual(['E_BAD_LINK', 'usage', cause, 'UsageError']);
  });
});
