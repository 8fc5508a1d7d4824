/**
 * Server options, their defaults and their validation. Every default is written here, where it
 * is declared, with the reason for its value (STYLE: "limits are on by default").
 *
 * Nothing in here is secret except the base path; `resolveOptions` never logs or prints it.
 */
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { LIMITS, UsageError, isValidBasePath } from '@safehouse/core/protocol';
import { defaultLogger, type Logger } from './logger.js';

export type ServerLimits = {
  /** Largest WebSocket message accepted; also ws `maxPayload` (THREATS A.1). Never above the
   *  protocol's `LIMITS.maxFrameBytes`, which is what clients accept. Default 64 KiB. */
  maxFrameBytes: number;
  /** Token bucket per connection: frames per second refilled... Default 50/s. */
  ratePerSecond: number;
  /** ...and the bucket's size, so a client may catch up after a reconnect. Default 200. */
  rateBurst: number;
  /** Byte bucket per connection, beside the frame bucket: bytes per second refilled... Default
   *  1 MiB/s, far above chat (a Welcome is ≤ 64 KiB) and a bound on fan-out amplification. */
  bytesPerSecond: number;
  /** ...and its size. Default 4 MiB: 64 full frames at once. */
  bytesBurst: number;
  /** Refused frames a connection may send (refilled at `ratePerSecond / 5` per second) before it
   *  is closed with 1008 as an abuser. Default 100: a brief overrun is forgiven, a flood is not. */
  abuseAllowance: number;
  /** Bytes queued for one socket beyond which it is a slow consumer and is dropped (close 1013,
   *  THREATS A.9). Default 1 MiB: ~16 full frames, well above what a reading client ever lags. */
  maxBufferedBytes: number;
  /** WebSocket connections from one client address (THREATS A.7), counted only where an address
   *  means people (gate.ts `sourceOf`): not from loopback, where one address is an SSH tunnel, a
   *  local reverse proxy or this machine's own users. 0: no per-address cap (`maxConnections`
   *  still holds). Default 256: an office or a campus behind one NAT address is one room of
   *  people, and 256 sockets cost a few MiB; one source still cannot take the relay for itself. */
  maxConnectionsPerIp: number;
  /** TCP sockets from one client address not (yet) carrying a member: HTTP requests and
   *  WebSocket handshakes in progress. Bounds slowloris (A.5). A socket leaves this count when it
   *  becomes a member (`maxConnectionsPerIp` counts it from then on); not applied where addresses
   *  are not counted (loopback, or behind `trustProxy`: every socket comes from the proxy). Default 64. */
  maxSocketsPerIp: number;
  /** WebSocket connections in all. Default 19,500: below a 20,000 file-descriptor limit, leaving
   *  room for the listening socket, HTTP requests and the process's own files. */
  maxConnections: number;
  /** Rooms one connection may subscribe to. Default `LIMITS.maxRoomsPerConnection` (64). */
  maxRoomsPerConnection: number;
  /** Join requests waiting on one connection. Default `LIMITS.maxPendingJoinsPerConnection` (8). */
  maxPendingJoinsPerConnection: number;
  /** A join request not answered by a Welcome within this time is dropped. Default 120 s. */
  pendingJoinTtlMs: number;
  /** Commit ids remembered per room, so that a resent commit is acked again. Default 16. */
  recentCommitsPerRoom: number;
  /** Accepted commits kept per room (in memory only) for members that missed them while away:
   *  a `sub` proving an epoch still in this log gets the commits since. Default 64. */
  commitLogEntries: number;
  /** ...and their bytes at most, per room. Default 1 MiB (a commit with an UpdatePath in a room
   *  of 200 is about 20 KiB). */
  commitLogBytes: number;
  /** After a commit, each subscriber must prove the new epoch (`sub` with its relay key) within
   *  this time, or it is unsubscribed (a removed member stops receiving; it cannot read what it
   *  gets meanwhile). Default 60 s: a member on a busy device may take long over a big commit. */
  reproveGraceMs: number;
  /** A room nobody is subscribed to keeps its commit log this long for members coming back.
   *  Default 10 min. */
  emptyRoomKeepMs: number;
  /** Rival versions of one room (subscribers proving different relay keys, as after a relay
   *  restart) the relay keeps apart at once. Default 64. */
  maxCohortsPerRoom: number;
  /** The relay sends a WebSocket ping this often (docs/protocol.md, THREATS A.6). Default 20 s. */
  pingIntervalMs: number;
  /** ...and terminates a connection whose pong has not come within this time. Default 20 s. */
  pongTimeoutMs: number;
  /** A connection must send `hello` within this time. Default 10 s. */
  helloTimeoutMs: number;
  /** After the relay sends a close frame, it waits this long for the peer's, then destroys the
   *  socket. Default 2 s (ws itself would wait 30 s). */
  closeGraceMs: number;
  /** node:http: time to receive a request's headers (slowloris, A.5). Default 10 s. */
  headersTimeoutMs: number;
  /** node:http: time to receive a whole request. Default 30 s. */
  requestTimeoutMs: number;
  /** node:http: idle time of a kept-alive HTTP connection. Default 2 s. */
  keepAliveTimeoutMs: number;
};

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxFrameBytes: LIMITS.maxFrameBytes,
  ratePerSecond: 50,
  rateBurst: 200,
  bytesPerSecond: 1024 * 1024,
  bytesBurst: 4 * 1024 * 1024,
  abuseAllowance: 100,
  maxBufferedBytes: 1024 * 1024,
  maxConnectionsPerIp: 256,
  maxSocketsPerIp: 64,
  maxConnections: 19_500,
  maxRoomsPerConnection: LIMITS.maxRoomsPerConnection,
  maxPendingJoinsPerConnection: LIMITS.maxPendingJoinsPerConnection,
  pendingJoinTtlMs: 120_000,
  recentCommitsPerRoom: 16,
  commitLogEntries: 64,
  commitLogBytes: 1024 * 1024,
  reproveGraceMs: 60_000,
  emptyRoomKeepMs: 600_000,
  maxCohortsPerRoom: 64,
  pingIntervalMs: 20_000,
  pongTimeoutMs: 20_000,
  helloTimeoutMs: 10_000,
  closeGraceMs: 2_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 2_000,
});

