/**
 * The gate: a plain node:http server in front of the relay. It serves exactly three things, all
 * under the secret base path, and answers everything else with the standard 404 (THREATS B.12):
 *
 *   GET <base>     → 308 to <base>/         (only someone who knows the path can ask)
 *   GET <base>/    → the web client's index.html (web.ts), or a small page saying how to use the link
 *   GET <base>/assets/<file> → the web client's files, a list fixed at start-up (web.ts)
 *   GET <base>/ws  + a valid WebSocket handshake, with no Origin, our own, or our scheme + its Host
 *                  (or an allowed one: a proxy's, another relay's of the cluster) → the relay
 *
 * The `ws` library runs with `noServer: true`: the gate validates the handshake itself before
 * handing the socket over, so ws never writes one of its own 400/401/405 answers (an existence
 * oracle). The request path is compared in constant time: HMACs under a per-process random key,
 * compared with `timingSafeEqual`, so the time taken does not depend on how much of the secret
 * path a prober guessed (B.13).
 *
 * Connection caps (A.5, A.7) count a client address only where it stands for people (`sourceOf`),
 * and are looked at only once a request is authorised: past one, an authorised client is told
 * why (`error E_TOO_MANY_CONNECTIONS`, close 1013); everyone else still gets the 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { encodeFrame, PROTOCOL_VERSION } from '@safehouse/core/protocol';
import { isLoopbackHost, type ResolvedOptions } from './config.js';
import { CLOSE, type Counters } from './connection.js';
import { sendNotFound, writeNotFound } from './notFound.js';
import type { PasswordGate } from './password.js';
import { TLS_MIN_VERSION } from './tls.js';
import { sendPage, sendRedirect } from './page.js';
import type { Relay } from './relay.js';
import { RelaySocket, type PeerSocket } from './socket.js';
import { isSameHostOrigin, sendWebAsset, sendWebIndex, type WebBundle } from './web.js';

export type Route = 'redirect' | 'page' | 'ws' | 'asset' | 'none';

/**
 * Matches a request target against the routes in constant time (no early exit): the three
 * fixed ones, then the web client's assets (`<base>/assets/...`, a fixed list read at start).
 */
export class PathMatcher {
  private readonly key = randomBytes(32);
  private readonly macs: readonly Buffer[];

  constructor(basePath: string, assets: readonly string[] = []) {
    this.macs = [basePath, `${basePath}/`, `${basePath}/ws`, ...assets.map((a) => `${basePath}/${a}`)].map((p) => this.mac(p));
  }

  private mac(s: string): Buffer {
    return createHmac('sha256', this.key).update(s, 'utf8').digest();
  }

  /** `target` is the raw request target: any query string or `%`-escape makes it no match. */
  match(target: string | undefined): Route {
    return this.lookup(target).route;
  }

  /** The route, and for an asset its index in the list given to the constructor. */
  lookup(target: string | undefined): { route: Route; asset: number } {
    const m = this.mac(target ?? '');
    // The paths differ, so at most one MAC is equal: `found` and `at` say which, without branching on the secret.
    let found = 0;
    let at = 0;
    for (let i = 0; i < this.macs.length; i++) {
      const eq = timingSafeEqual(m, this.macs[i] as Buffer) ? 1 : 0;
      found |= eq;
      at += eq * i;
    }
    if (found === 0) return { route: 'none', asset: -1 };
    const fixed: readonly Route[] = ['redirect', 'page', 'ws'];
    return at < 3 ? { route: fixed[at] ?? 'none', asset: -1 } : { route: 'asset', asset: at - 3 };
  }

  wipe(): void {
    this.key.fill(0);
  }
}

/**
 * The key a source is counted under for the per-address caps: an IPv4 address (`::ffff:a.b.c.d`
 * is the same source as `a.b.c.d`), or an IPv6 /64 — one host commonly holds a whole /64, so
 * counting single IPv6 addresses would let it open 2^64 times the cap.
 */
export function normaliseIp(addr: string | undefined): string {
  if (!addr) return 'unknown';
  const a = addr.toLowerCase();
  if (isIP(a) === 4) return a;
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) return a.slice(7);
  if (isIP(a) !== 6) return a;
  const [head = '', tail] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** The client address a reverse proxy appended last to `X-Forwarded-For`, if it is one. */
function forwardedFor(req: IncomingMessage): string | undefined {
  const h = req.headers['x-forwarded-for'];
  const last = (Array.isArray(h) ? h.join(',') : (h ?? '')).split(',').pop()?.trim() ?? '';
  return isIP(last) ? last : undefined;
}

/** Where a WebSocket comes from, as the per-address caps and the password back-off see it. */
export type Source = {
  /** The key it is counted under (`normaliseIp`). */
  readonly ip: string;
  /** Whether that address stands for people to count against `maxConnectionsPerIp`. */
  readonly counted: boolean;
};

