/**
 * Secrets the command line takes — the server password, the admin key's passphrase — never as a
 * command-line value (`ps` shows those to every user of the machine). Each comes from a file's
 * first line, or an environment variable, or is asked on the terminal without echo.
 * Nothing here prints or logs a secret.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '@safehouse/core/protocol';

/** The first line of `path` (without its line ending); empty or unreadable is refused with `code`. */
export async function readSecretFile(
  path: string,
  what: string,
  code: 'E_PASSWORD' | 'E_USAGE' = 'E_USAGE',
): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const c = (err as { code?: unknown }).code;
    throw new UsageError(
      code,
      `cannot read the ${what} file ${path}: ${c === 'ENOENT' ? 'no such file' : typeof c === 'string' ? c : 'unreadable'}`,
    );
  }
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  if (first === '') throw new UsageError(code, `the ${what} file ${path} is empty: its first line is the ${what}`);
  return first;
}

/** Asks for a secret on the terminal (raw mode, no echo). Refused when stdin is not a terminal. */
export function askSecret(
  prompt: string,
  hint: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!input.isTTY) return reject(new UsageError('E_USAGE', `no terminal to ask on: ${hint}`));
    output.write(prompt);
    let typed = '';
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      output.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return done();
        if (c === '\u0003') return done(new UsageError('E_USAGE', 'interrupted'));
        if (c === '\u007f' || c === '\b') typed = typed.slice(0, -1);
        else if (c >= ' ') typed += c;
      }
    };
    input.on('data', onData);
  });
}

/**
 * A secret from (in this order) `file`, the environment variable `env`, or the terminal; or
 * undefined when none is given and `ask` is false.
 */
export async function obtainSecret(o: {
  file?: string;
  env: string;
  what: string;
  ask: boolean;
  hint: string;
  code?: 'E_PASSWORD' | 'E_USAGE';
}): Promise<string | undefined> {
  if (o.file !== undefined) return readSecretFile(o.file, o.what, o.code);
  const fromEnv = process.env[o.env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!o.ask) return undefined;
  const typed = await askSecret(`${o.what[0]?.toUpperCase() ?? ''}${o.what.slice(1)}: `, o.hint);
  if (typed === '') throw new UsageError(o.code ?? 'E_USAGE', `the ${o.what} cannot be empty`);
  return typed;
}
