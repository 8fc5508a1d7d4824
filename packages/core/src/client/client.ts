/**
 * The client facade: `createClient({ transport, name, link })` wires the connection, the
 * outbox, the rooms and the command language together, and reports everything as events.
 *
 *   const client = createClient({ transport, name: 'alice', link });
 *   client.on((event) => render(event));
 *   await client.start();            // connects; joins the link's room, or creates one
 *   await client.command('hello');   // a plain line is a message; /help lists the rest
 *   await client.quit();             // delivers the outbox, leaves the rooms, closes
 */
import type { E2ee, Fingerprint, Identity } from '../e2ee/api.js';
import { createE2ee, formatFingerprint, PinStore } from '../e2ee/index.js';
import { UsageError, missingCaseError, type ErrorCode } from '../protocol/errors.js';
import { formatInvite, parseInvite, type Invite, type RoomInvite, type TimeServerSpec } from '../protocol/link.js';
import { randomBytes, randomId, toBase64Url } from '../protocol/ids.js';
import { BOUNDS, LimitNotice } from './bounds.js';
import { systemClock, type Clock, type TimerId } from './clock.js';
import { isQuit, parseCommand } from './commands.js';
import { Connection, refusalReason, type ConnectionOptions, type InboundHeader, type ReadyInfo } from './connection.js';
import { TIMING_DEFAULTS, type JoinCandidate, type RoomContext, type Timing } from './context.js';
import { DirectMessages } from './direct.js';
import { ExpiryKeeper, type TimeSource } from './expiry.js';
import { RelayTimeQuery, relayTimeServers } from './relay-time.js';
import { ProvenTimeSource } from '../roughtime/timesource.js';
import type { RoughtimeServer } from '../roughtime/chain.js';
import { checkRoomName, runCommand, type CommandHost, type CommandOutcome } from './dispatch.js';
import { roomCode } from '../e2ee/index.js';
import type { ClientEvent, MemberInfo } from './events.js';
import type { RefusalCode } from './envelope.js';
import { Emitter, type Listener } from './events.js';
import { normalizeName } from './names.js';
import { Outbox } from './outbox.js';
import { Room } from './room.js';
import type { Transport } from './transport.js';

/**
 * Lines that act on the current room: one given before that room ended (and another became
 * current) is refused rather than run on the room that took its place (`#fellBack`).
 */
const ACTS_ON_CURRENT = new Set(['say', 'me', 'leave', 'ttl']);

/** Events after which a room's snapshot (`room-state`) may have changed. */
const CHANGES_ROOM = new Set<ClientEvent['type']>(['joined', 'member-joined', 'member-left', 'key-changed', 'ttl', 'info', 'error']);

export type ClientOptions = {
  transport: Transport;
  /** Display name; normalised (NFKC) and checked against the name rules (names.ts). */
  name: string;
  /** An invite link: with a room, the client joins it; without one, it creates a room. */
  link: string;
  e2ee?: E2ee;
  /** The device's pins; pass the same store to `createE2ee({ pins })` when passing `e2ee`. */
  pins?: PinStore;
  identity?: Identity;
  clock?: Clock;
  /** For backoff jitter; `Math.random` by default. */
  random?: () => number;
  /** Name of the room created when the link names none. Default "lobby". */
  roomName?: string;
  timing?: Partial<Timing>;
  /** An admission policy for the rooms this client admits to (a server's admin): a code refuses the joiner. Default: admit. */
  admit?: (candidate: JoinCandidate) => RefusalCode | undefined;
  /** Proven time for timed messages (a `ProvenTimeSource`); without one, timed messages stay hidden. */
  timeSource?: TimeSource;
  /** Roughtime servers written into the invite links this client makes (`t`); default: the link's own. */
  linkTimeServers?: readonly TimeServerSpec[];
  /** Without `timeSource`: Roughtime servers reached through the relay (browsers); `address` is
   *  the relay's server number, the key is the user's or the link's. Default: the link's `t`
   *  servers by position (entry i is the relay's server i; a mismatch fails verification). */
  timeViaRelay?: readonly RoughtimeServer[];
  connection?: Partial<Pick<ConnectionOptions, 'pingIntervalMs' | 'pongTimeoutMs' | 'helloTimeoutMs' | 'backoffBaseMs' | 'backoffCapMs'>>;
};

