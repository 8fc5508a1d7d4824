/**
 * The blind relay (docs/protocol.md): rooms, presence, fan-out of opaque bodies, per-room commit
 * ordering (the MLS delivery service's one duty, RFC 9420 §14) and the routing of join requests
 * and Welcomes. It decodes frame headers (ids and numbers) and never looks inside a body.
 *
 * All state is soft and in memory: a restart loses it and clients rebuild it (`sub` carries the
 * epoch; clients resend what was not acked). A room's shared state (its cohorts, their logs and
 * kept proposals, its join requests, the subscriber counts) changes only through the engine
 * (engine/engine.ts): at once for one relay alone, in the bus's order for a cluster of relays.
 * What is this relay's own — its connections, who owes a proof, who is catching up — stays here.
 */
import {
  decodeClientFrame,
  missingCaseError,
  randomId,
  PROTOCOL_VERSION,
  type ClientHeader,
  type ErrorCode,
  type PubKind,
} from '@safehouse/core/protocol';
import type { ServerLimits } from './config.js';
import type { Logger } from './logger.js';
import type { RoughtimeForwarder } from './roughtime/forwarder.js';
import { CLOSE, Connection, type ConnectionHooks, type Counters } from './connection.js';
import type { PeerSocket } from './socket.js';
import { monotonicMs } from './limiter.js';
import { fastPub } from './fastPub.js';
import { Cohort, Room, type PendingJoin } from './room.js';
import { Nonces, epochKey, verifyCommit, verifySub, type EpochKey } from './auth.js';
import { ackFrame, msgFrame, wireFrameOf as frame } from './wireFrame.js';
import { FlushScheduler } from './writer.js';
import type { CommitEvent, CommitOutcome, Engine, EngineHost, JoinEvent, PubRecord, RoomSnapshot } from './engine/engine.js';
import { MemoryEngine } from './engine/memory.js';

export type RelayStats = Counters & {
  connections: number;
  rooms: number;
  subscriptions: number;
  pendingJoins: number;
  /** Bytes queued to all sockets now; bounded by connections × (maxBufferedBytes + one frame). */
  bufferedBytes: number;
};

const V = PROTOCOL_VERSION;
/** Proposals (leaves) of the current epoch kept per room for members that subscribe later. */
export const MAX_KEPT_PROPOSALS = 16;
/** How long a cluster's relay keeps following a room nothing of its own is in any more. */
const LINGER_MS = 2_000;
/** Frames kept per connection while it catches up from the log (then it loses the rest). */
const MAX_KEPT_FOR_CATCHING = 256;

