/**
 * `safehouse serve`: starts the gate and the relay with in-memory state, prints the link, and
 * shuts down cleanly on SIGINT/SIGTERM. Nothing is written to disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isValidBasePath, UsageError } from '@safehouse/core/protocol';
import { startServer, type Logger, type LogEvent, type LogFields } from '@safehouse/server';
import { startServeTime, type ServeTimeOptions } from './roughtime/serve-time.js';
import { prepareOps, startOps, type OpsOptions } from './serve-ops.js';

export interface ServeOptions extends Omit<ServeTimeOptions, 'host'>, OpsOptions {
  host: string;
  port: string;
  basePath?: string;
  public?: boolean;
  json?: boolean;
  verbose?: boolean;
  cluster?: string;
  clusterPasswordFile?: string;
  clusterCa?: string;
}

const WARNINGS: Partial<Record<LogEvent, string>> = {
  'slow-consumer': 'a client did not read fast enough and was disconnected',
  'dead-peer': 'a client stopped answering and was disconnected',
  'rate-abuse': 'a client sent too much too fast and was disconnected',
  'protocol-violation': 'a client sent a malformed frame and was disconnected',
  'internal-error': 'an unexpected error was contained; the relay goes on',
};

/**
 * The operator's view of the server's log: lifecycle lines only with --verbose; warnings as a
 * sentence on stderr (or JSON lines on stdout with --json). The server's log events carry
 * numbers and codes only, never anything from the network.
 */
function cliLogger(json: boolean, verbose: boolean): Logger {
  const write = (level: 'info' | 'warn', event: LogEvent, fields?: LogFields): void => {
    if (level === 'info' && !verbose) return;
    if (json) {
      process.stdout.write(JSON.stringify({ type: 'log', level, event, ...fields }) + '\n');
      return;
    }
    const kv = fields ? Object.entries(fields).map(([k, v]) => `${k}=${String(v)}`).join(' ') : '';
    process.stderr.write(`safehouse: ${WARNINGS[event] ?? event}${kv ? ` (${kv})` : ''}\n`);
  };
  return { info: (e, f) => write('info', e, f), warn: (e, f) => write('warn', e, f) };
}

/** The built web client (packages/web/dist), beside this package in the repository. */
export function defaultWebRoot(): string | undefined {
  const dir = fileURLToPath(new URL('../../web/dist/', import.meta.url));
  return existsSync(`${dir}index.html`) ? dir : undefined;
}

function parsePort(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw new UsageError('E_USAGE', `--port expects a number from 0 to 65535, got "${s}"`);
  return n;
}

/**
 * `--cluster`: the Redis the relays share (its password from a file or the environment, never
 * the command line, which other users of the machine can read). The relays of a cluster must
 * share one base path: each would otherwise draw its own, and a link would work at one only.
 */
export function clusterOptions(opts: ServeOptions): { url: string; password?: string; caFile?: string } | undefined {
  if (opts.cluster === undefined) {
    if (opts.clusterPasswordFile !== undefined || opts.clusterCa !== undefined)
      throw new UsageError('E_USAGE', '--cluster-password-file and --cluster-ca go with --cluster');
    return undefined;
  }
  const policies = [opts.disableAll === true ? '--disable-all' : '', opts.onlyAdmin === true ? '--only-admin' : ''].filter(Boolean);
  if (policies.length > 0)
    throw new UsageError(
      'E_USAGE',
      `--cluster cannot be used with ${policies.join(' and ')}: a room policy is enforced by the admin's relay only, and members on the other relays would not be held to it`,
    );
  if (opts.basePath === undefined)
    throw new UsageError('E_USAGE', "--cluster needs --base-path: every relay of a cluster serves the same secret path (choose one, e.g. /$(openssl rand -hex 16), and give it to each)");
  if (/^rediss?:\/\/[^/]*@/.test(opts.cluster))
    throw new UsageError('E_USAGE', '--cluster: give the password in --cluster-password-file (or SAFEHOUSE_CLUSTER_PASSWORD), never on the command line, where every user of the machine can read it');
  const fromFile = opts.clusterPasswordFile === undefined ? undefined : firstLine(opts.clusterPasswordFile, '--cluster-password-file');
  const password = fromFile ?? process.env.SAFEHOUSE_CLUSTER_PASSWORD;
  return { url: opts.cluster, ...(password ? { password } : {}), ...(opts.clusterCa !== undefined ? { caFile: opts.clusterCa } : {}) };
}

function firstLine(file: string, option: string): string {
  try {
    return (readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '').trim();
  } catch (err) {
    throw new UsageError('E_USAGE', `${option}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

export async function serve(opts: ServeOptions): Promise<void> {
  const port = parsePort(opts.port);
  if (opts.basePath !== undefined && !isValidBasePath(opts.basePath))
    throw new UsageError(
      'E_BASE_PATH_INVALID',
      `--base-path expects /segment[/segment...] of letters, digits and . _ ~ -, got "${opts.basePath}"`,
    );
  const cluster = clusterOptions(opts);
  const webRoot = defaultWebRoot();
  const ops = await prepareOps(opts, opts.host);
  const rt = await startServeTime(opts, cliLogger(opts.json === true, opts.verbose === true));
  const server = await startServer({
    ...(webRoot !== undefined ? { webRoot } : {}),
    host: opts.host,
    port,
    ...(opts.basePath !== undefined ? { basePath: opts.basePath } : {}),
    allowPublic: opts.public === true,
    ...ops.server,
    roughtimeUpstreams: rt.upstreams,
    logger: cliLogger(opts.json === true, opts.verbose === true),
    ...(cluster ? { cluster } : {}),
  });

  const running = await startOps(server, opts, ops, rt.server);
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ type: 'ready', url: running.base, invite: running.invite, ...running.ready, port: server.port, pid: process.pid, webSha256: server.webSha256 ?? null, roughtime: rt.server?.spec ?? null }) + '\n',
    );
  } else {
    process.stdout.write(
      [
        'Safehouse is running (state in memory only; stop with Ctrl-C).',
        '',
        `  Link: ${running.invite}`,
        '',
        'Anyone with this link can reach the relay; the relay cannot read messages.',
        server.webSha256 !== undefined
          ? `Open the link in a browser, or from a terminal:  npx safehouse join '${running.invite}' --name YOUR_NAME`
          : `From a terminal:  npx safehouse join '${running.invite}' --name YOUR_NAME`,
        server.webSha256 !== undefined
          ? `Web client: SHA-256 of index.html ${server.webSha256} (it pins every script and style by SRI; compare it with the published one)`
          : 'Web client: not built (npm run build), so the link works with `safehouse join` only.',
        ...running.lines,
        ...(cluster ? [`Cluster: rooms are shared with every relay on ${cluster.url.replace(/\/\/[^@/]*@/, '//')} (same base path and password).`] : []),
        ...(rt.server ? [`Roughtime: ${rt.server.spec}  (members use it with --roughtime ${rt.server.spec})`] : []),
        '',
      ].join('\n'),
    );
  }

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    Promise.all([running.close().then(() => server.close()), rt.server?.close()]).then(
      () => {
        if (opts.json) process.stdout.write(JSON.stringify({ type: 'stopped', signal }) + '\n');
        else process.stdout.write('Safehouse stopped; its state is gone.\n');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  running.console(() => shutdown('console'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  await new Promise<void>(() => {
    /* runs until a signal */
  });
}
