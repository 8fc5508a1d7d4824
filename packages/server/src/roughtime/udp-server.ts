/**
 * Safehouse's own Roughtime server over UDP (RFC 10049 §5, and drafts 08/11/12-19 and Google's
 * protocol through core/roughtime's responder), for air-gapped deployments and for tests:
 * `safehouse serve --roughtime-port N`. Requests arriving in one event-loop turn are signed as
 * one batch under one Merkle root (one signature per version in use).
 *
 * It binds like the relay: loopback unless `allowPublic`. It answers only requests of at least
 * 1,024 bytes and never with more bytes than were asked (§9.7: no amplification). It logs
 * counts only, never an address or a packet.
 *
 * The long-term key is a 32-byte Ed25519 seed, given or random per start; the online key is
 * random per start and delegated for [now - 1 day, now + 30 days] (§5.2.6).
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { TransportError, UsageError } from '@safehouse/core/protocol';
import {
  createDelegation,
  ed25519SignerFromSeed,
  formatAddress,
  MIN_REQUEST_BYTES,
  respond,
  type Delegation,
  type Ed25519Signer,
} from '@safehouse/core/roughtime';
import { isLoopbackHost } from '../config.js';
import { silentLogger, type Logger } from '../logger.js';

export type RoughtimeServerOptions = {
  /** Address to bind. Default `127.0.0.1`; anything else needs `allowPublic`. */
  host?: string;
  /** UDP port; 0 picks a free one. Default 2002 (the customary Roughtime port). */
  port?: number;
  allowPublic?: boolean;
  /** The long-term key's 32-byte Ed25519 seed. Default: random (printed key changes per start). */
  seed?: Uint8Array;
  /** RADI in seconds. Default 3 (§5.2.5: at least 3 without leap-second information). */
  radiusSeconds?: number;
  /** Added to the local clock: only tests set it (a server that lies by a day). Default 0. */
  offsetMs?: number;
  /** Requests signed in one batch at most. Default 64. */
  maxBatch?: number;
  /** Requests waiting to be signed at most; more are dropped. Default 1,024. */
  maxQueue?: number;
  logger?: Logger;
};

export type RoughtimeServerStats = { requests: number; replies: number; dropped: number };

export type RunningRoughtimeServer = {
  readonly host: string;
  readonly port: number;
  readonly publicKey: Uint8Array;
  /** `HOST:PORT:BASE64KEY`, what clients pass to `--roughtime` / `--server`. */
  readonly spec: string;
  stats(): RoughtimeServerStats;
  close(): Promise<void>;
};

const DAY_MS = 86_400_000;

export async function startRoughtimeServer(options: RoughtimeServerOptions = {}): Promise<RunningRoughtimeServer> {
  const host = (options.host ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  if (!isLoopbackHost(host) && options.allowPublic !== true)
    throw new UsageError('E_ADDRESS_REFUSED', `refusing to bind the Roughtime server to ${host}: it is not a loopback address; pass --public if that is meant`);
  const port = options.port ?? 2002;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('E_USAGE', `Roughtime port expected an integer in [0, 65535], got ${String(port)}`);
  const seed = options.seed ?? randomBytes(32);
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new UsageError('E_USAGE', 'the Roughtime key expected a 32-byte Ed25519 seed');
  const offsetMs = options.offsetMs ?? 0;
  const radiusSeconds = options.radiusSeconds ?? 3;
  const maxBatch = options.maxBatch ?? 64;
  const maxQueue = options.maxQueue ?? 1024;
  const logger = options.logger ?? silentLogger;

  const longTerm = await ed25519SignerFromSeed(seed);
  let online: Ed25519Signer;
  let delegation: Delegation;
  const delegate = async (): Promise<void> => {
    online = await ed25519SignerFromSeed(randomBytes(32));
    const now = Date.now() + offsetMs;
    delegation = await createDelegation({ longTerm, onlinePublicKey: online.publicKey, minTimeMs: now - DAY_MS, maxTimeMs: now + 30 * DAY_MS });
  };
  await delegate();

  const stats: RoughtimeServerStats = { requests: 0, replies: 0, dropped: 0 };
  const queue: { packet: Uint8Array; address: string; port: number }[] = [];
  let scheduled = false;
  const socket = dgram.createSocket({ type: isIP(host) === 6 || host === 'localhost' ? 'udp6' : 'udp4' });

  const flush = async (): Promise<void> => {
    scheduled = false;
    const batch = queue.splice(0, maxBatch);
    if (queue.length > 0) schedule();
    if (batch.length === 0) return;
    const midpointMs = Date.now() + offsetMs;
    if (midpointMs > delegation.maxTimeMs - DAY_MS) await delegate();
    const replies = await respond(
      batch.map((b) => b.packet),
      { delegation, online, midpointMs, radiusSeconds },
    );
    replies.forEach((reply, i) => {
      const to = batch[i];
      if (!reply || !to) return void stats.dropped++;
      stats.replies++;
      socket.send(reply, to.port, to.address);
    });
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void flush().catch(() => logger.warn('internal-error', { code: 'E_INTERNAL' })));
  };

  socket.on('message', (msg, rinfo) => {
    stats.requests++;
    // §9.7: a request below 1,024 bytes is never answered; a full queue sheds load.
    if (msg.length < MIN_REQUEST_BYTES || queue.length >= maxQueue) return void stats.dropped++;
    queue.push({ packet: new Uint8Array(msg), address: rinfo.address, port: rinfo.port });
    schedule();
  });
  socket.on('error', () => logger.warn('internal-error', { code: 'E_INTERNAL' }));

  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: host === 'localhost' ? '::1' : host, port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new TransportError('E_PORT_IN_USE', `UDP port ${port} is in use on ${host}: choose another --roughtime-port`, { cause: err });
    throw new UsageError('E_ADDRESS_REFUSED', `cannot bind the Roughtime server to ${host}:${port} (${code ?? 'unknown error'})`, { cause: err });
  }
  const bound = socket.address().port;
  logger.info('roughtime-listening', { port: bound });
  const publicKey = longTerm.publicKey.slice();
  let closing: Promise<void> | undefined;
  return {
    host,
    port: bound,
    publicKey,
    spec: `${formatAddress(host, bound)}:${Buffer.from(publicKey).toString('base64')}`,
    stats: () => ({ ...stats }),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        logger.info('roughtime-closed', { ...stats });
        socket.close(() => resolve());
      })),
  };
}