export type ServerOptions = {
  /** Address to bind. Default `127.0.0.1`: only this machine can connect (THREATS B.14). */
  host?: string;
  /** TCP port. Default 8090; 0 picks any free port (read it back from `RunningServer.port`). */
  port?: number;
  /** Secret path everything lives under, `/seg[/seg...]` (e.g. the path a reverse proxy forwards).
   *  Default: random, `/` + 22 base64url characters (128 bits). A trailing `/` is ignored. */
  basePath?: string;
  /** Must be true to bind anything other than loopback (127.0.0.0/8, ::1, localhost). Default false. */
  allowPublic?: boolean;
  /** Extra values of the `Origin` header accepted on the relay URL, e.g. `https://chat.example`
   *  when a TLS reverse proxy is in front. The server's own origin is always accepted, as is a
   *  request with no `Origin` (non-browser clients). Default none. */
  allowedOrigins?: readonly string[];
  /** The other relays of this cluster, as origins `http(s)://host[:port]` (`serve --also`): a page
   *  loaded from one of them that fails over to this relay sends its own origin, so each is
   *  accepted as `Origin` on the relay URL, and named in the web page's `connect-src` (so that a
   *  page from this relay may fail over to them). Normalised as a browser writes an origin
   *  (lower case, no default port). At most 64. Default none. */
  peerOrigins?: readonly string[];
  /** Set when a reverse proxy forwards to this server (the hidden-path set-up): the per-address
   *  connection cap then counts the client address the proxy appended to `X-Forwarded-For` (not
   *  a loopback one: see `countLoopback`), and TCP sockets are not capped per address (they all
   *  come from the proxy). Default false: the header is ignored, since any client could send one. */
  trustProxy?: boolean;
  /** Count loopback client addresses (127.0.0.0/8, ::1) against the per-address caps like any
   *  other. Default false: on loopback an address is an SSH tunnel, a reverse proxy without
   *  `trustProxy`, or this machine's own users, so many people share it and only `maxConnections`
   *  bounds it. True is for tests, which play many sources with 127.0.0.N (THREATS A.7). */
  countLoopback?: boolean;
  /** Joining requires this password (password.ts: a subprotocol at the WebSocket upgrade; a
   *  missing or wrong one gets the standard 404). Never logged. Default none. */
  password?: string;
  /** Serve HTTPS/WSS with this certificate chain and key (PEM), TLS 1.3 only (tls.ts). Default: plain HTTP. */
  tls?: { cert: string; key: string };
  /** Any subset of the limits; the rest keep their defaults. */
  limits?: Partial<ServerLimits>;
  /** Where lifecycle lines and counts go. Default: one line per event on stderr. */
  logger?: Logger;
};