/**
 * The client address is the one a trusted reverse proxy appended to `X-Forwarded-For`
 * (`trustProxy`), else the socket's peer. It is counted per address unless it is loopback
 * (127.0.0.0/8, ::1): a loopback peer is an SSH tunnel, a reverse proxy without `trustProxy`,
 * or this machine's own users — one address for everyone behind it — so counting it would cap a
 * room, not a person (only `maxConnections` bounds it). `countLoopback` (tests) counts it anyway.
 */
export function sourceOf(req: IncomingMessage, opts: Pick<ResolvedOptions, 'trustProxy' | 'countLoopback'>): Source {
  const addr = (opts.trustProxy ? forwardedFor(req) : undefined) ?? req.socket.remoteAddress;
  return { ip: normaliseIp(addr), counted: opts.countLoopback || addr === undefined || !isLoopbackHost(addr) };
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

/** What a client refused by a connection cap is sent before the close (docs/errors.md). */
const REFUSALS = {
  E_TOO_MANY_CONNECTIONS: encodeFrame({ v: PROTOCOL_VERSION, t: 'error', code: 'E_TOO_MANY_CONNECTIONS' }),
  E_UNAVAILABLE: encodeFrame({ v: PROTOCOL_VERSION, t: 'error', code: 'E_UNAVAILABLE' }),
} as const;
const SEND_OPTIONS = { binary: true, compress: false, fin: true } as const;

const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Everything `ws`'s `handleUpgrade` would check (and answer with its own 400), checked here so
 * that a failure gets our 404 instead. The only subprotocol is the password's (password.ts):
 * without a password, a handshake asking for one is refused; with one, the password gate checks it.
 */
function isWebSocketHandshake(req: IncomingMessage, withPassword: boolean): boolean {
  const h = req.headers;
  return (
    req.method === 'GET' &&
    req.httpVersionMajor === 1 &&
    req.httpVersionMinor >= 1 &&
    typeof h.upgrade === 'string' &&
    h.upgrade.toLowerCase() === 'websocket' &&
    typeof h['sec-websocket-key'] === 'string' &&
    WS_KEY.test(h['sec-websocket-key']) &&
    h['sec-websocket-version'] === '13' &&
    (withPassword || h['sec-websocket-protocol'] === undefined)
  );
}

export type Gate = {
  readonly server: Server;
  /** Accept this Origin on the relay URL (the server's own, once the port is known). */
  allowOrigin(origin: string): void;
  /** Stops taking requests and upgrades; the caller closes the relay, then calls `finish`. */
  stop(): void;
  /** Drops every remaining socket and resolves once the listener is closed. */
  finish(): Promise<void>;
};

export function createGate(opts: ResolvedOptions, relay: Relay, counters: Counters, web?: WebBundle, password?: PasswordGate): Gate {
  const { limits, basePath } = opts;
  const assets = web ? [...web.assets.values()] : [];
  const matcher = new PathMatcher(basePath, web ? [...web.assets.keys()] : []);
  // A page of another relay of the cluster fails over to this one with its own origin.
  const origins = new Set<string>([...opts.allowedOrigins, ...opts.peerOrigins]);
  // THREATS A.5: TCP sockets per peer address, and those of them that are members (relay.ts
  // counts members against `maxConnectionsPerIp`); the socket cap bounds the difference, the
  // sockets that are not (yet) members. Only where the peer address is counted (`capsSockets`).
  const socketsPerIp = new Map<string, number>();
  const membersPerIp = new Map<string, number>();
  let stopping = false;
  let closed: Promise<void> = Promise.resolve();

  const wss = new WebSocketServer({
    noServer: true,
    WebSocket: RelaySocket, // events straight to the connection, no listeners per socket (socket.ts)
    autoPong: false, // the connection answers pings, charged to its flood guard
    perMessageDeflate: false, // THREATS A.10: no compression bombs, asserted by a test
    maxPayload: limits.maxFrameBytes, // THREATS A.1: ws refuses a bigger frame (1009) before buffering it
    clientTracking: false, // the relay tracks its connections
    skipUTF8Validation: false,
  });

  const httpOptions = {
    headersTimeout: limits.headersTimeoutMs, // THREATS A.5 (slowloris)
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // node:http checks the two timeouts above only this often (default 30 s).
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    // Node's own 400 for a missing Host header would differ from our 404.
    requireHostHeader: false,
  };
  // TLS 1.3 only (THREATS E.25); its cipher suites are all AEAD.
  const server: Server = opts.tls
    ? createHttpsServer({ ...httpOptions, cert: opts.tls.cert, key: opts.tls.key, minVersion: TLS_MIN_VERSION })
    : createServer(httpOptions);
  server.maxConnections = limits.maxConnections + limits.maxSocketsPerIp;

  /**
   * Whether sockets from this peer are capped per address: not behind a trusted proxy (every
   * socket comes from the proxy) and not from loopback (a tunnel, a proxy, this machine: see
   * `sourceOf`). Decided on the socket's own address, the same way at open and at close.
   */
  const capsSockets = (remoteAddress: string | undefined): boolean =>
    !opts.trustProxy && (opts.countLoopback || remoteAddress === undefined || !isLoopbackHost(remoteAddress));

  // One shared listener for every socket (an idle connection's memory is mostly such per-socket
  // bits, so none is made per socket). The address is Node's, read once and kept by the socket.
  function onSocketClose(this: Duplex & { remoteAddress?: string }): void {
    decrement(socketsPerIp, normaliseIp(this.remoteAddress));
  }
  function onMemberClose(this: Duplex & { remoteAddress?: string }): void {
    decrement(membersPerIp, normaliseIp(this.remoteAddress));
  }

  server.on('connection', (socket: Socket) => {
    if (stopping) {
      counters.refusedRequests += 1;
      socket.destroy();
      return;
    }
    if (!capsSockets(socket.remoteAddress)) return;
    const ip = normaliseIp(socket.remoteAddress);
    const n = (socketsPerIp.get(ip) ?? 0) + 1;
    if (n - (membersPerIp.get(ip) ?? 0) > limits.maxSocketsPerIp) {
      counters.refusedRequests += 1;
      socket.destroy();
      return;
    }
    socketsPerIp.set(ip, n);
    socket.on('close', onSocketClose);
  });

  /**
   * THREATS A.7, for a client that passed every check but a connection cap: it holds the link
   * (and the password), so it is told why — `error E_TOO_MANY_CONNECTIONS`, then close 1013 (try
   * again later), and its client retries with back-off. Never reached by an unauthorised request,
   * which gets the 404 before any cap is looked at (B.12). The socket stays counted against the
   * socket cap until it is gone (at most `closeGraceMs` if the peer never answers the close).
   */
  /** At a cap, or a cluster's relay without its bus: `error`, then 1013 (try again later). */
  const refuseBusy = (ws: PeerSocket): void => {
    counters.refusedRequests += 1;
    const code = relay.refusal;
    ws.send(REFUSALS[code], SEND_OPTIONS);
    ws.close(CLOSE.tryAgainLater, code);
    setTimeout(() => ws.terminate(), limits.closeGraceMs).unref();
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const { route, asset } = matcher.lookup(req.url);
    const file = assets[asset];
    if (!stopping && req.method === 'GET' && route === 'page') return web ? sendWebIndex(req, res, web, opts.peerOrigins) : sendPage(res);
    if (!stopping && req.method === 'GET' && route === 'asset' && file) return sendWebAsset(res, file);
    if (!stopping && req.method === 'GET' && route === 'redirect') return sendRedirect(res, basePath);
    counters.refusedRequests += 1;
    sendNotFound(res);
  };
  server.on('request', onRequest);
  // No `100 Continue` and no Node-specific `417`: such requests take the ordinary path.
  server.on('checkContinue', onRequest);
  server.on('checkExpectation', onRequest);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError);
    const route = matcher.match(req.url);
    const source = sourceOf(req, opts);
    const origin = req.headers.origin;
    // Everything that makes a request authorised, and nothing else: a refusal here is the 404.
    const authorised =
      !stopping &&
      route === 'ws' &&
      isWebSocketHandshake(req, password !== undefined) &&
      (origin === undefined || origins.has(origin) || isSameHostOrigin(origin, req, opts.tls !== undefined)) && // THREATS A.11
      (password === undefined || password.check(source.ip, req.headers['sec-websocket-protocol'])); // last: only a handshake that got this far counts as a try
    if (!authorised) {
      counters.refusedRequests += 1;
      writeNotFound(socket, req.method);
      return;
    }
    // The caps are looked at only now (B.12: a prober never learns that one is full), in the
    // same turn as the member is attached (ws completes the handshake synchronously).
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws has its own error listener on the socket from here on.
      socket.removeListener('error', destroyOnError);
      if (!relay.canAdmit(source.ip, source.counted)) return refuseBusy(ws); // THREATS A.7: the per-address and total caps
      const peer = req.socket;
      if (capsSockets(peer.remoteAddress)) {
        increment(membersPerIp, normaliseIp(peer.remoteAddress));
        peer.on('close', onMemberClose);
      }
      relay.attach(ws, source.ip);
    });
  });

  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', destroyOnError);
    counters.refusedRequests += 1;
    writeNotFound(socket, req.method);
  });

  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    counters.refusedRequests += 1;
    // A request too slow to arrive is dropped silently; anything unparseable gets the 404.
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
      socket.destroy();
      return;
    }
    writeNotFound(socket, 'GET');
  });

  return {
    server,
    allowOrigin: (o) => void origins.add(o),
    stop: () => {
      if (stopping) return;
      stopping = true;
      closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
    },
    finish: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closed;
      matcher.wipe();
      password?.wipe();
      origins.clear();
      socketsPerIp.clear();
      membersPerIp.clear();
    },
  };
}
