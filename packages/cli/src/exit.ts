/**
 * Exit codes are part of the interface (docs/cli.md): each error kind has one.
 */
import { SafehouseError, type ErrorKind } from '@safehouse/core/protocol';

export const EXIT = { ok: 0, failure: 1, usage: 2, transport: 3, crypto: 4 } as const;

const byKind: Record<ErrorKind, number> = {
  protocol: EXIT.failure,
  relay: EXIT.failure,
  crypto: EXIT.crypto,
  usage: EXIT.usage,
  transport: EXIT.transport,
  internal: EXIT.failure,
};

export function exitCodeFor(err: unknown): number {
  return err instanceof SafehouseError ? byKind[err.kind] : EXIT.failure;
}

/** One clear sentence on stderr (or a JSON `error` line on stdout in --json mode), never a stack trace. */
export function reportError(err: unknown, json: boolean): void {
  const code = err instanceof SafehouseError ? err.code : 'E_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(JSON.stringify({ type: 'error', code, message }) + '\n');
  else process.stderr.write(`safehouse: ${message} (${code})\n`);
}
