/**
 * Test helpers (not built, not shipped): a server on port 0 with a capturing logger, a protocol
 * client over `ws`, and raw-socket tools for the bytes a real client would never send.
 * Every wait has a deadline, so a failing test fails instead of hanging.
 */
import { connect, type Socket } from 'node:net';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  commitStatement,
  decodeRelayFrame,
  encodeFrame,
  pubHeader,
  randomId,
  subStatement,
  toBase64Url,
  type ClientHeader,
  type PubHeader,
  type RelayHeader,
} from '@safehouse/core/protocol';
import { startServer, type RunningServer, type ServerLimits, type ServerOptions } from '../index.js';
import { RedisEngine } from '../engine/redis.js';
import { startRedis } from './redis.js';
import type { LogEvent, LogFields, Logger } from '../logger.js';

export type LogEntry = { level: 'info' | 'warn'; event: LogEvent; fields?: LogFields };

export class CapturingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  info(event: LogEvent, fields?: LogFields): void {
    this.entries.push({ level: 'info', event, ...(fields ? { fields } : {}) });
  }
  warn(event: LogEvent, fields?: LogFields): void {
    this.entries.push({ level: 'warn', event, ...(fields ? { fields } : {}) });
  }
  text(): string {
    return JSON.stringify(this.entries);
  }
}

export type TestServer = RunningServer & { logger: CapturingLogger };

/**
 * A relay on port 0 — or, where `SAFEHOUSE_RELAY_ENGINE=redis` (the `cluster` test project: the
 * relay conformance suite run against a cluster), two relays sharing one real Redis, presented
 * as one server whose `url` alternates between them: consecutive clients land on different
 * relays, so every relay test also tests members spread across relays. `stats()` then gives
 * each count's highest value over the relays (a room is counted by each relay that serves it).
 */
export async function startTestServer(limits: Partial<ServerLimits> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const logger = new CapturingLogger();
  if (process.env.SAFEHOUSE_RELAY_ENGINE === 'redis') return startTestCluster(limits, options, logger);
  const server = await startServer({ port: 0, ...options, logger, limits });
  return Object.assign(server, { logger });
}

async function startTestCluster(limits: Partial<ServerLimits>, options: ServerOptions, logger: CapturingLogger): Promise<TestServer> {
  const redis = await startRedis();
  const { DEFAULT_LIMITS } = await import('../config.js');
  const all = { ...DEFAULT_LIMITS, ...limits };
  const engine = () =>
    new RedisEngine({
      url: redis.url,
      roomTtlMs: all.emptyRoomKeepMs,
      recentCommits: all.recentCommitsPerRoom,
      logEntries: all.commitLogEntries,
      logBytes: all.commitLogBytes,
      maxProposals: 16,
      heartbeatMs: 200,
    });
  const basePath = options.basePath ?? `/${randomId()}`;
  const relays = [
    await startServer({ port: 0, ...options, basePath, logger, limits, engine: engine() }),
    await startServer({ port: 0, ...options, basePath, logger, limits, engine: engine() }),
  ];
  let turn = 0;
  const [a] = relays as [RunningServer, RunningServer];
  const max = (pick: (s: ReturnType<RunningServer['stats']>) => number): number => Math.max(...relays.map((r) => pick(r.stats())));
  const cluster = Object.create(a) as TestServer;
  Object.defineProperties(cluster, {
    logger: { value: logger },
    // A getter (not a value): each client asks again, and lands on the next relay.
    url: { get: () => (relays[turn++ % relays.length] as RunningServer).url },
    relays: { value: relays },
    stats: {
      value: () => {
        const s = a.stats();
        const out = { ...s };
        for (const k of Object.keys(s) as (keyof typeof s)[]) out[k] = max((x) => x[k]);
        return out;
      },
    },
    close: {
      value: async () => {
        await Promise.all(relays.map((r) => r.close()));
        await redis.stop();
      },
    },
  });
  return cluster;
}

export function wsUrl(server: RunningServer): string {
  return `${server.url.replace(/^http/, 'ws')}ws`;
}

/** Resolves with `value`, or rejects after `ms` with `what` in the message. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export type Received = { header: RelayHeader; body: Uint8Array };

/**
 * Relay keys for tests (docs/protocol.md "Membership authority"): one Ed25519 pair per room and
 * epoch, shared by every TestClient of the process, as members of one MLS epoch share theirs.
 * `epochKey(room, epoch, 'rival')` gives another pair for the same epoch (a forger's).
 */
