/**
 * One client's WebSocket, as the relay holds it: its state (waiting for `hello`, open, closing),
 * the rooms it is in and the join requests it is waiting on, its rate limiter, its liveness
 * check and its outgoing queue bound. It knows nothing of frames' meaning: the relay decides.
 *
 * Every way a connection ends funnels into `leave()`, which runs once and tells the relay, so
 * rooms, presence and pending joins are updated whichever way a peer went (close, error, dead,
 * slow, abusive, server shutdown).
 */
import type { WebSocket } from 'ws';
import { encodeFrame, PROTOCOL_VERSION, type ErrorCode } from '@safehouse/core/protocol';
import type { ServerLimits } from './config.js';
import type { Logger } from './logger.js';
import { TokenBucket } from './limiter.js';
import type { PendingJoin, Room } from './room.js';

/** Monotonic counters the relay and the gate share; `stats()` reports them. Counts only. */
export type Counters = {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  refusedRequests: number;
  rateLimited: number;
  slowConsumers: number;
  deadPeers: number;
  protocolViolations: number;
};

export type ConnectionHooks = {
  readonly limits: Readonly<ServerLimits>;
  readonly logger: Logger;
  readonly counters: Counters;
  /** A binary message arrived on an open or hello-awaiting connection. */
  onMessage(conn: Connection, data: Buffer): void;
  /** The connection is leaving its rooms (closing, dead, dropped): called exactly once. */
  onLeave(conn: Connection): void;
  /** The socket is gone and its memory with it: called exactly once, after `onLeave`. */
  onClosed(conn: Connection): void;
};

export type ConnectionState = 'hello' | 'open' | 'closing' | 'closed';
export type TokenResult = 'ok' | 'refused' | 'abuse';

/** RFC 6455 §7.4.1 and the IANA registry: the close codes the relay uses. */
export const CLOSE = {
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
} as const;

