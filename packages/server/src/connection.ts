/**
 * One client's WebSocket, as the relay holds it: its state (waiting for `hello`, open, closing),
 * the rooms it is in and the join requests it is waiting on, its rate limiter, its liveness
 * check and its outgoing queue bound. It knows nothing of frames' meaning: the relay decides.
 *
 * Every way a connection ends funnels into `leave()`, which runs once and tells the relay, so
 * rooms, presence and pending joins are updated whichever way a peer went (close, error, dead,
 * slow, abusive, server shutdown).
 */
import { Socket } from 'node:net';
import { PROTOCOL_VERSION, type ErrorCode } from '@safehouse/core/protocol';
import type { ServerLimits } from './config.js';
import type { Logger } from './logger.js';
import { fillGuard, takeFromGuard, type FloodGuard, type GuardSpec } from './limiter.js';
import type { Cohort, PendingJoin } from './room.js';
import { payloadOf, wireFrameOf, type WireFrame } from './wireFrame.js';
import { OWNER, type PeerSocket, type SocketEvents } from './socket.js';
import { discardQueue, enqueue, writeQueue, type Flushable, type FlushScheduler, type OutQueue } from './writer.js';

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
  /** Batches each socket's writes per event-loop turn (writer.ts). */
  readonly scheduler: FlushScheduler;
  /** The flood guard's buckets, from `limits` (limiter.ts). */
  readonly guard: GuardSpec;
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

/** WebSocket.OPEN */
const OPEN = 1;

export class Connection implements Flushable, SocketEvents, OutQueue, FloodGuard {
  state: ConnectionState = 'hello';
  /** The client's `hello` session (random per client process; kept across its reconnects). */
  session = '';
  /** Frames that arrived while an earlier one waits for a room's shared state (relay.ts `hold`): handled after it, in order. */
  held: Buffer[] | undefined = undefined;
  heldBytes = 0;
  /** The room (cohort) this connection is subscribed to, while it is in one only (most are: no Set then)... */
  private room: Cohort | undefined;
  /** ...or every one it is in, once it is in two or more. At most one cohort per room id. */
  private roomSet: Set<Cohort> | undefined;
  /** Join requests this connection sent that wait for a Welcome; made at the first (most never send one). */
  private joinSet: Set<PendingJoin> | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private left = false;
  /** Resolves once the socket is gone; made only when someone waits (shutdown). */
  private closed: { promise: Promise<void>; resolve: () => void } | undefined;
  /** The underlying socket, written to directly in batches (writer.ts); undefined where ws must write. */
  private readonly direct: Socket | undefined;
  // The outgoing queue (writer.ts) and the flood guard (limiter.ts), as fields: no objects of their own.
  outFirst: WireFrame | undefined = undefined;
  outMore: (WireFrame | undefined)[] | undefined = undefined;
  outCount = 0;
  outBytes = 0;
  guardFrames = 0;
  guardBytes = 0;
  guardRefusals = 0;
  guardLast = 0;

  constructor(
    private readonly ws: PeerSocket,
    readonly ip: string,
    private readonly hooks: ConnectionHooks,
    /** Numbers the connection within this relay process; its nonce derives from it (auth.ts). */
    readonly serial: number,
  ) {
    const { limits } = hooks;
    fillGuard(this, hooks.guard);
    // ws keeps its socket in `_socket` (all of ws 8). Only a plain or TLS socket with no extension
    // negotiated carries our pre-built frames directly; anything else goes through ws.send.
    const socket = (ws as unknown as { _socket?: unknown })._socket;
    this.direct = socket instanceof Socket && ws.extensions === '' ? socket : undefined;
    // The socket calls this connection's methods directly (socket.ts): no listeners, no closures.
    ws[OWNER] = this;

    this.helloTimer = setTimeout(onHelloTimeout, limits.helloTimeoutMs, this);
    this.helloTimer.unref();
  }