export interface SafehouseClient {
  /** The normalised display name. */
  readonly name: string;
  /** Connects; joins the link's room, or creates a room and emits its `invite`. */
  start(): Promise<void>;
  /**
   * Runs one line of the command language (a plain line is a message to the current room) after
   * the lines given before it, and says what it did. A message typed while the current room is
   * still waiting for a member to admit this device waits for that (or for the join to fail).
   * `/quit` does not wait behind them: it quits (see `quit`).
   */
  command(line: string): Promise<CommandOutcome>;
  /** Runs the lines given before it, delivers the outbox (up to `timeoutMs`, default 5 s), leaves every room, closes. */
  quit(options?: { timeoutMs?: number }): Promise<{ delivered: boolean }>;
  on(listener: Listener): () => void;
  /** The current room's id, if any (also pushed as `current` events). */
  currentRoom(): string | undefined;
  /**
   * Removes, by commits, every other member that `match` picks in the rooms this client is a
   * member of (a server admin's `/kick` and `/ban`). After each removal the room's invite secret
   * changes (the old link admits nobody), unless `keepLink` (an automatic clean-up, such as
   * removing again a banned member another member admitted). Returns who was picked; `landed`
   * resolves true once that removal was accepted by the relay and applied, false if it failed.
   * Only a room's admins (its creator) may remove others: other members refuse the commit.
   * Members removed as absent lately (by anyone) are picked too: they are out already, and the
   * invite secret changes all the same, so the link they kept (a lost device) admits nobody.
   */
  remove(
    match: (member: { name: string; fingerprint: Uint8Array }, room: string) => boolean,
    options?: { ban?: boolean; keepLink?: boolean },
  ): Array<{ room: string; name: string; fingerprint: Uint8Array; landed: Promise<boolean> }>;
}

/** Throws `UsageError` (E_NAME_INVALID, E_BAD_LINK) for a bad name or link: check before. */
export function createClient(options: ClientOptions): SafehouseClient {
  return new Client(options);
}

class Client implements SafehouseClient, CommandHost {
  readonly name: string;
  readonly rooms = new Map<string, Room>();
  readonly direct: DirectMessages;
  readonly #o: ClientOptions;
  readonly #invite: Invite;
  readonly #emitter = new Emitter();
  readonly #clock: Clock;
  readonly #pins: PinStore;
  readonly #e2ee: E2ee;
  readonly #outbox: Outbox;
  readonly #conn: Connection;
  /** `formatFingerprint`, cached; bounded (BOUNDS.fingerprints, the oldest go first: made again if needed). */
  readonly #fingerprints = new Map<string, Promise<string>>();
  readonly #limits: LimitNotice;
  readonly #expiry: ExpiryKeeper;
  readonly #relayTime: RelayTimeQuery;
  #ctx: RoomContext | undefined;
  #current: string | undefined;
  /** Lines run one at a time, in the order given. */
  #commands: Promise<unknown> = Promise.resolve();
  /** How often the current room ended and another became current by itself (not by a line). */
  #fellBack = 0;
  /** Messages waiting for their room to admit this device, released when it did or gave up (or on quit). */
  readonly #admitted = new Map<string, Array<() => void>>();
  /** Rooms whose snapshot may have changed; one `room-state` each if it did (`#publishRooms`). */
  readonly #dirty = new Set<string>();
  #publishing: Promise<void> | undefined;
  readonly #published = new Map<string, string>();
  /** The room code per room, for the epoch it was computed at. */
  readonly #codes = new Map<string, { epoch: number; code: string }>();
  /** While rooms prove their epochs after a (re)connect, published frames wait (the relay would refuse them). */
  #subscribing = true;
  #state: 'new' | 'started' | 'quitting' | 'closed' = 'new';

