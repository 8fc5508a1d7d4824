/**
 * Where a room's shared state lives and who orders its events: the relay's engine.
 *
 * One relay alone uses the in-memory engine (memory.ts, the default): every decision is taken at
 * once, in the relay's own memory. Several relays that serve the same rooms share them through
 * Redis (redis.ts): a room's cohorts, commit log, kept proposals, join requests and each relay's
 * subscriber counts live there, one atomic script per change decides and publishes it, and
 * every relay, the one that asked included, applies the changes in the bus's order.
 *
 * The relay (relay.ts) makes the same calls whichever engine it has, and applies the outcome
 * through the same `EngineHost` methods; the in-memory engine calls them synchronously, the
 * Redis engine when the bus delivers. Both pass one conformance suite (the relay-*.test.ts files
 * run against one relay and against a cluster of two: see testing/harness.ts).
 *
 * What an engine carries is what the relay sees: room ids, cohort numbers, epochs and relay
 * keys, commit and frame ids, opaque bodies, sizes and timing. Never plaintext.
 */
import type { ErrorCode, PubKind } from '@safehouse/core/protocol';
import type { Cohort, LogEntry, Room } from '../room.js';
import type { Connection } from '../connection.js';
import type { WireFrame } from '../wireFrame.js';

/** A commit the relay checked (its signature, against the cohort's key) and asks the engine to order. */
export type CommitEvent = {
  readonly id: string;
  readonly epoch: number;
  /** The next epoch's relay key (base64url). */
  readonly next: string;
  readonly body: Uint8Array;
  /** The relay and connection (serial) that sent it: that one is not sent its own commit, and is acked. */
  readonly relay: string;
  readonly serial: number;
};

/** The engine's verdict on a commit (RFC 9420 §14: the first for the current epoch wins). */
export type CommitOutcome =
  | { kind: 'accept' }
  | { kind: 'duplicate' }
  | { kind: 'stale'; epoch: number }
  /** The bus is down: retry later (`E_UNAVAILABLE`). */
  | { kind: 'unavailable' };

/** A `pub` fanned out on one relay, for the others: what they need to frame it for their subscribers. */
export type PubRecord = {
  readonly cid: number;
  readonly id: string;
  readonly kind: PubKind;
  readonly epoch: number;
  readonly exp: number | undefined;
  readonly body: Uint8Array;
};

/** A join request waiting for a Welcome, as the engine carries it between relays. */
export type JoinEvent = {
  readonly id: string;
  readonly relay: string;
  readonly serial: number;
  /** The joiner's `hello` session: only that client may send a request again under this id (a
   *  link holder who read the id must not take the request over, and the Welcome with it). */
  readonly session: string;
  readonly body: Uint8Array;
};

/** A room's shared state as a cluster holds it, loaded when a relay starts to serve the room. */
export type RoomSnapshot = {
  cohorts: {
    cid: number;
    epoch: number;
    key: string;
    refused: string | undefined;
    recent: string[];
    log: LogEntry[];
    proposals: WireFrame[];
  }[];
  joins: JoinEvent[];
  /** Each live relay's subscribers, by cohort number. */
  counts: Map<string, Map<number, number>>;
};

/** What the engine calls back: the relay applies each change to its copy of the room. */
export interface EngineHost {
  /** The relay's instance id (new after it lost and regained the bus). */
  readonly id: string;
  applyOpen(room: Room, cid: number, epoch: number, key: string, refused: string | undefined): void;
  applyCommit(room: Room, cid: number, ev: CommitEvent): void;
  /** Frames another relay fanned out to its own subscribers (never one of ours). */
  applyPubs(room: Room, records: readonly PubRecord[]): void;
  applyJoin(room: Room, ev: JoinEvent): void;
  applyUnjoin(room: Room, id: string, relay: string): void;
  applyDrop(room: Room, cid: number): void;
  /** Another relay's subscriber counts for the room changed (empty: it has none, or it died). */
  applyCounts(room: Room, relay: string, counts: Map<number, number>): void;
  /** A Welcome for a join request whose joiner is on this relay. */
  applyWelcome(roomId: string, to: string, id: string, body: Uint8Array): void;
  /** Acks `pub`s the engine carried to the other relays: (connection, frame id) pairs, flat. */
  acked(acks: readonly (Connection | string)[]): void;
  /** The engine lost its bus: every room's shared state here is stale (see relay.ts `busLost`). */
  busLost(): void;
  /** The bus is back: the relay may serve again, under the new instance id `id`. */
  busBack(id: string): void;
  /** Loads a room's shared state (a cluster's relay starting to serve it). */
  restoreRoom(room: Room, snapshot: RoomSnapshot): void;
}

export interface Engine {
  /** Whether other relays share the rooms (the Redis engine); false for the in-memory engine. */
  readonly clustered: boolean;
  start(host: EngineHost): Promise<void>;
  /** Loads `room`'s shared state into it and follows its changes; undefined when nothing needs loading. */
  follow(room: Room): Promise<void> | undefined;
  /** Stops following a room this relay no longer serves (its shared state stays with the others). */
  unfollow(room: Room): void;
  /**
   * Opens a cohort at (`epoch`, `key`) (a claim, or a fork refusing commit `refused`), or finds
   * the one a cluster already opened for it; `prunable` are cohorts no relay has members in,
   * dropped to make room under `max`. The cohort's number, or `E_ROOM_LIMIT`.
   */
  open(room: Room, epoch: number, key: string, refused: string | undefined, prunable: readonly Cohort[], max: number): OrLater<number | 'E_ROOM_LIMIT' | 'E_UNAVAILABLE'>;
  commit(room: Room, cohort: Cohort, ev: CommitEvent): OrLater<CommitOutcome>;
  /**
   * A `pub` this relay fanned out to its own subscribers: the engine carries it to the other
   * relays and then acks it (`acked`). Undefined for an engine with no other relays: the relay
   * acks at once.
   */
  readonly spread: ((room: Room, rec: PubRecord, conn: Connection) => void) | undefined;
  /** Whether the bus takes a frame of `bytes` now (undefined: always); refused frames get `E_UNAVAILABLE`. */
  readonly accepts: ((bytes: number) => boolean) | undefined;
  /** Drops cohorts this relay sees no member in and no log worth keeping (a cluster checks the other relays' counts first). */
  drop(room: Room, cohorts: readonly Cohort[]): void;
  /** Records a join request; `E_FORBIDDEN` if its id is another client's pending request. */
  join(room: Room, ev: JoinEvent): OrLater<ErrorCode | undefined>;
  unjoin(room: Room, id: string): void;
  /** A Welcome for a joiner on relay `relay` (another one of the cluster). */
  welcome(relay: string, roomId: string, to: string, id: string, body: Uint8Array): void;
  /** This relay's subscriber counts for `room` changed: the other relays are told (coalesced per turn). */
  counts(room: Room): void;
  close(): Promise<void>;
}

/** A value now, or later. */
export type OrLater<T> = T | Promise<T>;