const epochKeys = new Map<string, { text: string; privateKey: KeyObject }>();
export function epochKey(room: string, epoch: number, variant = ''): { text: string; privateKey: KeyObject } {
  const id = `${room}:${epoch}:${variant}`;
  let k = epochKeys.get(id);
  if (!k) {
    const pair = generateKeyPairSync('ed25519');
    const raw = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    k = { text: toBase64Url(raw), privateKey: pair.privateKey };
    epochKeys.set(id, k);
  }
  return k;
}

/** A `sub` header proving `epoch` of `room` on the connection whose nonce is `nonce`. */
export function subHeader(nonce: string, room: string, epoch = 0, variant = ''): Extract<ClientHeader, { t: 'sub' }> {
  const k = epochKey(room, epoch, variant);
  const sig = toBase64Url(sign(null, subStatement(nonce, room, epoch), k.privateKey));
  return { v: 1, t: 'sub', room, epoch, key: k.text, sig };
}

/** A commit `pub` header for `body` at `epoch`, signed by that epoch's key, announcing the next epoch's. */
export function commitHeader(room: string, id: string, epoch: number, body: Uint8Array, variant = ''): PubHeader {
  const next = epochKey(room, epoch + 1, variant).text;
  const digest = createHash('sha256').update(body).digest();
  const sig = toBase64Url(sign(null, commitStatement(room, epoch, digest, next), epochKey(room, epoch, variant).privateKey));
  return pubHeader({ room, id, kind: 'commit', epoch, next, sig });
}

