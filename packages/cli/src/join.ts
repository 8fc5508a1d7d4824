/**
 * `safehouse join LINK`: with --json, reads the command language from stdin and writes one JSON
 * event per line; otherwise a line-mode chat on the terminal. On end of input (or /quit) it
 * delivers its outbox, leaves, and exits 0.
 */
import { createInterface } from 'node:readline';
import { createClient, type ClientEvent } from '@safehouse/core/client';
import { parseInvite, UsageError } from '@safehouse/core/protocol';
import { EXIT, exitCodeFor, reportError } from './exit.js';
import { renderEvent } from './render.js';
import { wsTransport } from './transport/ws.js';

export interface JoinOptions {
  name?: string;
  json?: boolean;
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
    let name = opts.name;
    if (name === undefined) {
      if (json || !process.stdin.isTTY) throw new UsageError('E_USAGE', 'a name is required: add --name NAME');
      name = (await askName()).trim();
    }

    // The client makes its own e2ee with its pin store, so key changes are checked at join time
    // too; a certificate fingerprint in the link pins the relay's TLS certificate.
    const transport = wsTransport(parsed.invite.certFingerprint ? { certFingerprint: parsed.invite.certFingerprint } : {});
    const client = createClient({ transport, name, link });
    let fatal: ClientEvent | undefined;
    // Input waits until the first room is joined (or joining failed): a line typed or piped
    // while a member is still admitting us is delivered afterwards, not lost.
    let ready!: () => void;
    const inRoom = new Promise<void>((resolve) => (ready = resolve));
    client.on((ev: ClientEvent) => {
      if (json) process.stdout.write(JSON.stringify(ev) + '\n');
      else process.stdout.write(renderEvent(ev) + '\n');
      if (ev.type === 'fatal') fatal = ev;
      if (ev.type === 'joined' || ev.type === 'fatal' || ev.type === 'left') ready();
    });

    const rl = createInterface({ input: process.stdin, terminal: false });
    let chain: Promise<unknown> = client.start().then(() => inRoom);
    let quitting = false;
    const done = new Promise<void>((resolve) => {
      rl.on('line', (line) => {
        if (quitting) return;
        if (line.trim() === '/quit') {
          quitting = true;
          rl.close();
          return;
        }
        chain = chain.then(() => client.command(line));
      });
      rl.on('close', resolve);
    });
    await done;
    await chain;
    await client.quit();
    return fatal ? exitCodeFor(fatal) : EXIT.ok;
  } catch (err) {
    reportError(err, json);
    return exitCodeFor(err);
  }
}
