/**
 * `safehouse join LINK`: on a terminal, the full-screen chat (tui/); with --json, reads the
 * command language from stdin and writes one JSON event per line; with --plain (or when stdin or
 * stdout is not a terminal, or TERM=dumb), a line-mode chat. On end of input (or /quit) it
 * delivers its outbox, leaves, and exits 0.
 */
import { createInterface } from 'node:readline';
import { createClient, isQuit, ViewStore, type ClientEvent } from '@safehouse/core/client';
import { createE2ee, type E2ee, type Identity } from '@safehouse/core/e2ee';
import { parseInvite, passwordSubprotocol, UsageError } from '@safehouse/core/protocol';
import { EXIT, exitCodeFor, exitCodeForCode, reportError } from './exit.js';
import { createIdentityFile, identityExists, openIdentity, readPassphraseFile } from './identity-file.js';
import { LinePrinter } from './line-view.js';
import { askSecret, obtainSecret } from './secrets.js';
import { clientTimeOptions } from './roughtime/servers.js';
import { wsTransport } from './transport/ws.js';
import { PASSWORD_ENV } from './env.js';


export interface JoinOptions {
  /** `HOST:PORT:BASE64KEY` Roughtime servers (default: the link's, else the built-in list). */
  roughtime?: string[];
  name?: string;
  json?: boolean;
  plain?: boolean;
  identity?: string;
  identityPassphraseFile?: string;
  /** Ask for the server's password on the terminal (no echo). */
  password?: boolean;
  passwordFile?: string;
  /** Set by `join` from the password: the subprotocol the transport asks for. */
  passwordSubprotocol?: string;
}

/** The full-screen UI needs a terminal on both ends that can move its cursor. */
function wantsTui(opts: JoinOptions): boolean {
  return opts.json !== true && opts.plain !== true && process.stdin.isTTY && process.stdout.isTTY && process.env.TERM !== 'dumb';
}

/** `--identity` in line and JSON modes: the passphrase from its file, or asked without echo. */
async function lineModeIdentity(opts: JoinOptions, e2ee: E2ee): Promise<Identity | undefined> {
  const path = opts.identity;
  if (path === undefined) return undefined;
  const exists = await identityExists(path);
  let passphrase: string;
  if (opts.identityPassphraseFile !== undefined) passphrase = await readPassphraseFile(opts.identityPassphraseFile);
  else if (opts.json === true) throw new UsageError('E_USAGE', '--identity with --json needs --identity-passphrase-file FILE (stdin carries commands)');
  else {
    passphrase = await askSecret(exists ? `Passphrase of ${path}: ` : `Passphrase for the new identity ${path}: `, 'use --identity-passphrase-file FILE');
    if (!exists && (await askSecret('The same passphrase again: ', 'use --identity-passphrase-file FILE')) !== passphrase) throw new UsageError('E_USAGE', 'the two passphrases differ');
  }
  if (passphrase === '') throw new UsageError('E_USAGE', 'a passphrase cannot be empty');
  return exists ? openIdentity(path, passphrase) : createIdentityFile(path, passphrase, e2ee);
}

async function askName(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => rl.question('Your name: ', resolve));
  } finally {
    rl.close();
  }
}

export async function join(link: string, opts: JoinOptions): Promise<number> {
  const json = opts.json === true;
  try {
    const parsed = parseInvite(link);
    if (!parsed.ok) throw new UsageError('E_BAD_LINK', `that link cannot be used: ${parsed.message}`);
    if (opts.identityPassphraseFile !== undefined && opts.identity === undefined) throw new UsageError('E_USAGE', '--identity-passphrase-file needs --identity FILE');
    const password = await obtainSecret({ file: opts.passwordFile, env: PASSWORD_ENV, what: 'password', ask: opts.password === true, hint: 'use --password-file FILE or SAFEHOUSE_PASSWORD', code: 'E_PASSWORD' });
    if (password !== undefined) opts.passwordSubprotocol = await passwordSubprotocol(password, new URL(parsed.invite.base).pathname);
    if (wantsTui(opts)) {
      // ink decides when it is loaded whether it runs "in CI" and then draws nothing until the
      // end: this is an interactive terminal, whatever the environment says.
      delete process.env.CI;
      delete process.env.CONTINUOUS_INTEGRATION;
      // React's production build (unless told otherwise): it loads several times faster than the
      // development one, which also checks and warns at every render.
      process.env.NODE_ENV ??= 'production';
      const { runTui } = await import('./tui/index.js');
      return await runTui(link, opts);
    }
    let name = opts.name;
    if (name === undefined) {
      if (json || !process.stdin.isTTY) throw new UsageError('E_USAGE', 'a name is required: add --name NAME');
      name = (await askName()).trim();
    }

    // The client makes its own e2ee with its pin store, so key changes are checked at join time
    // too; each relay's pin in the link (`c`, or its `a` entry's) is checked per connection (Connection).
    const transport = wsTransport({
      ...(opts.passwordSubprotocol !== undefined ? { subprotocol: opts.passwordSubprotocol } : {}),
    });
    const identity = await lineModeIdentity(opts, createE2ee());
    const onLie = (m: { suspectServers: readonly string[] }): void => void process.stderr.write(`safehouse: Roughtime servers contradict each other; suspected: ${m.suspectServers.join(', ')} (E_ROUGHTIME_INCONSISTENT)\n`);
    const client = createClient({ transport, name, link, ...(identity ? { identity } : {}), ...clientTimeOptions(opts.roughtime, parsed.invite, onLie) });
    // --json: every event as it comes (the machine interface). Otherwise the shared view, as lines.
    const view = new ViewStore(client);
    if (json) client.on((ev: ClientEvent) => void process.stdout.write(JSON.stringify(ev) + '\n'));
    else {
      const printer = new LinePrinter((text) => void process.stdout.write(text + '\n'));
      view.subscribe((v, stamped) => printer.update(v, stamped));
    }

    // Lines run in order inside the client; a message typed or piped while a member is still
    // admitting us waits there for it, not lost. End of input or /quit: deliver, leave, exit.
    const rl = createInterface({ input: process.stdin, terminal: false });
    // Input that ends early (`echo hi | join`) still waits for the first room: joined, or failed.
    const firstRoom = new Promise<void>((resolve) => client.on((ev) => void ((ev.type === 'joined' || ev.type === 'fatal' || ev.type === 'left') && resolve())));
    const started = client.start();
    await new Promise<void>((resolve) => {
      rl.on('line', (line) => {
        if (isQuit(line)) return rl.close();
        void client.command(line);
      });
      // A closed client can do nothing more (docs/cli.md "How join ends"); after a room ended,
      // the user may still /join another.
      client.on((ev) => void (ev.type === 'fatal' && ev.closed === true && rl.close()));
      rl.on('close', resolve);
    });
    await started;
    await firstRoom;
    await client.quit();
    const fatal = view.view.fatal;
    return fatal ? exitCodeForCode(fatal.code) : EXIT.ok;
  } catch (err) {
    reportError(err, json);
    return exitCodeFor(err);
  }
}