export class Connection {
  state: ConnectionState = 'hello';
  /** Rooms this connection is subscribed to. */
  readonly rooms = new Set<Room>();
  /** Join requests this connection sent that wait for a Welcome. */
  readonly joins = new Set<PendingJoin>();
  private readonly rate: TokenBucket;
  private readonly bytes: TokenBucket;
  private readonly abuse: TokenBucket;
  private helloTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private left = false;
  private readonly closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    readonly ip: string,
    private readonly hooks: ConnectionHooks,
  ) {
    const { limits } = hooks;
    this.rate = new TokenBucket(limits.rateBurst, limits.ratePerSecond);
    this.bytes = new TokenBucket(limits.bytesBurst, limits.bytesPerSecond);
    this.abuse = new TokenBucket(limits.abuseAllowance, Math.max(1, limits.ratePerSecond / 5));
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));

    ws.on('message', (data, isBinary) => {
      if (this.state !== 'hello' && this.state !== 'open') return;
      if (!isBinary) {
        // docs/protocol.md: text frames are refused. No error frame: the peer does not speak our framing.
        this.fail('E_FRAME_MALFORMED', CLOSE.unsupportedData, false);
        return;
      }
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      hooks.counters.framesIn += 1;
      hooks.counters.bytesIn += buf.length;
      hooks.onMessage(this, buf);
    });
    ws.on('pong', () => {
      clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws has already chosen the close code (1002, 1007, 1009) and is closing. The error text
      // may quote peer bytes: only its kind is counted, never logged.
      hooks.counters.protocolViolations += 1;
      const code: ErrorCode = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'E_FRAME_TOO_LARGE' : 'E_FRAME_MALFORMED';
      hooks.logger.warn('protocol-violation', { code });
      this.state = 'closing';
      this.leave();
      this.armGrace();
    });
    ws.on('close', () => {
      this.state = 'closed';
      clearTimeout(this.helloTimer);
      clearTimeout(this.pongTimer);
      clearTimeout(this.graceTimer);
      this.leave();
      hooks.onClosed(this);
    });

    this.helloTimer = setTimeout(() => {
      if (this.state === 'hello') this.fail('E_TIMEOUT', CLOSE.policyViolation, true);
    }, limits.helloTimeoutMs);
    this.helloTimer.unref();
  }

  /** The peer said `hello`: from now on it may use the relay. */
  open(): void {
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.state = 'open';
  }

  /**
   * Queues a frame. The buffer may be shared with other connections (fan-out encodes once), so
   * it is never modified. A socket whose queue passes `maxBufferedBytes` is a slow consumer:
   * it is closed with 1013 and dropped (THREATS A.9).
   */
  send(frame: Buffer): boolean {
    if (this.state !== 'open' && this.state !== 'hello') return false;
    this.ws.send(frame, { binary: true, compress: false, fin: true });
    this.hooks.counters.framesOut += 1;
    this.hooks.counters.bytesOut += frame.length;
    if (this.ws.bufferedAmount > this.hooks.limits.maxBufferedBytes) {
      this.hooks.counters.slowConsumers += 1;
      this.hooks.logger.warn('slow-consumer');
      this.state = 'closing';
      this.ws.close(CLOSE.tryAgainLater, 'E_SLOW_CONSUMER');
      this.armGrace();
      // The caller may be iterating over a room's subscribers: leave once it is done.
      queueMicrotask(() => this.leave());
      return false;
    }
    return true;
  }

  /** Bytes queued on this socket and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Charges a frame of `size` bytes to the frame and byte buckets. 'abuse' means the peer keeps
   * flooding after being refused. A frame refused by the byte bucket gives its frame token back.
   */
  takeToken(size: number): TokenResult {
    if (this.rate.take()) {
      if (this.bytes.take(size)) return 'ok';
      this.rate.refund();
    }
    this.hooks.counters.rateLimited += 1;
    return this.abuse.take() ? 'refused' : 'abuse';
  }

  /** Sends a WebSocket ping unless one is still unanswered; no pong in time means a dead peer. */
  ping(): void {
    if ((this.state !== 'open' && this.state !== 'hello') || this.pongTimer) return;
    this.ws.ping();
    this.pongTimer = setTimeout(() => {
      this.pongTimer = undefined;
      if (this.state === 'closed') return;
      this.hooks.counters.deadPeers += 1;
      this.hooks.logger.warn('dead-peer');
      this.state = 'closing';
      this.leave();
      this.ws.terminate();
    }, this.hooks.limits.pongTimeoutMs);
    this.pongTimer.unref();
  }

  /**
   * Ends the connection for a fault of the peer's: an `error {code}` frame if asked (the peer
   * speaks our framing), then a close frame with `closeCode`, then a hard close after the grace.
   */
  fail(code: ErrorCode, closeCode: number, withErrorFrame: boolean): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (code === 'E_RATE_LIMITED') this.hooks.logger.warn('rate-abuse', { close: closeCode });
    else {
      this.hooks.counters.protocolViolations += 1;
      this.hooks.logger.warn('protocol-violation', { code, close: closeCode });
    }
    if (withErrorFrame) {
      const frame = encodeFrame({ v: PROTOCOL_VERSION, t: 'error', code });
      this.ws.send(frame, { binary: true, compress: false, fin: true });
    }
    this.state = 'closing';
    this.leave();
    this.ws.close(closeCode, code);
    this.armGrace();
  }

  /** Server shutdown: `closing`, then close 1001; resolves once the socket is gone (at most the grace). */
  shutdown(closingFrame: Buffer): Promise<void> {
    if (this.state === 'open' || this.state === 'hello') {
      this.ws.send(closingFrame, { binary: true, compress: false, fin: true });
      this.state = 'closing';
      this.leave();
      this.ws.close(CLOSE.goingAway, 'E_SERVER_CLOSING');
    }
    this.armGrace();
    return this.closed;
  }

  /** Destroys the socket now. */
  terminate(): void {
    this.state = 'closing';
    this.leave();
    this.ws.terminate();
  }

  private armGrace(): void {
    if (this.graceTimer || this.state === 'closed') return;
    this.graceTimer = setTimeout(() => this.ws.terminate(), this.hooks.limits.closeGraceMs);
    this.graceTimer.unref();
  }

  private leave(): void {
    if (this.left) return;
    this.left = true;
    this.hooks.onLeave(this);
  }
}
