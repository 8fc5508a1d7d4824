/**
 * The Redis engine (engine.ts): several relays serve the same rooms, sharing them through one
 * Redis (or Valkey). A relay follows a room while it serves someone in it: it subscribes to the
 * room's channel, loads the room's shared state (one script), then applies every change the
 * channel carries, in order — its own included: a commit is fanned out by every relay, the one
 * that asked too, when the bus delivers it.
 *
 * - Frames (`pub`): the relay fans them out to its own subscribers at once, and carries them to
 *   the others in one bus message per room per event-loop turn; they are acked once Redis has
 *   them (so a frame acked is a frame every relay was given; one not acked is resent by its client).
 * - Commits, cohorts, join requests: one atomic script each (redis-scripts.ts) decides, records
 *   and publishes, and the relay answers once it has applied the change.
 * - Presence: each relay's subscriber counts per room ride in its batches and are kept in Redis;
 *   a relay's heartbeat (every `heartbeatMs`) keeps them counted; a relay silent for
 *   `deadAfterMs` no longer counts (its members, join requests), wherever they were seen.
 * - Welcomes go to the joiner's relay on that relay's own channel.
 * - Losing the bus (a connection error, a missed heartbeat, a gap in a room's sequence): the
 *   relay disconnects its clients (relay.ts `busLost`) and reconnects to Redis; a Redis that
 *   restarted has lost every room, which clients rebuild as after a relay restart.
 */
import { readFileSync } from 'node:fs';
import { createClient, RESP_TYPES } from '@redis/client';
import { randomId, TransportError, UsageError } from '@safehouse/core/protocol';
import type { Cohort, LogEntry, Room } from '../room.js';
import type { Connection } from '../connection.js';
import { msgFrame, wireFrameOf, type WireFrame } from '../wireFrame.js';
import type { CommitEvent, CommitOutcome, Engine, EngineHost, JoinEvent, PubRecord, RoomSnapshot } from './engine.js';
import {
  Reader,
  TYPE,
  encodeBatch,
  encodeCommit,
  encodeDrop,
  encodeJoin,
  encodeOpen,
  encodeRecord,
  encodeUnjoin,
  encodeWelcome,
  parseCounts,
  readCommit,
  readJoin,
  readRecord,
  readWelcome,
} from './bus-codec.js';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';

export type RedisEngineOptions = {
  /** `redis://[:password@]host:port`, `rediss://...` (TLS), or `unix:///path/to/socket`. */
  url: string;
  /** The password, if not in the URL (`--cluster-password-file`). */
  password?: string;
  /** PEM file of the CA that signed Redis's TLS certificate (`rediss://`); default: the system's. */
  caFile?: string;
  heartbeatMs?: number;
  /** A relay (this one included) not heard for this long is gone. Default 4 heartbeats. */
  deadAfterMs?: number;
  /** How long a room's shared state outlives the last relay serving it. */
  roomTtlMs: number;
  /** Bounds the scripts apply, from the relay's limits. */
  recentCommits: number;
  logEntries: number;
  logBytes: number;
  maxProposals: number;
  /** How often a lost bus is tried again. */
  retryMs?: number;
};

/** The little of a Redis client the engine uses (one for commands, one subscribed). */
type Client = {
  connect(): Promise<unknown>;
  sendCommand(args: ReadonlyArray<string | Buffer>): Promise<unknown>;
  subscribe(channel: string, listener: (msg: Buffer) => void, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: (msg: Buffer) => void, bufferMode: true): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): Promise<void>;
  destroy(): void;
};
type Reply = null | number | Buffer | Reply[];

/** A room this relay follows: the changes applied so far, and what waits for later ones. */
type Followed = {
  readonly room: Room;
  /** The last change applied (its u32 sequence number). */
  seq: number;
  /** Changes that came before the room's state was loaded; undefined once loaded. */
  early: Buffer[] | undefined;
  waiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[];
  readonly listener: (msg: Buffer) => void;
};