  constructor(o: ClientOptions) {
    const name = normalizeName(o.name);
    if (!name.ok) throw new UsageError('E_NAME_INVALID', name.message);
    const invite = parseInvite(o.link);
    if (!invite.ok) throw new UsageError('E_BAD_LINK', invite.message);
    this.name = name.name;
    this.#o = o;
    this.#invite = invite.invite;
    this.#clock = o.clock ?? systemClock;
    this.#pins = o.pins ?? new PinStore();
    this.#e2ee = o.e2ee ?? createE2ee({ pins: this.#pins });
    this.#conn = new Connection({
      ...o.connection,
      transport: o.transport,
      // The link's own relay first, then the others of its cluster (`a`), each with its own pin.
      endpoints: this.#invite.relays,
      clock: this.#clock,
      ...(o.random ? { random: o.random } : {}),
      onState: (s) => this.#emitter.emit({ type: 'connection', ...s }),
      onReady: (info) => void this.#onReady(info),
      onFrame: (h, body) => this.#onFrame(h, body),
      onError: (code, message) => this.#emitter.emit({ type: 'error', code, message }),
      onGiveUp: (code, message) => this.#gaveUp(code, message),
    });
    this.#limits = new LimitNotice(this.#clock, (e) => this.#emitter.emit(e));
    this.#outbox = new Outbox({
      clock: this.#clock,
      // Messages are refused before this (Room.send checks `hasRoomFor`): what lands here is a
      // Welcome, a sign of life or a queued direct message.
      onFull: (h, bound) =>
        this.#limits.hit(bound, bound === 'outboxWelcomes' ? 'too many Welcomes wait for the relay; a joiner asking again was not answered now (it asks again)' : 'the outbox is full (the relay has not acknowledged what was sent); a frame was not queued', h.room),
      send: (h, body) => {
        if (this.#subscribing) return false; // kept; sent once the rooms are subscribed
        try {
          return this.#conn.send(h, body);
        } catch (e) {
          // Larger than the relay's `maxFrame` (a relay configured below the protocol's limit):
          // kept, unsent; said once per frame.
          if (!(e instanceof RangeError)) throw e;
          this.#emitter.emit({ type: 'error', code: 'E_FRAME_TOO_LARGE', message: 'a frame is larger than this relay accepts; it was not sent', room: h.room });
          return false;
        }
      },
    });
    this.direct = new DirectMessages(this);
    this.#relayTime = new RelayTimeQuery((h, body) => this.#conn.send(h, body), this.#clock);
    const relayServers = o.timeViaRelay ?? relayTimeServers(this.#invite.timeServers ?? []);
    const viaRelay = relayServers.length > 0 ? new ProvenTimeSource({ servers: relayServers, query: this.#relayTime.query }) : undefined;
    this.#expiry = new ExpiryKeeper({
      source: o.timeSource ?? viaRelay,
      clock: this.#clock,
      emit: (e) => this.#emitter.emit(e),
      limit: (message, room) => this.#limits.hit('timedMessages', message, room),
    });
  }

  get ctx(): RoomContext {
    if (!this.#ctx) throw new UsageError('E_USAGE', 'the client is not started: call start() first');
    return this.#ctx;
  }

  on(listener: Listener): () => void {
    return this.#emitter.on(listener);
  }

  currentRoom(): string | undefined {
    return this.#current;
  }

  remove(
    match: (member: { name: string; fingerprint: Uint8Array }, room: string) => boolean,
    options: { ban?: boolean; keepLink?: boolean } = {},
  ): Array<{ room: string; name: string; fingerprint: Uint8Array; landed: Promise<boolean> }> {
    const picked: Array<{ room: string; name: string; fingerprint: Uint8Array; landed: Promise<boolean> }> = [];
    for (const room of this.rooms.values()) {
      if (!room.isMember() || !room.isAdmin()) continue; // other members would refuse the commit
      for (const m of room.others()) {
        if (!match({ name: m.name, fingerprint: m.fingerprint }, room.id)) continue;
        picked.push({ room: room.id, name: m.name, fingerprint: m.fingerprint, landed: room.removeMember(m, options) });
      }
      // Removed as absent lately, by any member: out already, but its link still works.
      for (const m of room.absentRemoved()) {
        if (!match({ name: m.name, fingerprint: m.fingerprint }, room.id)) continue;
        picked.push({ room: room.id, name: m.name, fingerprint: m.fingerprint, landed: room.revokeAbsent(m, options) });
      }
    }
    return picked;
  }

  current(): Room | undefined {
    return this.#current === undefined ? undefined : this.rooms.get(this.#current);
  }

  setCurrent(room: Room): void {
    this.#setCurrent(room.id);
  }

  #setCurrent(id: string | undefined): void {
    if (id === this.#current) return;
    this.#current = id;
    this.#emitter.emit({ type: 'current', room: id });
  }

  pinsChanged(): void {
    for (const id of this.rooms.keys()) this.#roomChanged(id);
  }

  /** Marks a room's snapshot for publishing (coalesced: one pass per turn, in order). */
  #roomChanged(id: string): void {
    this.#dirty.add(id);
    if (this.#publishing) return;
    this.#publishing = Promise.resolve().then(async () => {
      while (this.#dirty.size > 0) {
        const ids = [...this.#dirty];
        this.#dirty.clear();
        for (const rid of ids) await this.#publishRoom(rid);
      }
      this.#publishing = undefined;
    });
  }

  async #publishRoom(id: string): Promise<void> {
    const room = this.rooms.get(id);
    if (!room || this.#state === 'closed') return;
    const event = await this.#snapshot(room);
    if (this.rooms.get(id) !== room) return; // gone meanwhile
    const key = JSON.stringify(event);
    if (this.#published.get(id) === key) return;
    this.#published.set(id, key);
    this.#emitter.emit(event);
  }

  async #snapshot(room: Room): Promise<Extract<ClientEvent, { type: 'room-state' }>> {
    const ctx = this.ctx;
    const session = room.isMember() ? room.session : undefined;
    const me = session?.myLeaf();
    const members: MemberInfo[] = session
      ? await Promise.all(
          room.members().map(async (m) => {
            const self = m.leaf === me;
            return {
              name: m.name,
              fingerprint: await ctx.fingerprint(m.fingerprint),
              self,
              verified: !self && ctx.pins.isVerified(m.name, m.fingerprint),
              keyChanged: !self && ctx.pins.check(m.name, m.fingerprint) === 'changed',
              blocked: !self && ctx.pins.isBlocked(m.name, m.fingerprint),
            };
          }),
        )
      : [];
    let code: string | undefined;
    const epoch = session?.epoch() ?? 0;
    if (session) {
      const known = this.#codes.get(room.id);
      code = known?.epoch === epoch ? known.code : await roomCode(session.epochAuthenticator());
      this.#codes.set(room.id, { epoch, code });
    }
    return {
      type: 'room-state',
      room: room.id,
      roomName: room.roomName,
      direct: room.direct !== undefined,
      joined: session !== undefined,
      admin: session !== undefined && room.isAdmin(),
      epoch,
      ...(code === undefined ? {} : { code }),
      ttlMs: room.ttlMs,
      members,
    };
  }

  /** Waits until the room admitted this device, or gave up, or the client quits. */
  #untilAdmitted(room: Room): Promise<void> {
    // A member being re-admitted (removed as absent while online) holds what it writes itself.
    if (room.isMember() || room.readmitting() || room.state === 'left') return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#admitted.get(room.id) ?? [];
      list.push(resolve);
      this.#admitted.set(room.id, list);
    });
  }

  #release(id?: string): void {
    for (const [rid, list] of this.#admitted) {
      if (id !== undefined && rid !== id) continue;
      this.#admitted.delete(rid);
      for (const r of list) r();
    }
  }

  addRoom(room: Room): void {
    this.rooms.set(room.id, room);
  }

  start(): Promise<void> {
    if (this.#state !== 'new') return Promise.resolve();
    this.#state = 'started';
    // Lines given from now on run once the client has its identity and its first room.
    const started = this.#start();
    this.#commands = started.catch(() => undefined);
    return started;
  }

  async #start(): Promise<void> {
    const identity = this.#o.identity ?? (await this.#e2ee.createIdentity());
    this.#ctx = this.#makeContext(identity);
    this.#emitter.emit({ type: 'fingerprint', name: this.name, fingerprint: await this.#ctx.fingerprint(identity.fingerprint) });
    this.#conn.start();
    if (this.#invite.room) this.#joinInvite(this.#invite.room);
    else await this.createRoom(this.#o.roomName ?? 'lobby');
  }

  command(line: string): Promise<CommandOutcome> {
    if (isQuit(line) && this.#state === 'started') return this.quit().then(() => ({ ok: true, command: 'quit' }));
    const fellBack = this.#fellBack;
    const run = this.#commands.then(() => this.#run(line, fellBack));
    this.#commands = run.catch(() => undefined);
    return run;
  }

  async #run(line: string, fellBack: number): Promise<CommandOutcome> {
    const refuse = (code: ErrorCode, message: string, command?: CommandOutcome['command']): CommandOutcome => {
      this.#emitter.emit({ type: 'error', code, message });
      return { ok: false, command, code, message };
    };
    if (this.#state !== 'started') return refuse('E_USAGE', this.#state === 'new' ? 'the client is not started yet' : 'the client is closing');
    const parsed = parseCommand(line);
    if (!parsed.ok) return refuse(parsed.code, parsed.message);
    const { command } = parsed;
    // A message waits for its room to admit this device: typed early, not lost.
    if (command.kind === 'say' || command.kind === 'me') {
      const room = this.current();
      if (room) await this.#untilAdmitted(room);
      if (this.#state !== 'started') return refuse('E_USAGE', 'the client is closing; this line was not sent', command.kind);
    }
    // Typed for the room that was current then (or that the lines before it made current): if
    // that room ended meanwhile (a join refused or timed out, a removal), the current room is
    // another one now, with other people in it. Never sent, left or retimed there.
    if (ACTS_ON_CURRENT.has(command.kind) && fellBack !== this.#fellBack) {
      const now = this.current();
      return refuse(
        'E_NO_ROOM',
        `not done: the room this line was typed for ended before it ran${now ? `; plain lines now go to ${now.roomName}: type it again to mean that room` : ''}`,
        command.kind,
      );
    }
    return runCommand(this, command);
  }

  async createRoom(roomName: string): Promise<CommandOutcome> {
    const checked = checkRoomName(roomName);
    if (!checked.ok) {
      this.#emitter.emit({ type: 'error', code: 'E_NAME_INVALID', message: checked.message });
      return { ok: false, command: 'room-create', code: 'E_NAME_INVALID', message: checked.message };
    }
    const ctx = this.ctx;
    const id = randomId();
    const secret = randomBytes(32);
    const room = await Room.create(ctx, id, checked.name, secret);
    if (this.#state !== 'started') {
      room.close('left'); // the connection gave up (or quit) meanwhile
      return { ok: false, command: 'room-create', code: 'E_USAGE', message: 'the client is closing' };
    }
    this.addRoom(room);
    const fingerprint = await ctx.fingerprint(ctx.identity.fingerprint);
    this.#emitter.emit({ type: 'joined', room: id, roomName: room.roomName, name: this.name, fingerprint, direct: false });
    this.#setCurrent(id);
    this.#roomChanged(id);
    const invite = { type: 'invite', room: id, roomName: room.roomName, link: this.inviteLink(room) } as const;
    this.#emitter.emit(invite);
    return { ok: true, command: 'room-create', shown: invite };
  }

  /** The invite link for one of our rooms (the fragment carries its secret: show it only to its owner). */
  inviteLink(room: Room): string {
    const r: RoomInvite = { id: room.id, secret: room.secret, inviter: this.ctx.identity.fingerprint, name: room.roomName };
    const timeServers = this.#o.linkTimeServers ?? this.#invite.timeServers;
    return formatInvite(this.#invite.base, r, {
      ...(this.#invite.certFingerprint ? { certFingerprint: this.#invite.certFingerprint } : {}),
      ...(timeServers ? { timeServers } : {}),
      also: this.#invite.relays.slice(1),
    });
  }

  joinLink(link: string): Promise<CommandOutcome> {
    const bad = (message: string): Promise<CommandOutcome> => {
      this.#emitter.emit({ type: 'error', code: 'E_BAD_LINK', message });
      return Promise.resolve({ ok: false, command: 'join', code: 'E_BAD_LINK', message });
    };
    const parsed = parseInvite(link);
    if (!parsed.ok) return bad(parsed.message);
    const { invite } = parsed;
    if (!invite.room) return bad('this link names no room: ask a member for a room link');
    // Any relay of ours will do: a link made on another relay of the cluster (its admin's)
    // names that relay first.
    const ours = new Set(this.#invite.relays.map((r) => r.ws));
    if (!invite.relays.some((r) => ours.has(r.ws))) return bad('this link is for another server than the one you are connected to');
    this.#joinInvite(invite.room);
    return Promise.resolve({ ok: true, command: 'join' });
  }

  #joinInvite(ri: RoomInvite): void {
    const existing = this.rooms.get(ri.id);
    if (existing) {
      this.#setCurrent(ri.id);
      this.#emitter.emit({ type: 'switched', room: ri.id, roomName: existing.roomName });
      return;
    }
    const named = ri.name === undefined ? undefined : checkRoomName(ri.name);
    const roomName = named?.ok ? named.name : `room-${ri.id.slice(0, 6)}`;
    const room = Room.join(this.ctx, { room: ri.id, secret: ri.secret, inviter: ri.inviter }, roomName);
    this.addRoom(room);
    this.#roomChanged(ri.id);
    this.#setCurrent(ri.id);
    this.#emitter.emit({ type: 'info', message: `asking the members of ${roomName} to admit you (a member must be online)`, room: ri.id });
  }

  async quit(options: { timeoutMs?: number } = {}): Promise<{ delivered: boolean }> {
    if (this.#state === 'quitting' || this.#state === 'closed') return { delivered: this.#outbox.size === 0 };
    const wasStarted = this.#state === 'started';
    const timeoutMs = options.timeoutMs ?? 5_000;
    // Lines given before the quit are part of "what is pending": they run first (a message
    // waiting for its room to admit this device waits until it is admitted or the join ends).
    if (wasStarted) {
      // Bounded all the same: a relay that stalls a command must not keep the client from closing.
      let timer: TimerId | undefined;
      const late = new Promise<void>((resolve) => (timer = this.#clock.setTimeout(resolve, (this.#ctx?.timing.joinTimeoutMs ?? 0) + timeoutMs)));
      await Promise.race([this.#commands, late]);
      timer?.cancel();
    }
    if (this.#state !== 'started' && this.#state !== 'new') return { delivered: this.#outbox.size === 0 };
    this.#state = 'quitting';
    this.#release();
    let delivered = true;
    if (wasStarted) {
      delivered = (await this.#outbox.drain(timeoutMs)) && this.direct.queuedCount === 0;
      await Promise.all([...this.rooms.values()].map((r) => r.leave()));
    }
    this.#conn.close('quit');
    this.#expiry.stop();
    this.#state = 'closed';
    return { delivered };
  }

  /** The connection gave up (connection.ts: every try answered 404): the rooms end here, and the client with them. */
  #gaveUp(code: ErrorCode, message: string): void {
    if (this.#state !== 'started') return;
    this.#state = 'closed';
    for (const room of [...this.rooms.values()]) room.close('left');
    this.#expiry.stop();
    this.#release();
    this.#emitter.emit({ type: 'fatal', code, message, closed: true });
  }

  #makeContext(identity: Identity): RoomContext {
    return {
      e2ee: this.#e2ee,
      identity,
      name: this.name,
      pins: this.#pins,
      clock: this.#clock,
      outbox: this.#outbox,
      timing: { ...TIMING_DEFAULTS, ...this.#o.timing },
      expiry: this.#expiry,
      send: (h) => this.#conn.send(h),
      nonce: () => this.#conn.nonce,
      random: this.#o.random ?? Math.random,
      limit: (bound, message, room) => this.#limits.hit(bound, message, room),
      emit: (e) => {
        // A timed message goes through the keeper: shown, hidden or dropped on proven time.
        if (e.type === 'message' && e.expiresAt !== undefined) return this.#expiry.offer({ ...e, expiresAt: e.expiresAt });
        this.#emitter.emit(e);
        if (e.type === 'joined') this.#release(e.room);
        if (CHANGES_ROOM.has(e.type) && 'room' in e && typeof e.room === 'string') this.#roomChanged(e.room);
      },
      fingerprint: (fp: Fingerprint) => {
        const key = toBase64Url(fp);
        let p = this.#fingerprints.get(key);
        if (!p) {
          this.#fingerprints.set(key, (p = formatFingerprint(fp)));
          if (this.#fingerprints.size > BOUNDS.fingerprints) this.#fingerprints.delete(this.#fingerprints.keys().next().value ?? '');
        }
        return p;
      },
      ...(this.#o.admit ? { admit: this.#o.admit } : {}),
      onDirectInvite: (room, sender, invite) => this.direct.onInvite(room, sender, invite),
      onMembersChanged: (room) => this.direct.flush(room),
      onInviteChanged: (id) => {
        const room = this.rooms.get(id);
        if (room && !room.direct) this.#emitter.emit({ type: 'invite', room: id, roomName: room.roomName, link: this.inviteLink(room) });
      },
      onRoomGone: (id, reason, code) => {
        this.rooms.delete(id);
        // Its timed messages go with it: proven time coming back must not show them again.
        this.#expiry.forget(id);
        this.#published.delete(id);
        this.#codes.delete(id);
        this.#release(id);
        this.direct.forget(id);
        // A shared room first; else a direct one (e.g. a server whose admin moved us into one).
        if (this.#current === id) {
          this.#fellBack++; // lines given before this, for that room, are not run on the next one
          this.#setCurrent(([...this.rooms.values()].find((r) => !r.direct) ?? [...this.rooms.values()][0])?.id);
        }
        if (reason !== 'left' && this.rooms.size === 0 && this.#state === 'started') {
          // Why this room ended, never an earlier, unrelated error (a `/msg` to nobody).
          const why = { refused: 'E_NAME_TAKEN', timeout: 'E_JOIN_TIMEOUT', removed: 'E_KICKED' } as const;
          this.#emitter.emit({ type: 'fatal', code: code ?? why[reason], message: 'you are in no room any more' });
        }
      },
      onRoomChanged: (id) => this.#roomChanged(id),
    };
  }

  async #onReady({ restarted, nonce }: ReadyInfo): Promise<void> {
    // Order matters: `sub` before anything published to the room, then the outbox, then joins.
    // A `sub` signs this connection's nonce, which takes a moment: published frames wait for it.
    this.#subscribing = true;
    await Promise.all([...this.rooms.values()].map((room) => room.subscribe()));
    if (this.#conn.nonce !== nonce) return; // reconnected meanwhile: that connection's turn
    this.#subscribing = false;
    this.#outbox.resend(restarted);
    for (const room of this.rooms.values()) room.rejoin();
  }

  #onFrame(h: InboundHeader, body: Uint8Array): void {
    switch (h.t) {
      case 'ack':
        this.#outbox.ack(h.id);
        return;
      case 'nack':
        if (this.#relayTime.onNack(h.id, h.code)) return;
        if (this.#outbox.nack(h.id, h.code, h.epoch)) return;
        // A `sub` has no id of its own: its refusal names the room.
        this.rooms.get(h.id)?.onSubRefused(h.code, h.epoch);
        return;
      case 'msg':
        this.rooms.get(h.room)?.onMsg(h, body);
        return;
      case 'join':
        this.rooms.get(h.room)?.onJoinRequest(h.id, body);
        return;
      case 'welcome':
        this.rooms.get(h.room)?.onWelcome(body);
        return;
      case 'presence': {
        const room = this.rooms.get(h.room);
        if (!room) return;
        const grew = h.count > room.presence;
        room.onPresence(h.count, h.others);
        // Someone came (back): what we said lately may not have reached them (a relay restarted,
        // or in a cluster their relay died and they came back through another while we talked).
        // Each recent message goes again once; receivers dedup; a newcomer cannot open them.
        if (grew) this.#outbox.resendRecent(h.room);
        if (grew) this.direct.reinvite(h.room);
        return;
      }
      case 'error':
        this.#emitter.emit({
          type: 'error',
          code: h.code,
          message:
            h.code === 'E_TOO_MANY_CONNECTIONS'
              ? `${refusalReason(h.code)}; retrying until a place frees`
              : h.code === 'E_UNAVAILABLE'
                ? `${refusalReason(h.code)}; retrying`
                : `the relay ended the connection (${h.code}); reconnecting`,
        });
        return;
      case 'rt':
        this.#relayTime.onReply(h.id, body);
        return;
      case 'closing':
        // With other relays in the link, the connection moves to the next one now (connection.ts).
        this.#emitter.emit({
          type: 'info',
          message:
            this.#conn.relays > 1
              ? `the relay ${this.#conn.endpoint} is shutting down; moving to another relay of the link`
              : 'the server is shutting down; the client reconnects when it is back',
        });
        return;
      default:
        throw missingCaseError(h);
    }
  }
}
