/**
 * @safehouse/server: the gate and the blind relay, as a library (`safehouse serve` calls it).
 *
 *   const server = await startServer({ port: 0 });
 *   server.url;                // http://127.0.0.1:PORT/<secret base>/ — the CLI prints the link
 *   await server.close();      // tells clients `closing`, closes with 1001, wipes state
 *
 * See README.md for what this package must never do.
 */
import { TransportError, UsageError } from '@safehouse/core/protocol';
import { resolveOptions, type ServerOptions } from './config.js';
import { createControl, type ServerControl } from './control.js';
import { createGate } from './gate.js';
import { PasswordGate } from './password.js';
import { MAX_KEPT_PROPOSALS, Relay, type RelayStats } from './relay.js';
import { RoughtimeForwarder, type Upstream } from './roughtime/forwarder.js';
import { loadWebBundle, type WebBundle } from './web.js';
import type { Engine } from './engine/engine.js';
import { checkClusterUrl, RedisEngine, type RedisEngineOptions } from './engine/redis.js';

export type { ServerLimits, ServerOptions } from './config.js';
export { DEFAULT_LIMITS, isLoopbackHost } from './config.js';
export type { Logger, LogEvent, LogFields } from './logger.js';
export { defaultLogger, silentLogger } from './logger.js';
export type { RelayStats } from './relay.js';
export type { Engine } from './engine/engine.js';
export { RedisEngine, type RedisEngineOptions } from './engine/redis.js';
export { loadWebBundle, webCsp, type WebBundle } from './web.js';
export { startRoughtimeServer, type RoughtimeServerOptions, type RunningRoughtimeServer } from './roughtime/udp-server.js';
export { RoughtimeForwarder, FORWARDER_DEFAULTS, type Upstream } from './roughtime/forwarder.js';
export type { PrivilegedConnection, PrivilegedHandlers, RoomPolicy, ServerControl } from './control.js';
export { certificateFingerprint, loadTls, selfSignedTls, type TlsMaterial } from './tls.js';

export type WebOptions = {
  /** A built web client (packages/web/dist) to serve at `<base>/`; read into memory at start. Default none: a page saying to use `safehouse join`. */
  webRoot?: string;
};

export type RoughtimeRelayOptions = {
  /** Roughtime servers the relay carries browsers' requests to (`rt` frames), by number. Default none. */
  roughtimeUpstreams?: readonly Upstream[];
};

export type RunningServer = {
  /** `http://host:port/<base>/`, with a trailing slash. Holds the secret base path: print it, never log it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly basePath: string;
  /** Sends `closing` to every client, closes their sockets with 1001, wipes state, stops listening. Idempotent. */
  close(): Promise<void>;
  /** Counts only: connections, rooms, subscriptions, pending joins, frames and bytes, refusals and drops. */
  stats(): RelayStats;
  /**
   * The privileged control channel for `safehouse serve`'s admin console (control.ts): an
   * in-process connection, room policy, and closing a joiner's connection. Not reachable from the network.
   */
  readonly control: ServerControl;
  /** SHA-256 (hex) of the web client's index.html, which pins every asset by SRI; undefined without one. */
  readonly webSha256: string | undefined;
};

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function listenError(err: Error & { code?: string }, host: string, port: number): Error {
  switch (err.code ?? '') {
    case 'EADDRINUSE':
      return new TransportError('E_PORT_IN_USE', `port ${port} is in use on ${host}: stop what is using it, or choose another port`, {
        cause: err,
      });
    case 'EACCES':
      return new UsageError('E_ADDRESS_REFUSED', `binding port ${port} on ${host} is not permitted: choose a port above 1023`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError('E_ADDRESS_REFUSED', `cannot bind ${host}: it is not an address of this machine`, { cause: err });
    default:
      return new TransportError('E_CONNECT', `cannot listen on ${host}:${port} (${err.code ?? 'unknown error'})`, { cause: err });
  }
}

export type EngineOptions = {
  /**
   * Serve rooms together with the other relays that name the same Redis (engine/redis.ts):
   * `redis://HOST:PORT`, `rediss://HOST:PORT` (TLS) or `unix:///PATH`. Default: none, rooms in this
   * process's memory. The relays must share one base path and one password.
   */
  cluster?: Omit<RedisEngineOptions, 'roomTtlMs' | 'recentCommits' | 'logEntries' | 'logBytes' | 'maxProposals'>;
  /** An engine made by the caller (tests); `cluster` makes one. */
  engine?: Engine;
};

export async function startServer(options: ServerOptions & WebOptions & RoughtimeRelayOptions & EngineOptions = {}): Promise<RunningServer> {
  const { webRoot, roughtimeUpstreams, cluster, engine: given, ...serverOptions } = options;
  const opts = resolveOptions(serverOptions);
  if (cluster) checkClusterUrl(cluster.url);
  const engine =
    given ??
    (cluster
      ? new RedisEngine({
          ...cluster,
          roomTtlMs: Math.max(10_000, opts.limits.emptyRoomKeepMs),
          recentCommits: opts.limits.recentCommitsPerRoom,
          logEntries: opts.limits.commitLogEntries,
          logBytes: opts.limits.commitLogBytes,
          maxProposals: MAX_KEPT_PROPOSALS,
        })
      : undefined);
  const web: WebBundle | undefined = webRoot === undefined ? undefined : loadWebBundle(webRoot);
  const relay = new Relay(opts.limits, opts.logger, roughtimeUpstreams?.length ? new RoughtimeForwarder(roughtimeUpstreams) : undefined, engine);
  try {
    await relay.start();
  } catch (err) {
    await relay.close();
    throw err;
  }
  if (engine?.clustered) opts.logger.info('bus-ready');
  const password = opts.password === undefined ? undefined : await PasswordGate.create(opts.password, opts.basePath);
  const gate = createGate(opts, relay, relay.counters, web, password);
  const control = createControl(relay);
  const listenHost = opts.host.replace(/^\[(.*)\]$/, '$1');

  try {
    await new Promise<void>((resolve, reject) => {
      gate.server.once('error', reject);
      gate.server.listen({ host: listenHost, port: opts.port, exclusive: true }, () => {
        gate.server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    gate.stop();
    await relay.close();
    await gate.finish();
    throw listenError(err as Error, opts.host, opts.port);
  }
  gate.server.on('error', () => opts.logger.warn('internal-error', { code: 'E_INTERNAL' }));

  const address = gate.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const origin = `${opts.tls ? 'https' : 'http'}://${urlHost(listenHost)}:${port}`;
  gate.allowOrigin(origin);
  opts.logger.info('listening', { port });

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}${opts.basePath}/`,
    host: opts.host,
    port,
    basePath: opts.basePath,
    stats: () => relay.stats(),
    webSha256: web?.sha256,
    control,
    close: () => {
      closing ??= (async () => {
        opts.logger.info('closing', { connections: relay.stats().connections });
        gate.stop();
        await relay.close();
        await gate.finish();
        opts.logger.info('closed');
      })();
      return closing;
    },
  };
}