/** What one relay carries for one room in one turn. */
type Batch = { records: PubRecord[]; acks: (Connection | string)[]; counts: string | undefined; proposals: (string | Buffer)[]; bytes: number };

/**
 * A room's bus message is cut at this size (a turn's burst of large frames would otherwise make
 * one message larger than Redis lets a subscriber fall behind: it would disconnect every relay).
 */
const BATCH_BYTES = 1024 * 1024;
/**
 * Frame bytes one relay may have on their way to Redis; past it, frames are refused with
 * `E_UNAVAILABLE` (clients send them again) rather than queued without end.
 */
const BUS_BUDGET_BYTES = 8 * 1024 * 1024;

const HEARTBEAT_CHANNEL = 'sh:hb';
const keys = (room: string) => ({ m: `sh:{${room}}:m`, j: `sh:{${room}}:j`, n: `sh:{${room}}:n` });
const roomChannel = (room: string) => `sh:r:${room}`;
const welcomeChannel = (relay: string) => `sh:w:${relay}`;
const RELAYS = 'sh:relays';

export class RedisEngine implements Engine {
  readonly clustered = true;
  private host!: EngineHost;
  private cmd: Client | undefined;
  private sub: Client | undefined;
  private shas = new Map<ScriptName, string>();
  private readonly followed = new Map<string, Followed>();
  private batches = new Map<Room, Batch>();
  private flushScheduled = false;
  /** Frame bytes batched and not yet sent, and sent and not yet answered (`accepts`). */
  private queued = 0;
  private inflight = 0;
  /** When each relay was last heard. */
  private readonly seen = new Map<string, number>();
  /** When the oldest of our heartbeats not yet heard back was sent. */
  private unheard: number | undefined;
  private timers: NodeJS.Timeout[] = [];
  private up = false;
  private closed = false;
  private readonly o: Required<Omit<RedisEngineOptions, 'password' | 'caFile'>> & Pick<RedisEngineOptions, 'password' | 'caFile'>;

  constructor(options: RedisEngineOptions) {
    const heartbeatMs = options.heartbeatMs ?? 1_000;
    this.o = { heartbeatMs, deadAfterMs: 4 * heartbeatMs, retryMs: 1_000, ...options };
  }

  /** Whether a frame of `bytes` may go on the bus now (the relay refuses it before fanning it out if not). */
  readonly accepts = (bytes: number): boolean => this.inflight + this.queued + bytes <= BUS_BUDGET_BYTES;

  readonly spread = (room: Room, rec: PubRecord, conn: Connection): void => {
    let b = this.batch(room);
    if (b.records.length > 0 && b.bytes + rec.body.length > BATCH_BYTES) {
      this.flushRoom(room);
      b = this.batch(room);
    }
    b.bytes += rec.body.length;
    this.queued += rec.body.length;
    b.records.push(rec);
    b.acks.push(conn, rec.id);
    if (rec.kind === 'proposal') b.proposals.push(String(rec.cid), String(rec.epoch), encodeRecord(rec));
  };

  async start(host: EngineHost): Promise<void> {
    this.host = host;
    try {
      await this.connect(host.id);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new TransportError('E_CONNECT', `cannot reach the cluster's Redis (${describe(this.o.url)}): ${(err as Error).message}`, { cause: err });
    }
    const { heartbeatMs, roomTtlMs } = this.o;
    this.timers.push(setInterval(() => setImmediate(() => void this.heartbeat()), heartbeatMs));
    this.timers.push(setInterval(() => this.touchRooms(), Math.max(1_000, Math.floor(roomTtlMs / 3))));
    for (const t of this.timers) t.unref();
  }