/** A protocol client: sends frames, queues decoded relay frames, records how it was closed. */
export class TestClient {
  readonly frames: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** This connection's nonce, from the relay's `hello` (after `connect`). */
  nonce = '';
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) throw new Error('relay sent a text frame');
      const d = decodeRelayFrame(new Uint8Array(data));
      if (!d.ok) throw new Error(`relay sent an invalid frame: ${d.message}`);
      this.frames.push({ header: d.header, body: d.body });
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a WebSocket (no `hello` yet). */
  static async open(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const client = new TestClient(ws);
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode ?? 0}`)));
      }),
      5_000,
      'the WebSocket to open',
    );
    return client;
  }

  /** Opens and says `hello`; resolves after the relay's `hello`. */
  static async connect(server: RunningServer, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<TestClient> {
    const client = await TestClient.open(wsUrl(server), options);
    client.send({ v: 1, t: 'hello', session: randomId() });
    client.nonce = (await client.next('hello')).header.nonce;
    return client;
  }

  send(header: ClientHeader, body?: Uint8Array): void {
    this.ws.send(encodeFrame(header, body));
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  /** Subscribes (proving `epoch` with the test key for it) and waits for the presence that answers it. */
  async sub(room: string, epoch = 0, variant = ''): Promise<void> {
    this.send(this.subHeader(room, epoch, variant));
    await this.next('presence', (h) => h.room === room);
  }

  subHeader(room: string, epoch = 0, variant = ''): Extract<ClientHeader, { t: 'sub' }> {
    return subHeader(this.nonce, room, epoch, variant);
  }

  /** Publishes `body` as a commit at `epoch`, with a valid proof of that epoch. */
  commit(room: string, id: string, epoch: number, body: Uint8Array, variant = ''): void {
    this.send(commitHeader(room, id, epoch, body, variant), body);
  }

  /** Removes and returns the first queued frame of kind `t` matching `where`, waiting up to `ms`. */
  async next<T extends RelayHeader['t']>(
    t: T,
    where: (h: Extract<RelayHeader, { t: T }>) => boolean = () => true,
    ms = 5_000,
  ): Promise<{ header: Extract<RelayHeader, { t: T }>; body: Uint8Array }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex((f) => f.header.t === t && where(f.header as Extract<RelayHeader, { t: T }>));
      if (i >= 0) {
        const [f] = this.frames.splice(i, 1);
        return f as { header: Extract<RelayHeader, { t: T }>; body: Uint8Array };
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a "${t}" frame; queued: ${this.frames.map((f) => f.header.t).join(',')}`);
      await within(new Promise<void>((resolve) => this.waiters.push(resolve)), left, `a "${t}" frame`).catch(() => undefined);
    }
  }

  /**
   * A marker: a `ping`, answered by a `pong` that the relay queues behind every frame it had
   * queued for this connection before it read the ping (one queue per connection, in order).
   * Once this resolves, everything the relay sent here up to then is in `frames`.
   */
  async sync(): Promise<void> {
    this.send({ v: 1, t: 'ping' });
    await this.next('pong');
  }

  /**
   * True if no frame of kind `t` came, as far as a marker (`sync`) can tell. Call it once the
   * relay has handled what must not arrive (its sender has the ack or nack, or a later frame of
   * the same sender has come): anything the relay sent for it then came before the marker.
   */
  async nothing(t: RelayHeader['t']): Promise<boolean> {
    await this.sync();
    return !this.frames.some((f) => f.header.t === t);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Sends `request` on a raw TCP socket and resolves with every byte until the server closes. */
export function rawExchange(port: number, request: string | Buffer, opts: { localAddress?: string; ms?: number } = {}): Promise<Buffer> {
  return within(
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect({ host: '127.0.0.1', port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, () =>
        socket.write(request),
      );
      socket.on('data', (c) => chunks.push(c));
      socket.on('error', (e: Error & { code?: string }) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    }),
    opts.ms ?? 5_000,
    'the server to answer and close',
  );
}

/** The response with its `Date` header value blanked: the one part allowed to differ. */
export function withoutDate(response: Buffer): string {
  return response.toString('latin1').replace(/\r\nDate: [^\r]*\r\n/i, '\r\nDate: *\r\n');
}

/** A valid WebSocket handshake request for `path`, with extra header lines. */
export function upgradeRequest(path: string, extra: string[] = [], method = 'GET'): string {
  return [
    `${method} ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** A masked client frame (RFC 6455 §5.2) with `fin`, `opcode` and `payload`. */
export function maskedFrame(opcode: number, payload: Uint8Array): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return Buffer.concat([head, mask, body]);
}

/** Completes a WebSocket handshake on a raw socket; resolves with the socket and the 101 head. */
export function rawWebSocket(port: number, path: string, extra: string[] = []): Promise<{ socket: Socket; head: string; data: Buffer[] }> {
  return within(
    new Promise((resolve, reject) => {
      const data: Buffer[] = [];
      let head = '';
      let upgraded = false;
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write(upgradeRequest(path, extra)));
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        if (upgraded) {
          data.push(chunk);
          return;
        }
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        const rest = Buffer.from(head.slice(end + 4), 'latin1');
        head = head.slice(0, end);
        if (rest.length) data.push(rest);
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`handshake refused: ${head.split('\r\n')[0] ?? ''}`));
        else resolve({ socket, head, data });
      });
    }),
    5_000,
    'a raw WebSocket handshake',
  );
}

/** Parses unmasked server frames (RFC 6455 §5.2) from the bytes received so far. */
export function serverFrames(chunks: Buffer[]): { opcode: number; payload: Buffer }[] {
  const buf = Buffer.concat(chunks);
  const out: { opcode: number; payload: Buffer }[] = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const opcode = (buf[i] ?? 0) & 0x0f;
    let len = (buf[i + 1] ?? 0) & 0x7f;
    let off = i + 2;
    if (len === 126) {
      if (off + 2 > buf.length) break;
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (off + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    if (off + len > buf.length) break;
    out.push({ opcode, payload: buf.subarray(off, off + len) });
    i = off + len;
  }
  return out;
}

/** The close code the server sent on a raw socket, once it closed (or undefined if it sent none). */
export async function rawCloseCode(socket: Socket, data: Buffer[], ms = 5_000): Promise<number | undefined> {
  if (!socket.destroyed && socket.readyState !== 'closed')
    await within(new Promise<void>((resolve) => socket.once('close', () => resolve())), ms, 'the server to close the socket');
  const close = serverFrames(data).find((f) => f.opcode === 0x8);
  return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
}

/** Says `hello` on a raw WebSocket (from `rawWebSocket`) and resolves with the relay's nonce. */
export async function rawHello(socket: Socket, data: Buffer[]): Promise<string> {
  socket.write(maskedFrame(0x2, encodeFrame({ v: 1, t: 'hello', session: randomId() })));
  let nonce: string | undefined;
  await until(
    () => {
      for (const f of serverFrames(data)) {
        const d = decodeRelayFrame(new Uint8Array(f.payload));
        if (d.ok && d.header.t === 'hello') nonce = d.header.nonce;
      }
      return nonce !== undefined;
    },
    5_000,
    "the relay's hello",
  );
  return nonce ?? '';
}