export class Relay implements EngineHost {
  /** Random per process, and new after the bus was lost: a new value tells clients the relay restarted. */
  id = randomId();
  readonly counters: Counters = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    refusedRequests: 0,
    rateLimited: 0,
    slowConsumers: 0,
    deadPeers: 0,
    protocolViolations: 0,
  };
  private readonly rooms = new Map<string, Room>();
  private readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  private readonly scheduler = new FlushScheduler();
  /** Rooms whose subscribers changed this turn (`broadcastPresence`). */
  private readonly presenceDue = new Set<Cohort>();
  private readonly presenceSender = { flush: (): void => this.sendPresence() };
  /** What every connection calls back: one object for all (an idle connection costs memory). */
  private readonly hooks: ConnectionHooks;
  /** Per-connection nonces that `sub` proofs sign (auth.ts). */
  private readonly nonces = new Nonces();
  private serial = 0;
  private readonly pongFrame = frame({ v: V, t: 'pong' });
  private readonly closingFrame = frame({ v: V, t: 'closing' });
  private readonly pingTimer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout;
  private closing = false;
  /** A cluster's relay that lost its bus: it serves no one until the bus is back. */
  private busDown = false;
  /** Commits this relay's connections sent that the engine is ordering, by commit id. */
  private readonly committing = new Map<string, Connection>();
  /** Join requests this relay's connections sent that the engine is recording, by room and join id. */
  private readonly joining = new Map<string, Connection>();
  readonly engine: Engine;

  constructor(
    private readonly limits: Readonly<ServerLimits>,
    private readonly logger: Logger,
    /** The Roughtime path for browsers (roughtime/forwarder.ts); without one, `rt` is refused. */
    private readonly roughtime?: RoughtimeForwarder,
    /** Where rooms' shared state lives (engine/engine.ts); default: this process's memory. */
    engine?: Engine,
  ) {
    this.engine = engine ?? new MemoryEngine();
    this.hooks = {
      limits,
      logger,
      counters: this.counters,
      scheduler: this.scheduler,
      guard: {
        frames: { capacity: limits.rateBurst, perSecond: limits.ratePerSecond },
        bytes: { capacity: limits.bytesBurst, perSecond: limits.bytesPerSecond },
        refusals: { capacity: limits.abuseAllowance, perSecond: Math.max(1, limits.ratePerSecond / 5) },
        now: monotonicMs,
      },
      onMessage: (c, data) => this.onMessage(c, data),
      onLeave: (c) => this.leave(c),
      onClosed: (c) => this.closed(c),
    };
    this.pingTimer = setInterval(() => {
      for (const conn of this.connections) conn.ping();
    }, limits.pingIntervalMs);
    this.pingTimer.unref();
    // Owed proofs are checked a few times per grace: a removed member stops receiving soon after it.
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(10, Math.min(5_000, Math.floor(limits.reproveGraceMs / 3))));
    this.sweepTimer.unref();
  }

  /**
   * Whether one more WebSocket from `ip` may be accepted (THREATS A.7), checked by the gate once
   * the request is known to be authorised. Every connection counts against `maxConnections`;
   * against `maxConnectionsPerIp` (0: none) only where `counted` — where an address stands for
   * people, not for a tunnel or a proxy everyone shares (gate.ts `sourceOf`).
   */
  canAdmit(ip: string, counted = true): boolean {
    if (this.closing || this.busDown || this.connections.size >= this.limits.maxConnections) return false;
    const cap = this.limits.maxConnectionsPerIp;
    return !counted || cap === 0 || (this.perIp.get(ip) ?? 0) < cap;
  }

  /** Why `canAdmit` said no: a cluster's relay without its bus (`E_UNAVAILABLE`), else a cap. */
  get refusal(): 'E_UNAVAILABLE' | 'E_TOO_MANY_CONNECTIONS' {
    return this.busDown ? 'E_UNAVAILABLE' : 'E_TOO_MANY_CONNECTIONS';
  }

  /** Takes over an upgraded WebSocket. Each is tallied under its address; `canAdmit` says whether that tally caps it. */
  attach(ws: PeerSocket, ip: string): Connection {
    const conn = new Connection(ws, ip, this.hooks, ++this.serial);
    this.connections.add(conn);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    return conn;
  }

  /**
   * Room policy (control.ts, set by `safehouse serve`): a code refuses a `pub`, `join` or
   * `welcome` (nacked with it). Undefined: no policy, nothing refused.
   */
  policy: ((conn: Connection, t: 'pub' | 'join' | 'welcome', room: string, kind?: string) => ErrorCode | undefined) | undefined;

  /** Whether `conn` is subscribed to the room `roomId` (control.ts). */
  isSubscribed(conn: Connection, roomId: string): boolean {
    return conn.cohortOf(roomId) !== undefined;
  }

  /** The nonce a `sub` on `conn` signs (sent in the relay's `hello`). */
  nonceOf(conn: Connection): string {
    return this.nonces.of(conn.serial);
  }

  /** Starts the engine (a cluster's: connects to its bus). */
  start(): Promise<void> {
    return this.engine.start(this);
  }

  /** The connection that sent the pending join request `joinId` to `roomId` (control.ts). */
  joinOwner(roomId: string, joinId: string): Connection | undefined {
    return this.rooms.get(roomId)?.pendingJoin(joinId)?.owner;
  }

  stats(): RelayStats {
    let subscriptions = 0;
    let pendingJoins = 0;
    for (const room of this.rooms.values()) {
      subscriptions += room.subscriberCount;
      pendingJoins += room.pendingJoinCount;
    }
    let bufferedBytes = 0;
    for (const conn of this.connections) bufferedBytes += conn.bufferedAmount;
    return { ...this.counters, connections: this.connections.size, rooms: this.rooms.size, subscriptions, pendingJoins, bufferedBytes };
  }

  /** Tells every client the server is closing, closes with 1001, waits (at most the grace), wipes. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pingTimer);
    clearInterval(this.sweepTimer);
    this.roughtime?.close();
    this.scheduler.flushNow();
    await Promise.all([...this.connections].map((c) => c.shutdown(this.closingFrame)));
    await this.engine.close();
    for (const room of this.rooms.values()) room.wipe();
    this.rooms.clear();
    this.connections.clear();
    this.perIp.clear();
  }

  // ---- frames ------------------------------------------------------------------------------

  private onMessage(conn: Connection, data: Buffer): void {
    // Frames behind one that waits for a room's shared state wait too: one connection's frames are handled in order.
    if (conn.held !== undefined) {
      // Charged when handled; bounded while they wait (a slow bus must not make the relay buffer without end).
      conn.heldBytes += data.length;
      if (conn.heldBytes > this.limits.bytesBurst) return conn.fail('E_RATE_LIMITED', CLOSE.policyViolation, true);
      conn.held.push(data);
      return;
    }
    if (conn.state === 'open') {
      // The frequent case, a `pub` as our clients write it, is read in place (fastPub.ts); any
      // other frame, and any frame the fast path does not recognise, takes the full decoder.
      const pub = fastPub(data, this.limits.maxFrameBytes);
      if (pub) {
        const token = conn.takeToken(data.length); // 'abuse' closes the connection
        if (token === 'ok') return this.publish(conn, pub.room, pub.id, pub.kind, pub.epoch, pub.exp, data.subarray(pub.bodyStart));
        if (token === 'refused') this.nack(conn, pub.id, 'E_RATE_LIMITED');
        return;
      }
    }
    const decoded = decodeClientFrame(data, this.limits.maxFrameBytes);
    if (!decoded.ok) {
      if (decoded.code === 'E_FRAME_TOO_LARGE') conn.fail(decoded.code, CLOSE.messageTooBig, true);
      else conn.fail(decoded.code, CLOSE.policyViolation, true);
      return;
    }
    const { header, body } = decoded;
    if (conn.state === 'hello') {
      // docs/protocol.md: any frame before `hello` is fatal.
      if (header.t !== 'hello') return conn.fail('E_HEADER_INVALID', CLOSE.policyViolation, true);
      conn.takeToken(data.length);
      conn.session = header.session;
      conn.open();
      conn.send(frame({ v: V, t: 'hello', relay: this.id, maxFrame: this.limits.maxFrameBytes, nonce: this.nonceOf(conn) }));
      return;
    }
    const token = conn.takeToken(data.length); // 'abuse' closes the connection
    if (token !== 'ok') {
      // Frames that expect an answer get a nack; sub/unsub/ping are dropped.
      if (token === 'refused' && (header.t === 'pub' || header.t === 'join' || header.t === 'welcome'))
        this.nack(conn, header.id, 'E_RATE_LIMITED');
      return;
    }
    this.handle(conn, header, body);
  }

  private handle(conn: Connection, header: ClientHeader, body: Uint8Array): void {
    switch (header.t) {
      case 'hello':
        return conn.fail('E_HEADER_INVALID', CLOSE.policyViolation, true); // only once
      case 'sub':
        return this.subscribe(conn, header);
      case 'unsub':
        return this.unsubscribe(conn, header.room);
      case 'pub':
        // Every other kind goes to `publish`, as on the fast path (fastPub.ts), which takes them all.
        if (header.kind === 'commit') return this.commit(conn, header, body);
        return this.publish(conn, header.room, header.id, header.kind, header.epoch, header.exp, body);
      case 'join':
        return this.join(conn, header.room, header.id, body);
      case 'welcome':
        return this.welcome(conn, header, body);
      case 'rt':
        if (!this.roughtime) return this.nack(conn, header.id, 'E_ROUGHTIME_UNREACHABLE');
        return this.roughtime.forward(conn, header.id, header.server, body, (h, b) => void conn.send(frame(h, b)));
      case 'ping':
        conn.send(this.pongFrame);
        return;
      default:
        throw missingCaseError(header);
    }
  }

  private nack(conn: Connection, id: string, code: ErrorCode, epoch?: number): void {
    conn.send(frame(epoch === undefined ? { v: V, t: 'nack', id, code } : { v: V, t: 'nack', id, code, epoch }));
  }

  private ack(conn: Connection, id: string): void {
    conn.send(ackFrame(id));
  }

  /**
   * `sub {room, epoch, key, sig, fork?}` (docs/protocol.md "Membership authority"). The proof is
   * checked against the key the relay holds for that epoch, never against the claim alone.
   * - A cohort whose log holds that epoch under that key: the member missed commits. It is sent
   *   them, then `nack E_STALE_EPOCH` (it subscribes again once it has processed them); one
   *   already subscribed and working through them has its grace renewed. Where several lines
   *   of the room hold it (after a fork), the one most members follow.
   * - Else the cohort whose current epoch and key these are: subscribed.
   * - `fork` (the id of the commit that followed this epoch, which the member refused): the
   *   cohort of those who refused the same commit, or a new one; only with a key and commit the
   *   relay logged, so only members of that epoch can open it.
   * - Else a claim the relay cannot check (a fresh relay, a rival): a cohort of its own, so it
   *   can never push members out of theirs.
   */
  private subscribe(conn: Connection, h: Extract<ClientHeader, { t: 'sub' }>): void {
    const now = Date.now();
    const current = conn.cohortOf(h.room);
    if (!current && conn.roomCount >= this.limits.maxRoomsPerConnection) return this.nack(conn, h.room, 'E_ROOM_LIMIT');
    if (!this.following(conn, h.room, () => this.subscribe(conn, h), () => this.nack(conn, h.room, 'E_UNAVAILABLE'))) return;
    const room = this.rooms.get(h.room);
    // A newcomer's first proof: only the room's line may take it (a rival's group is refused).
    const line = h.first === true ? lineOf(room) : undefined;
    const cohorts = line ?? room?.cohorts ?? [];
    const most = (cs: Cohort[]): Cohort | undefined => cs.reduce<Cohort | undefined>((a, c) => (!a || c.members > a.members ? c : a), undefined);
    const isCurrent = (c: Cohort) => c.epoch === h.epoch && c.key.text === h.key;
    const key = cohorts.find(isCurrent)?.key ?? epochKey(h.key);
    if (!key || !verifySub(key, this.nonceOf(conn), h.room, h.epoch, h.sig)) return this.nack(conn, h.room, 'E_NOT_MEMBER');
    if (h.fork !== undefined) {
      const refusing = cohorts.filter((c) => c.refused === h.fork);
      const here = refusing.find(isCurrent);
      if (here) return this.enter(conn, here, current, h.epoch, now);
      const ahead = most(refusing.filter((c) => c.logged(h.epoch, h.key) >= 0));
      if (ahead) return this.catchUp(conn, ahead, h, current, now);
      // A new fork: only where the relay logged this very commit after this epoch and key.
      if (cohorts.some((c) => c.loggedCommit(h.epoch, h.key) === h.fork)) return this.open(conn, room!, h, key, current, h.fork);
    }
    const behind = most(cohorts.filter((c) => c.logged(h.epoch, h.key) >= 0));
    if (behind) return this.catchUp(conn, behind, h, current, now);
    const same = most(cohorts.filter(isCurrent));
    if (same) return this.enter(conn, same, current, h.epoch, now);
    if (line !== undefined) return this.nack(conn, h.room, 'E_NOT_MEMBER');
    this.open(conn, room ?? this.newRoom(h.room), h, key, current, undefined);
  }

  /** Sends the commits `conn` missed (from `cohort`'s log), then `nack E_STALE_EPOCH`. */
  private catchUp(conn: Connection, cohort: Cohort, h: Extract<ClientHeader, { t: 'sub' }>, current: Cohort | undefined, now: number): void {
    if (current === cohort) return cohort.proved(conn, h.epoch, now, this.limits.reproveGraceMs);
    for (const f of cohort.logFrom(cohort.logged(h.epoch, h.key))) conn.send(f);
    // What the room says while it works through them is kept for it, until it proves the
    // current epoch (a joiner whose Welcome the room already left would otherwise miss it).
    cohort.startCatching(conn, now, now + this.limits.reproveGraceMs);
    this.nack(conn, h.room, 'E_STALE_EPOCH', cohort.epoch);
  }

  /**
   * A new cohort at the proof's (epoch, key) (a claim, or a fork refusing commit `refused`),
   * `conn` its first subscriber. In a cluster, relays that open the same one at once get one.
   */
  private open(conn: Connection, room: Room, h: Extract<ClientHeader, { t: 'sub' }>, key: EpochKey, current: Cohort | undefined, refused: string | undefined): void {
    const prunable = room.cohorts.filter((c) => c.members === 0);
    const opened = this.engine.open(room, h.epoch, key.text, refused, prunable, this.limits.maxCohortsPerRoom);
    const then = (cid: number | ErrorCode): void => {
      const cohort = typeof cid === 'number' ? room.cohort(cid) : undefined;
      if (!cohort) return this.nack(conn, room.id, typeof cid === 'number' ? 'E_UNAVAILABLE' : cid);
      if (conn.cohortOf(room.id) !== current) return; // it left or moved meanwhile
      this.enter(conn, cohort, current, h.epoch, Date.now());
    };
    if (!(opened instanceof Promise)) return then(opened);
    room.asked += 1; // the room stays followed meanwhile (dropIfEmpty)
    // Counted down whatever becomes of the connection meanwhile (else the room would stay
    // followed); a room left idle so is let go by the sweep.
    void opened.finally(() => (room.asked -= 1)).catch(() => undefined);
    this.hold(conn, opened, then, () => this.nack(conn, room.id, 'E_UNAVAILABLE'));
  }

  /** `conn` proved `cohort`'s current epoch: it is a subscriber of that cohort (and of no other of the room). */
  private enter(conn: Connection, cohort: Cohort, current: Cohort | undefined, epoch: number, now: number): void {
    if (current === cohort) return cohort.proved(conn, epoch, now, this.limits.reproveGraceMs);
    if (current) this.exit(conn, current, now);
    cohort.subscribers.add(conn);
    cohort.counted(now);
    conn.addRoom(cohort);
    // A joiner that subscribes was admitted: its join requests for the room are answered.
    for (const pending of conn.pendingJoins()) if (pending.room === cohort.room) this.removePendingJoin(pending, false);
    for (const pending of cohort.room.pendingJoins()) if (pending.owner !== conn) conn.send(pending.frame);
    for (const proposal of cohort.pendingProposals()) conn.send(proposal);
    for (const f of cohort.caughtUp(conn, now)) conn.send(f);
    this.broadcastPresence(cohort, true);
  }

  private exit(conn: Connection, cohort: Cohort, now: number): void {
    if (!cohort.remove(conn, now)) return;
    conn.deleteRoom(cohort);
    this.broadcastPresence(cohort, true);
  }

  private newRoom(id: string): Room {
    const room = new Room(id);
    room.ready = !this.engine.clustered;
    this.rooms.set(id, room);
    return room;
  }

  /**
   * Whether room `roomId`'s shared state is here (always, for one relay alone). If not, it is
   * loaded (a cluster: engine.ts), `conn`'s frames wait, and `retry` runs once it is here.
   */
  private following(conn: Connection, roomId: string, retry: () => void, refuse: () => void): boolean {
    if (!this.engine.clustered) return true;
    const room = this.rooms.get(roomId) ?? this.newRoom(roomId);
    if (room.ready) return true;
    const loading = (room.loading ??= (this.engine.follow(room) ?? Promise.resolve()).then(
      () => {
        room.loading = undefined;
        room.ready = true;
      },
      (err: unknown) => {
        room.loading = undefined;
        if (this.rooms.get(roomId) === room) this.rooms.delete(roomId);
        throw err;
      },
    ));
    this.hold(conn, loading, retry, refuse);
    return false;
  }

  /**
   * Holds `conn`'s frames until `p` settles, then runs `then` with its value (or `refuse`), then
   * the frames that waited, in order.
   */
  private hold<T>(conn: Connection, p: Promise<T>, then: (value: T) => void, refuse: () => void): void {
    const queued = (conn.held ??= []);
    conn.heldBytes = 0;
    p.then(
      (value) => ({ ok: true as const, value }),
      () => ({ ok: false as const }),
    ).then((r) => {
      conn.held = undefined;
      if (conn.state !== 'open') return;
      if (r.ok) then(r.value);
      else refuse();
      for (let i = 0; i < queued.length; i++) {
        // What ran may hold the connection again: the rest waits behind it.
        if (conn.held !== undefined) {
          (conn.held as Buffer[]).push(...queued.slice(i));
          return;
        }
        this.onMessage(conn, queued[i] as Buffer);
      }
    }, (err: unknown) => {
      this.logger.warn('internal-error', { code: 'E_INTERNAL' });
      conn.fail('E_INTERNAL', CLOSE.tryAgainLater, true);
      void err;
    });
  }

  private unsubscribe(conn: Connection, roomId: string): void {
    const cohort = conn.cohortOf(roomId);
    if (!cohort) return;
    this.exit(conn, cohort, Date.now());
    this.dropIfEmpty(cohort.room);
  }

  private publish(
    conn: Connection,
    roomId: string,
    id: string,
    kind: PubKind,
    epoch: number,
    exp: number | undefined,
    body: Uint8Array,
  ): void {
    // `exp` is an unauthenticated hint: drop expired ciphertext; clients never rely on it.
    if (exp !== undefined && exp <= Date.now()) return this.nack(conn, id, 'E_EXPIRED');
    const refused = this.policy?.(conn, 'pub', roomId, kind);
    if (refused) return this.nack(conn, id, refused);
    const cohort = conn.cohortOf(roomId);
    if (!cohort) return this.nack(conn, id, 'E_NOT_SUBSCRIBED');
    // A commit takes `commit` (it must prove the epoch); fastPub never returns one.
    if (kind === 'commit') return this.nack(conn, id, 'E_NOT_MEMBER');
    // A cluster's bus that has too much on its way: refused before anyone got it (sent again by its client).
    if (this.engine.accepts?.(body.length) === false) return this.nack(conn, id, 'E_UNAVAILABLE');
    this.fanOut(cohort, id, kind, epoch, exp, body, conn);
    const spread = this.engine.spread;
    // Alone, acked now; in a cluster, once the bus has it (the engine then calls `acked`).
    if (spread) spread(cohort.room, { cid: cohort.cid, id, kind, epoch, exp, body }, conn);
    else this.ack(conn, id);
  }

  /** Frames a `pub` once for this relay's subscribers of `cohort` (but `except`, its sender) and keeps what must be kept. */
  private fanOut(cohort: Cohort, id: string, kind: PubKind, epoch: number, exp: number | undefined, body: Uint8Array, except: Connection | undefined): void {
    // Framed once, body copied once: every other subscriber is handed the very same bytes.
    const out = msgFrame(cohort.id, id, kind, epoch, cohort.nextSeq(), exp, body);
    for (const sub of cohort.subscribers) if (sub !== except) sub.send(out);
    if (cohort.catching) cohort.keepForCatching(out, Date.now(), MAX_KEPT_FOR_CATCHING);
    if (kind === 'proposal') cohort.keepProposal(out, epoch, MAX_KEPT_PROPOSALS);
  }

  /**
   * RFC 9420 §14, the delivery service's one duty: per room, the first commit for the current
   * epoch wins. It must come from a subscriber, be for exactly the epoch the relay holds, and be
   * signed by that epoch's relay key; it names the next epoch's key, which the relay then holds.
   * The engine decides (in a cluster, one atomic script for all relays) and the commit is fanned
   * out when it is applied, on every relay in the same order, this one included.
   */
  private commit(conn: Connection, h: Extract<ClientHeader, { t: 'pub' }>, body: Uint8Array): void {
    const refused = this.policy?.(conn, 'pub', h.room, h.kind);
    if (refused) return this.nack(conn, h.id, refused);
    const cohort = conn.cohortOf(h.room);
    if (!cohort) return this.nack(conn, h.id, 'E_NOT_SUBSCRIBED');
    const decision = cohort.decideCommit(h.id, h.epoch);
    if (decision.kind === 'duplicate') return this.ack(conn, h.id);
    if (decision.kind === 'stale') return this.nack(conn, h.id, 'E_STALE_EPOCH', decision.epoch);
    const next = h.next === undefined ? undefined : epochKey(h.next);
    if (!next || h.sig === undefined || !verifyCommit(cohort.key, h.room, h.epoch, body, next.text, h.sig))
      return this.nack(conn, h.id, 'E_NOT_MEMBER');
    if (this.committing.has(h.id)) return; // the same commit again while it is being ordered: one answer
    this.committing.set(h.id, conn);
    const ev: CommitEvent = { id: h.id, epoch: h.epoch, next: next.text, body, relay: this.id, serial: conn.serial };
    const outcome = this.engine.commit(cohort.room, cohort, ev);
    const settle = (o: CommitOutcome): void => {
      this.committing.delete(h.id);
      if (o.kind === 'accept' || o.kind === 'duplicate') this.ack(conn, h.id);
      else if (o.kind === 'stale') this.nack(conn, h.id, 'E_STALE_EPOCH', o.epoch);
      else this.nack(conn, h.id, 'E_UNAVAILABLE');
    };
    if (outcome instanceof Promise) outcome.then(settle, () => settle({ kind: 'unavailable' }));
    else settle(outcome);
  }

  /**
   * Subscribers that did not prove the epoch a commit opened within the grace are unsubscribed
   * and told (`nack E_STALE_EPOCH` named by the room): a removed member stops receiving; an
   * honest member that fell behind catches up from the log when it subscribes again.
   */
  private sweep(): void {
    const now = Date.now();
    for (const room of [...this.rooms.values()]) {
      for (const cohort of [...room.cohorts])
        for (const conn of cohort.overdue(now)) {
          this.exit(conn, cohort, now);
          this.nack(conn, room.id, 'E_STALE_EPOCH', cohort.epoch);
        }
      this.dropIfEmpty(room);
    }
  }

  private join(conn: Connection, roomId: string, id: string, body: Uint8Array): void {
    const refused = this.policy?.(conn, 'join', roomId);
    if (refused) return this.nack(conn, id, refused);
    if (!this.following(conn, roomId, () => this.join(conn, roomId, id, body), () => this.nack(conn, id, 'E_UNAVAILABLE'))) return;
    const existing = this.rooms.get(roomId)?.pendingJoin(id);
    // A request is its joiner's: one under the same id from another client (a link holder who
    // read the id as a member of a rival cohort) would take the Welcome with it.
    if (existing && existing.session !== conn.session) return this.nack(conn, id, 'E_FORBIDDEN');
    if (existing?.owner !== conn && conn.joinCount >= this.limits.maxPendingJoinsPerConnection)
      return this.nack(conn, id, 'E_RATE_LIMITED');
    if (existing?.owner) this.removePendingJoin(existing, false);
    const room = this.rooms.get(roomId) ?? this.newRoom(roomId);
    this.joining.set(joinKey(roomId, id), conn);
    const done = (refused: ErrorCode | undefined): void => {
      if (this.joining.get(joinKey(roomId, id)) === conn) this.joining.delete(joinKey(roomId, id));
      if (refused) this.nack(conn, id, refused);
      else this.ack(conn, id);
    };
    const joined = this.engine.join(room, { id, relay: this.id, serial: conn.serial, session: conn.session, body });
    if (!(joined instanceof Promise)) return done(joined);
    room.asked += 1; // the room stays followed meanwhile (dropIfEmpty)
    const settled = (refused: ErrorCode | undefined): void => {
      room.asked -= 1;
      done(refused);
      this.dropIfEmpty(room);
    };
    joined.then(settled, () => settled('E_UNAVAILABLE'));
  }

  private welcome(conn: Connection, header: Extract<ClientHeader, { t: 'welcome' }>, body: Uint8Array): void {
    const refused = this.policy?.(conn, 'welcome', header.room);
    if (refused) return this.nack(conn, header.id, refused);
    // Only a subscriber (one that proved membership) may answer a join request, Welcome or refusal.
    const cohort = conn.cohortOf(header.room);
    if (!cohort) return this.nack(conn, header.id, 'E_NOT_SUBSCRIBED');
    const room = cohort.room;
    const pending = room.pendingJoin(header.to);
    if (!pending) return this.nack(conn, header.id, 'E_NO_SUCH_JOINER');
    if (pending.owner) pending.owner.send(frame({ v: V, t: 'welcome', room: room.id, id: header.id }, body));
    else this.engine.welcome(pending.relay, room.id, header.to, header.id, body);
    // The request stays until its owner subscribes (it was admitted), leaves, or it expires: a
    // first answer may be a forgery from a rival cohort, and the genuine Welcome must still pass.
    this.ack(conn, header.id);
  }

  // ---- leaving -----------------------------------------------------------------------------

  /**
   * A room's subscribers changed: its members hear the new count once, at the end of the turn,
   * however many joined or left in it (a room of N filling up in one burst costs N frames, not
   * N²/2). A rise hidden by a leave in the same turn (or a leave hidden by a join) is still
   * told, the low and the high before the final count: clients act on a count that grew (a
   * joiner subscribed, a member is back). `here`: this relay's own subscribers changed (the
   * other relays of a cluster are told too).
   */
  private broadcastPresence(room: Cohort, here: boolean): void {
    // On shutdown every client gets `closing`, not a countdown of presence frames.
    if (this.closing) return;
    if (here) room.room.countsDirty = true;
    if (this.presenceDue.size === 0) this.scheduler.markEarly(this.presenceSender);
    room.notePresence(!this.presenceDue.has(room));
    this.presenceDue.add(room);
    // Rival cohorts (rare) hear the change too: their `others` count moved.
    const siblings = room.room.cohorts;
    if (siblings.length > 1)
      for (const c of siblings)
        if (c !== room && c.members > 0 && !this.presenceDue.has(c)) {
          c.notePresence(true);
          this.presenceDue.add(c);
        }
  }

  private sendPresence(): void {
    const rooms = [...this.presenceDue];
    this.presenceDue.clear();
    if (this.closing) return;
    for (const room of rooms) {
      if (room.room.countsDirty) {
        room.room.countsDirty = false;
        this.engine.counts(room.room);
      }
      const others = room.room.memberCount - room.members;
      for (const count of room.presenceToTell()) {
        const out = frame(others > 0 ? { v: V, t: 'presence', room: room.id, count, others } : { v: V, t: 'presence', room: room.id, count });
        for (const sub of room.subscribers) sub.send(out);
      }
    }
  }

  private removePendingJoin(pending: PendingJoin, dropRoom: boolean): void {
    clearTimeout(pending.timer);
    pending.owner?.deleteJoin(pending);
    if (pending.owner && pending.room.pendingJoin(pending.id) === pending) this.engine.unjoin(pending.room, pending.id);
    if (dropRoom) this.dropIfEmpty(pending.room);
  }

  /**
   * Drops the room's cohorts that have no members and no log worth keeping, then forgets the
   * room if nothing needs it any more. Alone: no cohort left and no join request. In a cluster:
   * nothing of this relay's is in it (its shared state stays with the others).
   */
  private dropIfEmpty(room: Room): void {
    if (!room.ready || this.rooms.get(room.id) !== room) return;
    const now = Date.now();
    const gone = room.cohorts.filter((c) => c.members === 0 && !c.dropping && !c.keepsLog(now, this.limits.emptyRoomKeepMs));
    if (gone.length > 0) this.engine.drop(room, gone);
    if (!this.engine.clustered) {
      if (!room.isEmpty()) return;
      room.wipe();
      this.rooms.delete(room.id);
      return;
    }
    // A member that unsubscribes and subscribes again at once (to catch up from the log) must
    // find the room still followed, as one relay alone would still have it: it is let go only
    // after it stayed idle for a moment.
    if (!room.idleHere() || room.lingering) return;
    room.lingering = setTimeout(() => {
      room.lingering = undefined;
      if (!room.idleHere() || this.rooms.get(room.id) !== room) return;
      this.engine.unfollow(room);
      room.wipe();
      this.rooms.delete(room.id);
    }, LINGER_MS);
    room.lingering.unref();
  }

  /** The socket is gone: it no longer counts against the caps. */
  private closed(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(conn.ip, n);
    else this.perIp.delete(conn.ip);
  }

  /** The connection is going: out of every room, its join requests dropped, presence updated. */
  private leave(conn: Connection): void {
    conn.held = undefined;
    const cohorts = conn.roomList();
    const touched = new Set(cohorts.map((c) => c.room));
    for (const pending of conn.pendingJoins()) {
      touched.add(pending.room);
      this.removePendingJoin(pending, false);
    }
    const now = Date.now();
    for (const cohort of cohorts) {
      cohort.remove(conn, now);
      this.broadcastPresence(cohort, true);
    }
    conn.clearRooms();
    for (const room of touched) this.dropIfEmpty(room);
  }

  // ---- the engine's changes (engine/engine.ts), in the order it gives them ------------------

  applyOpen(room: Room, cid: number, epoch: number, key: string, refused: string | undefined): void {
    const k = epochKey(key);
    if (!k || room.cohort(cid)) return;
    const cohort = new Cohort(room, cid, epoch, k);
    cohort.refused = refused;
    room.cohorts.push(cohort);
    if (cid >= room.nextCid) room.nextCid = cid + 1;
  }

  applyCommit(room: Room, cid: number, ev: CommitEvent): void {
    const cohort = room.cohort(cid);
    const next = epochKey(ev.next);
    if (!cohort || !next) return;
    const out = frame({ v: V, t: 'msg', room: room.id, id: ev.id, kind: 'commit', epoch: ev.epoch, seq: cohort.nextSeq(), next: ev.next }, ev.body);
    const now = Date.now();
    const { limits } = this;
    cohort.accept(ev.id, next, out, limits.recentCommitsPerRoom, { entries: limits.commitLogEntries, bytes: limits.commitLogBytes }, now, limits.reproveGraceMs);
    const sender = ev.relay === this.id ? this.committing.get(ev.id) : undefined;
    for (const sub of cohort.subscribers) if (sub !== sender) sub.send(out);
    if (cohort.catching) cohort.keepForCatching(out, now, MAX_KEPT_FOR_CATCHING);
  }

  applyPubs(room: Room, records: readonly PubRecord[]): void {
    for (const r of records) {
      const cohort = room.cohort(r.cid);
      if (cohort) this.fanOut(cohort, r.id, r.kind, r.epoch, r.exp, r.body, undefined);
    }
  }

  applyJoin(room: Room, ev: JoinEvent): void {
    const mine = ev.relay === this.id;
    const owner = mine ? this.joining.get(joinKey(room.id, ev.id)) : undefined;
    if (mine && !owner) return; // its connection went meanwhile (its `unjoin` follows)
    const old = room.pendingJoin(ev.id);
    if (old && old.session !== ev.session) return; // never another client's request (the engine refused it)
    if (old) {
      clearTimeout(old.timer);
      old.owner?.deleteJoin(old);
      room.deletePendingJoin(old);
    }
    let timer: NodeJS.Timeout | undefined;
    if (owner) {
      timer = setTimeout(() => this.removePendingJoin(pending, true), this.limits.pendingJoinTtlMs);
      timer.unref();
    }
    const pending: PendingJoin = { id: ev.id, room, owner, relay: ev.relay, session: ev.session, frame: frame({ v: V, t: 'join', room: room.id, id: ev.id }, ev.body), timer };
    room.addPendingJoin(pending);
    owner?.addJoin(pending);
    for (const cohort of room.cohorts) for (const sub of cohort.subscribers) if (sub !== owner) sub.send(pending.frame);
  }

  applyUnjoin(room: Room, id: string, relay: string): void {
    const pending = room.pendingJoin(id);
    if (!pending || pending.relay !== relay) return;
    clearTimeout(pending.timer);
    pending.owner?.deleteJoin(pending);
    room.deletePendingJoin(pending);
    this.dropIfEmpty(room);
  }

  applyDrop(room: Room, cid: number): void {
    const cohort = room.cohort(cid);
    if (!cohort) return;
    const now = Date.now();
    // A cluster dropped a cohort it counted empty while someone here entered it: they prove again.
    for (const conn of [...cohort.subscribers]) {
      this.exit(conn, cohort, now);
      this.nack(conn, room.id, 'E_STALE_EPOCH', cohort.epoch);
    }
    cohort.wipe();
    room.cohorts.splice(room.cohorts.indexOf(cohort), 1);
  }

  applyCounts(room: Room, relay: string, counts: Map<number, number>): void {
    const all = (room.remoteCounts ??= new Map<string, Map<number, number>>());
    const before = all.get(relay);
    if (counts.size === 0) all.delete(relay);
    else all.set(relay, counts);
    const now = Date.now();
    for (const cohort of room.cohorts) {
      const was = before?.get(cohort.cid) ?? 0;
      const is = counts.get(cohort.cid) ?? 0;
      if (was === is) continue;
      cohort.remote += is - was;
      cohort.counted(now);
      this.broadcastPresence(cohort, false);
    }
  }

  /** Loads a room's shared state (a cluster's relay starting to serve it). */
  restoreRoom(room: Room, snap: RoomSnapshot): void {
    const { limits } = this;
    for (const c of snap.cohorts) {
      this.applyOpen(room, c.cid, c.epoch, c.key, c.refused);
      room.cohort(c.cid)?.restore(c.log, c.recent, c.proposals, { entries: limits.commitLogEntries, bytes: limits.commitLogBytes }, Date.now());
    }
    for (const j of snap.joins) this.applyJoin(room, j);
    for (const [relay, counts] of snap.counts) this.applyCounts(room, relay, counts);
  }

  applyWelcome(roomId: string, to: string, id: string, body: Uint8Array): void {
    const owner = this.rooms.get(roomId)?.pendingJoin(to)?.owner;
    owner?.send(frame({ v: V, t: 'welcome', room: roomId, id }, body));
  }

  acked(acks: readonly (Connection | string)[]): void {
    for (let i = 0; i + 1 < acks.length; i += 2) this.ack(acks[i] as Connection, acks[i + 1] as string);
  }

  /**
   * The bus is gone (a cluster's relay): this relay's copy of every room may miss changes, so it
   * serves no one until the bus is back. Every client is told `closing` and disconnected (with
   * a link that names other relays, it goes to one of them at once); commits in flight are
   * refused with `E_UNAVAILABLE`, which clients retry.
   */
  busLost(): void {
    if (this.busDown || this.closing) return;
    this.busDown = true;
    this.logger.warn('bus-lost', { connections: this.connections.size });
    for (const room of this.rooms.values()) room.wipe();
    this.rooms.clear();
    // What was being ordered is refused first (`E_UNAVAILABLE`: the engine's promises settle in
    // this turn), then every client is told `closing`.
    setImmediate(() => {
      this.scheduler.flushNow();
      for (const conn of [...this.connections]) void conn.shutdown(this.closingFrame);
    });
  }

  busBack(id: string): void {
    // Clients that come back hear a new relay: they resend what the lost bus may not have carried.
    this.id = id;
    this.busDown = false;
    this.logger.info('bus-back');
  }
}

function joinKey(room: string, id: string): string {
  return `${room} ${id}`;
}

/**
 * The room's line, for a newcomer's first proof (`sub first`, docs/protocol.md "Membership
 * authority"): the cohorts most members follow. A rival group someone made around the
 * newcomer's KeyPackage (a link holder's, an ex-member's fork from the log, a claim made first
 * after a restart) has its maker alone in it, and the members who admit newcomers are in the
 * line. Undefined where no cohort has a member (a fresh room: the proof opens it).
 */
function lineOf(room: Room | undefined): Cohort[] | undefined {
  const most = Math.max(0, ...(room?.cohorts ?? []).map((c) => c.members));
  return most === 0 ? undefined : room!.cohorts.filter((c) => c.members === most);
}