  private client(): Client {
    const { url, password, caFile } = this.o;
    const unix = /^unix:\/\/(\/.*)$/.exec(url);
    const tls = url.startsWith('rediss://');
    const socket = unix
      ? { path: unix[1] as string, reconnectStrategy: false as const }
      : { reconnectStrategy: false as const, connectTimeout: 5_000, ...(tls ? { tls: true as const, ...(caFile ? { ca: readFileSync(caFile) } : {}) } : {}) };
    return createClient({
      ...(unix ? {} : { url }),
      ...(password !== undefined ? { password } : {}),
      socket,
      disableOfflineQueue: true,
      commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } },
    });
  }

  private async connect(relay: string): Promise<void> {
    const cmd = this.client();
    const sub = this.client();
    const fail = (): void => this.lost();
    cmd.on('error', fail);
    sub.on('error', fail);
    try {
      await cmd.connect();
      await sub.connect();
      for (const [name, lua] of Object.entries(SCRIPTS)) {
        const sha = (await cmd.sendCommand(['SCRIPT', 'LOAD', lua])) as Buffer;
        this.shas.set(name as ScriptName, sha.toString());
      }
    } catch (err) {
      cmd.destroy();
      sub.destroy();
      throw err;
    }
    await this.checkNoDisk(cmd).catch((err: unknown) => {
      cmd.destroy();
      sub.destroy();
      throw err;
    });
    this.cmd = cmd;
    this.sub = sub;
    this.up = true;
    await sub.subscribe(HEARTBEAT_CHANNEL, (msg: Buffer) => this.heard(msg.toString()), true);
    await sub.subscribe(welcomeChannel(relay), (msg: Buffer) => this.onWelcome(msg), true);
    this.seen.set(relay, Date.now());
    this.unheard = undefined;
    await this.script('HEARTBEAT', [RELAYS], [relay, HEARTBEAT_CHANNEL]);
  }

  /**
   * Refuses a Redis that writes to disk (a snapshot `save` rule, or the append-only file): the
   * rooms' shared state would outlive the relays on the disk of whoever seizes the machine.
   * Debian's packaged configuration snapshots by default. A Redis that does not let us read its
   * configuration (a managed one, CONFIG renamed) is taken as it is: the operator is warned by
   * docs/deploy.md, not here.
   */
  private async checkNoDisk(cmd: Client): Promise<void> {
    const get = async (key: string): Promise<string | undefined> => {
      const r = await cmd.sendCommand(['CONFIG', 'GET', key]).catch(() => undefined);
      const v: unknown = r && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>)[key] : Array.isArray(r) ? (r as unknown[])[1] : undefined;
      return v instanceof Buffer || typeof v === 'string' ? v.toString() : undefined;
    };
    const save = await get('save');
    const aof = await get('appendonly');
    if ((save !== undefined && save.trim() !== '') || aof === 'yes')
      throw new UsageError(
        'E_USAGE',
        `the cluster's Redis writes to disk (${aof === 'yes' ? 'appendonly yes' : `save "${save ?? ''}"`}): run it with --save "" --appendonly no (docs/deploy.md), or CONFIG SET save "" and appendonly no`,
      );
  }

  private script(name: ScriptName, keyList: string[], args: (string | Buffer)[]): Promise<Reply> {
    const cmd = this.cmd;
    if (!this.up || !cmd) return Promise.reject(new Error('bus down'));
    return cmd.sendCommand(['EVALSHA', this.shas.get(name) as string, String(keyList.length), ...keyList, ...args]) as Promise<Reply>;
  }

  /**
   * Every `heartbeatMs`, in the loop's check phase (after the poll phase has read what arrived,
   * so a loop that stalled does not take heartbeats waiting in its socket for missing ones).
   */
  private async heartbeat(): Promise<void> {
    if (!this.up) return;
    const now = Date.now();
    // Our own heartbeat comes back on the bus: one sent `deadAfterMs` ago and not heard means the bus is gone.
    if (this.unheard !== undefined && now - this.unheard > this.o.deadAfterMs) return this.lost();
    for (const [relay, at] of this.seen)
      if (relay !== this.host.id && now - at > this.o.deadAfterMs) {
        this.seen.delete(relay);
        this.relayGone(relay);
      }
    this.unheard ??= now;
    await this.script('HEARTBEAT', [RELAYS], [this.host.id, HEARTBEAT_CHANNEL]).catch(() => this.lost());
  }

  /** A heartbeat on the bus: ours (the bus works), or another relay's (a new one, or one back after we thought it gone: its counts are read again). */
  private heard(relay: string): void {
    if (relay === this.host.id) this.unheard = undefined;
    else if (!this.seen.has(relay)) this.recount(relay);
    this.seen.set(relay, Date.now());
  }

  /** Reads `relay`'s subscriber counts for every room followed here (it may have told them while we thought it gone). */
  private recount(relay: string): void {
    for (const f of this.followed.values()) {
      if (f.early) continue;
      this.cmd?.sendCommand(['HGET', keys(f.room.id).n, relay]).then(
        (v) => {
          if (v instanceof Buffer && this.followed.get(f.room.id) === f) this.host.applyCounts(f.room, relay, parseCounts(v.toString()));
        },
        () => this.lost(),
      );
    }
  }

  /** Another relay stopped: its members and join requests no longer count anywhere here. */
  private relayGone(relay: string): void {
    for (const f of this.followed.values()) {
      if (f.early) continue;
      this.host.applyCounts(f.room, relay, new Map());
      for (const p of [...f.room.pendingJoins()]) if (p.relay === relay) this.host.applyUnjoin(f.room, p.id, relay);
    }
  }

  private touchRooms(): void {
    for (const id of this.followed.keys()) {
      const k = keys(id);
      this.script('TOUCH', [k.m, k.j, k.n], [String(this.o.roomTtlMs)]).catch(() => this.lost());
    }
  }

  // ---- following rooms -----------------------------------------------------------------------

  follow(room: Room): Promise<void> {
    const sub = this.sub;
    if (!this.up || !sub) return Promise.reject(new Error('bus down'));
    const f: Followed = { room, seq: 0, early: [], waiters: [], listener: (msg) => this.onRoom(f, msg) };
    this.followed.set(room.id, f);
    return (async () => {
      await sub.subscribe(roomChannel(room.id), f.listener, true);
      const k = keys(room.id);
      const reply = await this.script('SNAPSHOT', [k.m, k.j, k.n, RELAYS], [String(this.o.deadAfterMs)]);
      if (this.followed.get(room.id) !== f) throw new Error('bus lost while loading');
      const { seq, snapshot } = this.decodeSnapshot(room.id, reply);
      f.seq = seq >>> 0;
      // Relays the snapshot counts are heard of now: one that does not heartbeat stops counting.
      for (const relay of [...snapshot.counts.keys(), ...snapshot.joins.map((j) => j.relay)]) if (!this.seen.has(relay)) this.seen.set(relay, Date.now());
      this.host.restoreRoom(room, snapshot);
      const early = f.early ?? [];
      f.early = undefined;
      for (const msg of early) this.onRoom(f, msg);
    })();
  }

  unfollow(room: Room): void {
    const f = this.followed.get(room.id);
    if (f?.room !== room) return;
    // Its last counts (none) go out first.
    this.counts(room);
    this.flushRoom(room);
    this.followed.delete(room.id);
    for (const w of f.waiters) w.reject(new Error('room no longer followed'));
    this.sub?.unsubscribe(roomChannel(room.id), f.listener, true).catch(() => this.lost());
  }

  /** A change to a followed room, in the bus's order. */
  private onRoom(f: Followed, msg: Buffer): void {
    if (f.early) {
      f.early.push(msg);
      return;
    }
    if (this.followed.get(f.room.id) !== f) return;
    const seq = msg.readUInt32BE(0);
    const step = (seq - f.seq) >>> 0;
    if (step === 0 || step > 0x80000000) return; // already in the state that was loaded
    if (step !== 1) return this.lost(); // a change was missed: this relay's copy cannot be trusted
    f.seq = seq;
    try {
      this.apply(f.room, msg.readUInt32BE(4), new Reader(msg, 8));
    } catch {
      return this.lost();
    }
    while (f.waiters.length > 0 && ((f.seq - (f.waiters[0] as { seq: number }).seq) >>> 0) < 0x80000000) f.waiters.shift()?.resolve();
  }

  private apply(room: Room, cid: number, r: Reader): void {
    const type = r.u8();
    switch (type) {
      case TYPE.batch: {
        const relay = r.str();
        const counts = r.str();
        const n = r.u32();
        if (relay === this.host.id) return; // ours: fanned out here already
        this.heard(relay);
        if (counts !== '-') this.host.applyCounts(room, relay, parseCounts(counts));
        const records: PubRecord[] = [];
        for (let i = 0; i < n; i++) records.push(readRecord(r));
        if (records.length > 0) this.host.applyPubs(room, records);
        return;
      }
      case TYPE.open:
        return this.host.applyOpen(room, cid, r.f64(), r.str(), r.str() || undefined);
      case TYPE.commit:
        return this.host.applyCommit(room, cid, readCommit(r));
      case TYPE.join:
        return this.host.applyJoin(room, readJoin(r));
      case TYPE.unjoin:
        return this.host.applyUnjoin(room, r.str(), r.str());
      case TYPE.drop:
        return this.host.applyDrop(room, cid);
      default:
        throw new RangeError('unknown bus event');
    }
  }

  /** Resolves once room `room`'s change number `seq` has been applied here. */
  private applied(room: Room, seq: number): Promise<void> {
    const f = this.followed.get(room.id);
    if (!f) return Promise.reject(new Error('room not followed'));
    const s = seq >>> 0;
    if (!f.early && ((f.seq - s) >>> 0) < 0x80000000) return Promise.resolve();
    return new Promise((resolve, reject) => f.waiters.push({ seq: s, resolve, reject }));
  }

  private decodeSnapshot(roomId: string, reply: Reply): { seq: number; snapshot: RoomSnapshot } {
    const [seq, cohorts, joins, counts] = reply as [number, Reply[][], Buffer[], Buffer[]];
    const snapshot: RoomSnapshot = { cohorts: [], joins: [], counts: new Map() };
    for (const c of cohorts) {
      const [cid, st, log, recent, proposals] = c as [number, Buffer, Buffer[], Buffer[], Buffer[]];
      const m = /^(\d+)\|([^|]*)\|(.*)$/.exec(st.toString());
      if (!m) continue;
      snapshot.cohorts.push({
        cid,
        epoch: Number(m[1]),
        key: m[2] as string,
        refused: m[3] || undefined,
        recent: recent.map((b) => b.toString()),
        log: this.decodeLog(roomId, log),
        proposals: proposals.map((p) => recordFrame(roomId, readRecord(new Reader(p)))),
      });
    }
    for (const j of joins) {
      const r = new Reader(j);
      if (r.u8() === TYPE.join) snapshot.joins.push(readJoin(r));
    }
    for (let i = 0; i + 1 < counts.length; i += 2) {
      const relay = (counts[i] as Buffer).toString();
      if (relay !== this.host.id) snapshot.counts.set(relay, parseCounts((counts[i + 1] as Buffer).toString()));
    }
    return { seq, snapshot };
  }

  /** The log as Redis keeps it ("P" proposals then "C" key|commit, per commit) → the relay's entries. */
  private decodeLog(roomId: string, items: Buffer[]): LogEntry[] {
    const out: LogEntry[] = [];
    let proposals: WireFrame[] = [];
    for (const item of items) {
      if (item[0] === 0x50 /* P */) {
        proposals.push(recordFrame(roomId, readRecord(new Reader(item, 1))));
        continue;
      }
      const bar = item.indexOf(0x7c /* | */, 1);
      if (item[0] !== 0x43 /* C */ || bar < 0) continue;
      const r = new Reader(item, bar + 1);
      if (r.u8() !== TYPE.commit) continue;
      const ev = readCommit(r);
      const frame = wireFrameOf({ v: 1, t: 'msg', room: roomId, id: ev.id, kind: 'commit', epoch: ev.epoch, seq: 0, next: ev.next }, ev.body);
      out.push({ epoch: ev.epoch, key: item.toString('utf8', 1, bar), id: ev.id, proposals, frame });
      proposals = [];
    }
    return out;
  }

  // ---- changes this relay asks for -------------------------------------------------------------

  open(room: Room, epoch: number, key: string, refused: string | undefined, prunable: readonly Cohort[], max: number): Promise<number | 'E_ROOM_LIMIT'> {
    this.flushRoom(room);
    const k = keys(room.id);
    const args = [roomChannel(room.id), String(this.o.roomTtlMs), String(epoch), key, refused ?? '', String(max), encodeOpen(epoch, key, refused), encodeDrop(), ...prunable.map((c) => String(c.cid))];
    return this.script('OPEN', [k.m], args).then(async (reply) => {
      const [cid, seq] = reply as [number, number | undefined];
      if (cid < 0 || seq === undefined) return 'E_ROOM_LIMIT';
      await this.applied(room, seq);
      return cid;
    });
  }

  commit(room: Room, cohort: Cohort, ev: CommitEvent): Promise<CommitOutcome> {
    this.flushRoom(room); // what the room said before the commit goes first
    const k = keys(room.id);
    const o = this.o;
    const args = [roomChannel(room.id), String(o.roomTtlMs), String(cohort.cid), String(ev.epoch), ev.id, ev.next, String(o.recentCommits), String(o.logEntries), encodeCommit(ev), String(o.logBytes)];
    return this.script('COMMIT', [k.m], args).then(
      async (reply): Promise<CommitOutcome> => {
        const [verdict, n] = reply as [Buffer, number | undefined];
        switch (verdict.toString()) {
          case 'ok':
            await this.applied(room, n as number);
            return { kind: 'accept' };
          case 'dup':
            return { kind: 'duplicate' };
          case 'stale':
            return { kind: 'stale', epoch: n as number };
          default:
            return { kind: 'stale', epoch: cohort.epoch };
        }
      },
      (): CommitOutcome => ({ kind: 'unavailable' }),
    );
  }

  drop(room: Room, cohorts: readonly Cohort[]): void {
    // This relay's counts go first: the script must not see a member here that has just left.
    this.counts(room);
    this.flushRoom(room);
    for (const c of cohorts) c.dropping = true;
    const k = keys(room.id);
    const done = (): void => {
      for (const c of cohorts) c.dropping = false;
    };
    this.script('DROP', [k.m, k.n, RELAYS], [roomChannel(room.id), String(this.o.deadAfterMs), encodeDrop(), ...cohorts.map((c) => String(c.cid))]).then(done, () => {
      done();
      this.lost();
    });
  }

  join(room: Room, ev: JoinEvent): Promise<'E_FORBIDDEN' | 'E_UNAVAILABLE' | undefined> {
    this.flushRoom(room);
    const k = keys(room.id);
    return this.script('JOIN', [k.m, k.j], [roomChannel(room.id), String(this.o.roomTtlMs), ev.id, ev.relay, ev.session, encodeJoin(ev)]).then(
      async (seq) => {
        if ((seq as number) < 0) return 'E_FORBIDDEN';
        await this.applied(room, seq as number);
        return undefined;
      },
      () => 'E_UNAVAILABLE',
    );
  }

  unjoin(room: Room, id: string): void {
    this.flushRoom(room);
    const k = keys(room.id);
    const relay = this.host.id;
    this.script('UNJOIN', [k.m, k.j], [roomChannel(room.id), String(this.o.roomTtlMs), id, relay, encodeUnjoin(id, relay)]).catch(() => this.lost());
  }

  welcome(relay: string, roomId: string, to: string, id: string, body: Uint8Array): void {
    if (!this.up) return;
    this.cmd?.sendCommand(['PUBLISH', welcomeChannel(relay), encodeWelcome(roomId, to, id, body)]).catch(() => this.lost());
  }

  private onWelcome(msg: Buffer): void {
    try {
      const w = readWelcome(msg);
      this.host.applyWelcome(w.room, w.to, w.id, w.body);
    } catch {
      // A malformed Welcome on our channel is dropped: only relays publish there.
    }
  }

  counts(room: Room): void {
    if (!this.followed.has(room.id)) return;
    const parts: string[] = [];
    for (const c of room.cohorts) if (c.subscribers.size > 0) parts.push(`${c.cid}:${c.subscribers.size}`);
    this.batch(room).counts = parts.join(',');
  }

  // ---- batching ----------------------------------------------------------------------------

  private batch(room: Room): Batch {
    let b = this.batches.get(room);
    if (!b) {
      b = { records: [], acks: [], counts: undefined, proposals: [], bytes: 0 };
      this.batches.set(room, b);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    }
    return b;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batches = this.batches;
    this.batches = new Map();
    for (const [room, b] of batches) this.send(room, b);
  }

  private flushRoom(room: Room): void {
    const b = this.batches.get(room);
    if (!b) return;
    this.batches.delete(room);
    this.send(room, b);
  }

  private send(room: Room, b: Batch): void {
    const k = keys(room.id);
    const o = this.o;
    const args = [roomChannel(room.id), String(o.roomTtlMs), this.host.id, b.counts ?? '-', String(o.maxProposals), encodeBatch(this.host.id, b.counts, b.records), ...b.proposals];
    this.queued -= b.bytes;
    this.inflight += b.bytes;
    // Not carried: not acked, and the relay disconnects its clients (`lost`), which send them again.
    this.script('BATCH', [k.m, k.n], args).then(
      () => {
        this.inflight -= b.bytes;
        this.host.acked(b.acks);
      },
      () => {
        this.inflight -= b.bytes;
        this.lost();
      },
    );
  }

  // ---- losing the bus ----------------------------------------------------------------------

  /** The bus is gone: every followed room is forgotten, the relay disconnects its clients, and Redis is tried again. */
  private lost(): void {
    if (!this.up) return;
    this.up = false;
    const { cmd, sub } = this;
    this.cmd = undefined;
    this.sub = undefined;
    cmd?.destroy();
    sub?.destroy();
    const err = new Error('bus lost');
    for (const f of this.followed.values()) for (const w of f.waiters) w.reject(err);
    this.followed.clear();
    // Frames the bus may not have carried are not acked: their clients, disconnected now, send them again.
    this.batches = new Map();
    this.queued = 0;
    this.seen.clear();
    this.host.busLost();
    if (!this.closed) this.retry();
  }

  private retry(): void {
    const t = setTimeout(() => {
      if (this.closed) return;
      // Back under a new instance id: clients that come back resend what the lost bus may not have carried.
      const id = randomId();
      this.connect(id).then(
        () => this.host.busBack(id),
        () => this.retry(),
      );
    }, this.o.retryMs);
    t.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.flush();
    const { cmd, sub } = this;
    this.up = false;
    this.cmd = undefined;
    this.sub = undefined;
    await Promise.allSettled([cmd?.close(), sub?.close()]);
  }
}

/** A kept proposal, framed for this relay's subscribers. */
function recordFrame(roomId: string, r: PubRecord): WireFrame {
  return msgFrame(roomId, r.id, r.kind, r.epoch, 0, r.exp, r.body);
}

/** The Redis URL without its password, for messages. */
export function describe(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/** Checks a `--cluster` URL: redis://, rediss:// or unix:///path. */
export function checkClusterUrl(url: string): void {
  if (!/^(rediss?:\/\/[^\s/]+(\/\d*)?|unix:\/\/\/\S+)$/.test(url))
    throw new UsageError('E_USAGE', `--cluster expects redis://HOST:PORT, rediss://HOST:PORT (TLS) or unix:///PATH, got "${describe(url)}"`);
}
