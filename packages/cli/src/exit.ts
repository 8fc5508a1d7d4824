/**
 * Exit codes are part of the interface (docs/cli.md "Exit codes"): each error kind has one, and
 * a command that ends with an error code exits with its kind's.
 */
import { ERROR_CODES, isErrorCode, SafehouseError, type ErrorCode, type ErrorKind } from '@safehouse/core/protocol';

export const EXIT = { ok: 0, failure: 1, usage: 2, transport: 3, crypto: 4 } as const;

const byKind: Record<ErrorKind, number> = {
  protocol: EXIT.failure,
  relay: EXIT.failure,
  crypto: EXIT.crypto,
  usage: EXIT.usage,
  transport: EXIT.transport,
  internal: EXIT.failure,
};

/** The exit code for ending with `code` (its kind's: `ERROR_CODES`). */
export function exitCodeForCode(code: ErrorCode): number {
  return byKind[ERROR_CODES[code]];
}

/**
 * The exit code for a thrown error or a client's `fatal` event (which carries a code, not a
 * kind); anything else is a failure.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof SafehouseError) return exitCodeForCode(err.code);
  if (isFatalEvent(err)) return exitCodeForCode(err.code);
  return EXIT.failure;
}

function isFatalEvent(x: unknown): x is { type: 'fatal'; code: ErrorCode } {
  if (typeof x !== 'object' || x === null) return false;
  const { type, code } = x as { type?: unknown; code?: unknown };
  return type === 'fatal' && isErrorCode(code);
}

/** One clear sentence on stderr (or a JSON `error` line on stdout in --json mode), never a stack trace. */
export function reportError(err: unknown, json: boolean): void {
  const code = err instanceof SafehouseError ? err.code : 'E_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(JSON.stringify({ type: 'error', code, message }) + '\n');
  else process.stderr.write(`safehouse: ${message} (${code})\n`);
}