export type ResolvedOptions = {
  host: string;
  port: number;
  basePath: string;
  allowedOrigins: readonly string[];
  peerOrigins: readonly string[];
  trustProxy: boolean;
  countLoopback: boolean;
  password: string | undefined;
  tls: { cert: string; key: string } | undefined;
  limits: Readonly<ServerLimits>;
  logger: Logger;
};

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and the name `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped?.[1] !== undefined && isIP(mapped[1]) === 4 && mapped[1].startsWith('127.');
}

/** Most peer origins a relay takes (each is a header's worth of `connect-src`). */
export const MAX_PEER_ORIGINS = 64;

/** `http(s)://host[:port]` as a browser sends it in `Origin` (lower case, default port left out). */
export function peerOrigin(o: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof o === 'string' && /^https?:\/\/[^/\s?#@]+\/?$/i.test(o) ? new URL(o) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) throw new UsageError('E_USAGE', `peer origin expected http(s)://host[:port] without a path, got ${JSON.stringify(o)}`);
  return url.origin;
}

/** A random base path: 16 random bytes as 22 base64url characters. */
export function randomBasePath(): string {
  return `/${randomBytes(16).toString('base64url')}`;
}

function checkLimit(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new UsageError('E_USAGE', `limit "${name}" expected an integer in [${min}, ${max}], got ${String(value)}`);
  return value;
}

/** Validates options and fills in defaults. Throws `UsageError` with a sentence a user can act on. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0 || host.length > 255 || /[\s/]/.test(host))
    throw new UsageError('E_USAGE', `host expected an address or a name, got ${JSON.stringify(host)}`);
  if (!isLoopbackHost(host) && options.allowPublic !== true)
    throw new UsageError(
      'E_ADDRESS_REFUSED',
      `refusing to bind ${host}: it is not a loopback address, so the relay would be reachable by anyone ` +
        'on that network; pass --public if that is meant (or reach it through an SSH tunnel or a reverse proxy)',
    );

  const port = options.port ?? 8090;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('E_USAGE', `port expected an integer in [0, 65535], got ${String(port)}`);

  let basePath = options.basePath ?? randomBasePath();
  if (typeof basePath !== 'string')
    throw new UsageError('E_BASE_PATH_INVALID', 'the base path expected a string like /a1b2c3');
  if (basePath.length > 1 && basePath.endsWith('/')) basePath = basePath.slice(0, -1);
  // Do not echo the path: it may be a secret the user mistyped.
  if (!isValidBasePath(basePath))
    throw new UsageError(
      'E_BASE_PATH_INVALID',
      'the base path expected /segment[/segment...] of letters, digits and . _ ~ - (no "." or ".." segments, at most 200 characters)',
    );

  const allowedOrigins = [...(options.allowedOrigins ?? [])];
  for (const o of allowedOrigins)
    if (typeof o !== 'string' || !/^https?:\/\/[^/\s]+$/.test(o))
      throw new UsageError('E_USAGE', `allowed origin expected scheme://host[:port] without a path, got ${JSON.stringify(o)}`);

  const peers = options.peerOrigins ?? [];
  if (!Array.isArray(peers) || peers.length > MAX_PEER_ORIGINS)
    throw new UsageError('E_USAGE', `peer origins expected a list of at most ${MAX_PEER_ORIGINS}`);
  const peerOrigins = [...new Set(peers.map(peerOrigin))];

  const password = options.password;
  // Not echoed: it is a secret.
  if (password !== undefined && (typeof password !== 'string' || password.length === 0 || password.length > 1024))
    throw new UsageError('E_PASSWORD', 'the password expected 1 to 1024 characters');
  const tls = options.tls;
  if (tls !== undefined && (typeof tls.cert !== 'string' || typeof tls.key !== 'string' || !tls.cert.includes('BEGIN') || !tls.key.includes('BEGIN')))
    throw new UsageError('E_TLS_CONFIG', 'tls expected a PEM certificate and a PEM private key');

  const given = options.limits ?? {};
  const merged = { ...DEFAULT_LIMITS, ...given };
  const day = 86_400_000;
  const limits: ServerLimits = {
    maxFrameBytes: checkLimit('maxFrameBytes', merged.maxFrameBytes, LIMITS.maxHeaderBytes + 2, LIMITS.maxFrameBytes),
    ratePerSecond: checkLimit('ratePerSecond', merged.ratePerSecond, 1, 1_000_000),
    rateBurst: checkLimit('rateBurst', merged.rateBurst, 1, 10_000_000),
    bytesPerSecond: checkLimit('bytesPerSecond', merged.bytesPerSecond, LIMITS.maxFrameBytes, 1 << 30),
    bytesBurst: checkLimit('bytesBurst', merged.bytesBurst, LIMITS.maxFrameBytes, 1 << 30),
    abuseAllowance: checkLimit('abuseAllowance', merged.abuseAllowance, 1, 10_000_000),
    maxBufferedBytes: checkLimit('maxBufferedBytes', merged.maxBufferedBytes, LIMITS.maxFrameBytes, 1 << 30),
    maxConnectionsPerIp: checkLimit('maxConnectionsPerIp', merged.maxConnectionsPerIp, 0, 1_000_000),
    maxSocketsPerIp: checkLimit('maxSocketsPerIp', merged.maxSocketsPerIp, 1, 1_000_000),
    maxConnections: checkLimit('maxConnections', merged.maxConnections, 1, 1_000_000),
    maxRoomsPerConnection: checkLimit('maxRoomsPerConnection', merged.maxRoomsPerConnection, 1, 100_000),
    maxPendingJoinsPerConnection: checkLimit('maxPendingJoinsPerConnection', merged.maxPendingJoinsPerConnection, 1, 10_000),
    pendingJoinTtlMs: checkLimit('pendingJoinTtlMs', merged.pendingJoinTtlMs, 1, day),
    recentCommitsPerRoom: checkLimit('recentCommitsPerRoom', merged.recentCommitsPerRoom, 1, 10_000),
    commitLogEntries: checkLimit('commitLogEntries', merged.commitLogEntries, 1, 100_000),
    commitLogBytes: checkLimit('commitLogBytes', merged.commitLogBytes, LIMITS.maxFrameBytes, 1 << 30),
    reproveGraceMs: checkLimit('reproveGraceMs', merged.reproveGraceMs, 10, day),
    emptyRoomKeepMs: checkLimit('emptyRoomKeepMs', merged.emptyRoomKeepMs, 0, day),
    maxCohortsPerRoom: checkLimit('maxCohortsPerRoom', merged.maxCohortsPerRoom, 1, 100_000),
    pingIntervalMs: checkLimit('pingIntervalMs', merged.pingIntervalMs, 10, day),
    pongTimeoutMs: checkLimit('pongTimeoutMs', merged.pongTimeoutMs, 10, day),
    helloTimeoutMs: checkLimit('helloTimeoutMs', merged.helloTimeoutMs, 10, day),
    closeGraceMs: checkLimit('closeGraceMs', merged.closeGraceMs, 0, 60_000),
    headersTimeoutMs: checkLimit('headersTimeoutMs', merged.headersTimeoutMs, 100, 10_000),
    requestTimeoutMs: checkLimit('requestTimeoutMs', merged.requestTimeoutMs, 100, 300_000),
    keepAliveTimeoutMs: checkLimit('keepAliveTimeoutMs', merged.keepAliveTimeoutMs, 100, 60_000),
  };
  if (limits.requestTimeoutMs < limits.headersTimeoutMs)
    throw new UsageError('E_USAGE', 'limit "requestTimeoutMs" expected to be at least "headersTimeoutMs"');

  return {
    host,
    port,
    basePath,
    allowedOrigins,
    peerOrigins,
    trustProxy: options.trustProxy === true,
    countLoopback: options.countLoopback === true,
    password,
    tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
    limits: Object.freeze(limits),
    logger: options.logger ?? defaultLogger,
  };
}
