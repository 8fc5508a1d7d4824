/**
 * Exit codes (docs/cli.md "Exit codes"): each error kind has one, a `fatal` event exits with its
 * code's, and every code the docs list for `join` exits as documented.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InternalError, isErrorCode, SafehouseError, TransportError, UsageError, type ErrorCode, type ErrorKind } from '@safehouse/core/protocol';
import { EXIT, exitCodeFor, exitCodeForCode } from './exit.js';

/** The documented exit code of each kind. */
const BY_KIND: Record<ErrorKind, number> = { protocol: 1, relay: 1, internal: 1, usage: 2, transport: 3, crypto: 4 };

/** A code of each kind, for the table below. */
const codeOf = (kind: ErrorKind): ErrorCode => (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c] === kind)!;

describe('exit codes', () => {
  it.each(Object.entries(BY_KIND) as Array<[ErrorKind, number]>)('an error of kind %s exits %i, thrown or as a fatal event', (kind, exit) => {
    const code = codeOf(kind);
    expect(code).toBeDefined();
    expect(exitCodeForCode(code)).toBe(exit);
    expect(exitCodeFor(new SafehouseError(code, 'x'))).toBe(exit);
    // `join` once passed the event itself, and every fatal exited 1.
    expect(exitCodeFor({ type: 'fatal', code, message: 'x' })).toBe(exit);
  });

  it('every code maps to its kind\'s exit code; anything that is not an error with a code is a failure', () => {
    for (const [code, kind] of Object.entries(ERROR_CODES) as Array<[ErrorCode, ErrorKind]>) expect(exitCodeForCode(code), code).toBe(BY_KIND[kind]);
    expect(Object.values(EXIT).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const x of [new Error('x'), 'E_USAGE', undefined, null, { type: 'fatal' }, { type: 'fatal', code: 'E_NOPE' }, { type: 'error', code: 'E_USAGE' }]) expect(exitCodeFor(x)).toBe(EXIT.failure);
    expect(exitCodeFor(new UsageError('E_BAD_LINK', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new TransportError('E_NOT_FOUND', 'x'))).toBe(EXIT.transport);
    expect(exitCodeFor(new InternalError('E_INTERNAL', 'x'))).toBe(EXIT.failure);
  });

  it('each code docs/cli.md says `join` can end with exits with the code documented for it', () => {
    const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### How `join` ends'));
    const rows = [...section.matchAll(/^\| (\d) \| (.*) \|$/gm)];
    const documented = new Map<number, ErrorCode[]>();
    for (const [, exit, text] of rows) documented.set(Number(exit), [...text!.matchAll(/`(E_[A-Z0-9_]+)`/g)].map((m) => m[1]!).filter(isErrorCode));
    // A row for every exit code, each naming the codes that end so (0: none).
    expect([...documented.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const [exit, codes] of documented) {
      if (exit !== 0) expect(codes.length, `exit ${exit} names no code`).toBeGreaterThan(0);
      for (const code of codes) expect(exitCodeForCode(code), `${code} is documented to exit ${exit}`).toBe(exit);
    }
    // What a join ends with when the server answers 404, or no member admits it.
    expect(documented.get(3)).toContain('E_NOT_FOUND');
    expect(documented.get(2)).toContain('E_JOIN_TIMEOUT');
  });
});
