/**
 * The `safehouse` command line: `serve`, `join`. Exit codes and error messages are part of
 * the interface (docs/cli.md).
 */
import { hash } from 'node:crypto';
import { Command, CommanderError } from 'commander';
import { useSha512 } from '@safehouse/core/e2ee';
import { UsageError } from '@safehouse/core/protocol';
import { EXIT, exitCodeFor, reportError } from './exit.js';
// `serve` and `join` are loaded when chosen: a member's terminal UI does not wait for the relay's
// code to load, nor the relay for the UI's.
import type { OpsOptions } from './serve-ops.js';
import { time } from './time.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export async function main(argv: string[]): Promise<void> {
  // Fingerprints (5200 rounds of SHA-512 each, one per member shown) with Node's native hash.
  // The one-shot `hash` (no Hash object per round) is a third faster than `createHash`.
  useSha512((data) => hash('sha512', data, 'buffer'));
  const program = new Command()
    .name('safehouse')
    .description('End-to-end-encrypted chat through a relay that cannot read it.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  let json = false;
  // serve-ops.js loads the relay (@safehouse/server): only when `serve` (or help) may need it,
  // so that `join` starts without it.
  const sub = argv.slice(2).find((a) => !a.startsWith('-'));
  const serveCommand = program.command('serve');
  if (sub !== 'join' && sub !== 'time') (await import('./serve-ops.js')).addOpsOptions(serveCommand);
  serveCommand
    .description('run the relay (state in memory only) and print the link to share')
    .option('--host <address>', 'address to bind (loopback unless --public)', '127.0.0.1')
    .option('--port <n>', 'port to bind; 0 picks a free one', '8090')
    .option('--base-path <path>', 'secret path the relay lives under (default: random, 128 bits)')
    .option('--public', 'allow binding an address that other machines can reach')
    .option('--json', 'print JSON lines (first: {"type":"ready",...})')
    .option('--verbose', 'also print lifecycle lines (counts only, never content)')
    .option('--roughtime-port <n>', 'also run a Roughtime server on this UDP port (0: a free one); prints HOST:PORT:KEY')
    .option('--roughtime-key-file <file>', "the Roughtime server's long-term key: a 32-byte seed in base64 (default: random per start)")
    .option('--roughtime-upstream <host:port>', 'a Roughtime server the relay may carry browsers\' requests to (repeatable)', collect, [])
    .option('--cluster <url>', 'serve rooms with every relay that names the same Redis: redis://HOST:PORT, rediss://HOST:PORT (TLS) or unix:///PATH (needs --base-path)')
    .option('--cluster-password-file <file>', "the cluster Redis's password on FILE's first line (or SAFEHOUSE_CLUSTER_PASSWORD)")
    .option('--cluster-ca <file>', "PEM file of the CA that signed the cluster Redis's TLS certificate (rediss://)")
    .action(async (opts: OpsOptions & { host: string; port: string; basePath?: string; public?: boolean; json?: boolean; verbose?: boolean; roughtimePort?: string; roughtimeKeyFile?: string; roughtimeUpstream?: string[]; cluster?: string; clusterPasswordFile?: string; clusterCa?: string }) => {
      json = opts.json === true;
      const { serve } = await import('./serve.js');
      await serve(opts);
    });

  program
    .command('join')
    .description('join a room from an invite link (a link that names no room creates one)')
    .argument('<link>', 'the invite link, e.g. http://127.0.0.1:8090/<base>/#r=...')
    .option('--name <name>', 'your display name in the room')
    .option('--json', 'read commands from stdin and write one JSON event per line')
    .option('--plain', 'a line-mode chat instead of the full-screen one (also when not on a terminal)')
    .option('--identity <file>', 'keep your identity (fingerprint) across runs in FILE, encrypted under a passphrase')
    .option('--password', "ask for the server's password on the terminal (no echo)")
    .option('--password-file <file>', "the server's password on FILE's first line (or SAFEHOUSE_PASSWORD)")
    .option('--identity-passphrase-file <file>', "read the identity's passphrase from FILE's first line instead of asking")
    .option('--roughtime <host:port:key>', 'a Roughtime server to prove time with, for disappearing messages (repeatable; default: the link\'s, else the built-in list)', collect, [])
    .action(async (link: string, opts: { name?: string; json?: boolean; plain?: boolean; identity?: string; identityPassphraseFile?: string; roughtime?: string[]; password?: boolean; passwordFile?: string }) => {
      json = opts.json === true;
      const { join } = await import('./join.js');
      const code = await join(link, opts);
      process.exit(code);
    });

  program
    .command('time')
    .description('prove the time with Roughtime servers (the built-in public list, or --server ...) and print what each said')
    .option('--server <host:port:key>', 'a Roughtime server to ask (repeatable; default: the built-in public list)', collect, [])
    .option('--quorum <n>', 'servers that must agree (default: a majority)')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { server?: string[]; quorum?: string; json?: boolean }) => {
      json = opts.json === true;
      process.exit(await time(opts));
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(0);
      const usage = new UsageError('E_USAGE', err.message.replace(/^error: /, ''));
      if (json) reportError(usage, true);
      process.exit(EXIT.usage);
    }
    reportError(err, json);
    process.exit(exitCodeFor(err));
  }
}