  /** ws: a message arrived. */
  received(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.state !== 'hello' && this.state !== 'open') return;
    if (!isBinary) {
      // docs/protocol.md: text frames are refused. No error frame: the peer does not speak our framing.
      this.fail('E_FRAME_MALFORMED', CLOSE.unsupportedData, false);
      return;
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.hooks.counters.framesIn += 1;
    this.hooks.counters.bytesIn += buf.length;
    this.hooks.onMessage(this, buf);
  }

  /**
   * ws: the peer sent a ping. It is charged to the flood guard like a frame: answered when the
   * guard lets it through, ignored when refused, and a peer that keeps flooding is closed.
   */
  pinged(data: Buffer): void {
    if (this.state !== 'hello' && this.state !== 'open') return;
    if (this.takeToken(data.length) !== 'ok' || this.ws.readyState !== OPEN) return;
    this.ws.pong(data);
    if (this.ws.bufferedAmount > this.hooks.limits.maxBufferedBytes) this.dropSlow();
  }

  /**
   * ws: a pong. The answer to our ping clears the liveness check; an unsolicited one (RFC 6455
   * allows them as a heartbeat) is charged to the flood guard like a frame.
   */
  ponged(data: Buffer): void {
    if (this.pongTimer === undefined) {
      if (this.state === 'hello' || this.state === 'open') this.takeToken(data.length);
      return;
    }
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  /** ws: a protocol error; ws has already chosen the close code (1002, 1007, 1009) and is closing. */
  errored(err: Error & { code?: string }): void {
    // The error text may quote peer bytes: only its kind is counted, never logged.
    this.hooks.counters.protocolViolations += 1;
    const code: ErrorCode =
      err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'E_FRAME_TOO_LARGE' : 'E_FRAME_MALFORMED';
    this.hooks.logger.warn('protocol-violation', { code });
    this.state = 'closing';
    discardQueue(this);
    this.leave();
    this.armGrace();
  }

  /** ws: the socket is gone. */
  gone(): void {
    this.state = 'closed';
    discardQueue(this);
    clearTimeout(this.helloTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.graceTimer);
    this.leave();
    this.hooks.onClosed(this);
    this.closed?.resolve();
  }

  helloTimedOut(): void {
    if (this.state === 'hello') this.fail('E_TIMEOUT', CLOSE.policyViolation, true);
  }

  /** The peer said `hello`: from now on it may use the relay. */
  open(): void {
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.state = 'open';
  }

  /**
   * Queues a frame. The buffer may be shared with other connections (fan-out frames once), so
   * it is never modified. A socket whose queue passes `maxBufferedBytes` is a slow consumer:
   * it is closed with 1013 and dropped (THREATS A.9).
   */
  send(frame: WireFrame): boolean {
    if (this.state !== 'open' && this.state !== 'hello') return false;
    const { counters, limits } = this.hooks;
    counters.framesOut += 1;
    counters.bytesOut += frame.length;
    const direct = this.direct;
    if (!direct) {
      this.ws.send(payloadOf(frame), SEND_OPTIONS);
      if (this.ws.bufferedAmount > limits.maxBufferedBytes) return this.dropSlow();
      return true;
    }
    if (enqueue(this, frame)) this.hooks.scheduler.mark(this);
    // Past the bound (queued and refused together), the queue goes to the kernel at once; what
    // the kernel refuses is what judges the reader (here and in `flush`), as without batching.
    if (this.outBytes + direct.writableLength > limits.maxBufferedBytes) {
      writeQueue(this, direct, this.ws.readyState === OPEN);
      if (direct.writableLength > limits.maxBufferedBytes) return this.dropSlow();
    }
    return true;
  }

  /** End of the turn (the scheduler): what was queued goes to the kernel; a reader that leaves
   *  more than `maxBufferedBytes` with us is slow. Also called before anything ws writes itself. */
  flush(): void {
    const direct = this.direct;
    if (!direct) return;
    writeQueue(this, direct, this.ws.readyState === OPEN);
    // What the kernel refused is what a slow reader makes us hold.
    if (direct.writableLength > this.hooks.limits.maxBufferedBytes && (this.state === 'open' || this.state === 'hello'))
      this.dropSlow();
  }

  /** THREATS A.9: close with 1013, destroy after the grace; the rooms are left once the caller is done. */
  private dropSlow(): false {
    this.hooks.counters.slowConsumers += 1;
    this.hooks.logger.warn('slow-consumer');
    this.state = 'closing';
    discardQueue(this);
    this.ws.close(CLOSE.tryAgainLater, 'E_SLOW_CONSUMER');
    this.armGrace();
    // The caller may be iterating over a room's subscribers: leave once it is done.
    queueMicrotask(() => this.leave());
    return false;
  }

  /** Bytes queued for this socket and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.direct ? this.outBytes + this.direct.writableLength : this.ws.bufferedAmount;
  }

  /**
   * Charges a frame of `size` bytes to the frame and byte buckets. A refused frame takes no
   * token (limiter.ts). 'abuse' means the peer keeps flooding after being refused: the
   * connection is then closed here (`error E_RATE_LIMITED`, 1008), whatever the frame was.
   */
  takeToken(size: number): TokenResult {
    const r = takeFromGuard(this, this.hooks.guard, size);
    if (r !== 'ok') this.hooks.counters.rateLimited += 1;
    if (r === 'abuse') this.fail('E_RATE_LIMITED', CLOSE.policyViolation, true);
    return r;
  }

  /** Rooms this connection is subscribed to. */
  get roomCount(): number {
    return this.roomSet ? this.roomSet.size : this.room ? 1 : 0;
  }

  /** The cohort of room `id` this connection is subscribed to, if any. */
  cohortOf(id: string): Cohort | undefined {
    if (this.room) return this.room.id === id ? this.room : undefined;
    if (this.roomSet) for (const c of this.roomSet) if (c.id === id) return c;
    return undefined;
  }

  addRoom(room: Cohort): void {
    if (this.roomSet) this.roomSet.add(room);
    else if (!this.room || this.room === room) this.room = room;
    else {
      this.roomSet = new Set([this.room, room]);
      this.room = undefined;
    }
  }

  deleteRoom(room: Cohort): void {
    if (this.roomSet) this.roomSet.delete(room);
    else if (this.room === room) this.room = undefined;
  }

  /** A copy of the rooms (safe to leave them while iterating). */
  roomList(): Cohort[] {
    return this.roomSet ? [...this.roomSet] : this.room ? [this.room] : [];
  }

  clearRooms(): void {
    this.room = undefined;
    this.roomSet = undefined;
  }

  /** Join requests pending from this connection. */
  get joinCount(): number {
    return this.joinSet?.size ?? 0;
  }

  addJoin(p: PendingJoin): void {
    (this.joinSet ??= new Set()).add(p);
  }

  deleteJoin(p: PendingJoin): void {
    this.joinSet?.delete(p);
  }

  /** A copy of the pending join requests (safe to remove them while iterating). */
  pendingJoins(): PendingJoin[] {
    return this.joinSet ? [...this.joinSet] : [];
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
      discardQueue(this);
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
    if (withErrorFrame) this.send(wireFrameOf({ v: PROTOCOL_VERSION, t: 'error', code }));
    this.flush();
    this.state = 'closing';
    this.leave();
    this.ws.close(closeCode, code);
    this.armGrace();
  }

  /** Server shutdown: `closing`, then close 1001; resolves once the socket is gone (at most the grace). */
  shutdown(closingFrame: WireFrame): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    if (!this.closed) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.closed = { promise, resolve };
    }
    if (this.state === 'open' || this.state === 'hello') {
      this.send(closingFrame);
      this.flush();
      this.state = 'closing';
      this.leave();
      this.ws.close(CLOSE.goingAway, 'E_SERVER_CLOSING');
    }
    this.armGrace();
    return this.closed.promise;
  }

  /** Destroys the socket now. */
  terminate(): void {
    this.state = 'closing';
    discardQueue(this);
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

const SEND_OPTIONS = { binary: true, compress: false, fin: true } as const;

function onHelloTimeout(conn: Connection): void {
  conn.helloTimedOut();
}
