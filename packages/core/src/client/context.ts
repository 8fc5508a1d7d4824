/**
 * What every room shares with the client: the device, its pins, time, the two ways out to the
 * relay (the outbox for frames that must be acked, `send` for `sub`/`unsub`), the event sink, and
 * the hooks through which rooms tell the client about direct-message invitations and their end.
 */
import type { E2ee, Fingerprint, Identity, Member } from '../e2ee/api.js';
import type { PinStore } from '../e2ee/index.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { ClientHeader } from '../protocol/frames.js';
import type { BoundName } from './bounds.js';
import type { Clock } from './clock.js';
import type { AppPayload, RefusalCode } from './envelope.js';
import type { ClientEvent } from './events.js';
import type { ExpiryKeeper } from './expiry.js';
import type { Outbox } from './outbox.js';
import type { Room } from './room.js';

export const TIMING_DEFAULTS = {
  /** Members act on a join request or a leave proposal in leaf order, this much apart. */
  rankDelayMs: 2_000,
  /** A join request waits this long before it is admitted, so that joiners arriving together
   *  are admitted together (one commit for a crowd, not one each). */
  batchWindowMs: 300,
  /** Alone in its cohort this long while other members of the room subscribe elsewhere, a
   *  member asks to be re-admitted (it may have missed a commit the relay cannot replay). */
  aloneRejoinMs: 5_000,
  /** A joiner gives up when no member admitted it within this time. */
  joinTimeoutMs: 60_000,
  /**
   * A refusal (not authenticated) ends a join only if no Welcome came within this time after it.
   * Shorter than the second-ranked member's delay (`batchWindowMs + rankDelayMs`): a member that
   * does not know a server's ban list must not admit the joiner the admin refused.
   */
  refusalGraceMs: 1_500,
  /** How long leaving waits for the relay to take the leave proposal. */
  leaveTimeoutMs: 5_000,
  /** Messages for an epoch not reached yet, kept per room. */
  maxFutureMessages: 256,
  /** After admitting a joiner, the next commit waits this long at most for it to subscribe. */
  joinerSubscribeMs: 5_000,
  /** A join request not acted on within this time is dropped (the relay drops it after 120 s). */
  joinRequestTtlMs: 120_000,
  /**
   * A commit (or a `sub`) refused as stale when no newer commit came is a fault or an attack:
   * the next try waits this long, doubling (with jitter) up to `staleBackoffCapMs`.
   */
  staleBackoffMs: 500,
  /** A message of an earlier epoch from a member removed since is shown only this long after
   *  the removal (one sent before it, resent after a reconnect); later, it is refused. */
  inFlightGraceMs: 1_000,
  staleBackoffCapMs: 30_000,
  /** A member that sent nothing for this long sends a sign of life (`alive`, encrypted like a message). */
  aliveEveryMs: 20_000,
  /**
   * The absence grace: a member not heard from for this long, while this device was connected
   * and listening, is removed by a commit of an online member (docs/protocol.md "Absent
   * members"); if it was online after all, it is re-admitted at once.
   */
  absentAfterMs: 90_000,
  /** The name of a member removed as absent is held for it this long against other keys. */
  nameHeldMs: 600_000,
} as const;
export type Timing = { -readonly [K in keyof typeof TIMING_DEFAULTS]: number };

/** A join request whose invite proof checked out, as an admission policy sees it (ClientOptions.admit). */
export type JoinCandidate = { room: string; joinId: string; name: string; fingerprint: Uint8Array };

export interface RoomContext {
  readonly e2ee: E2ee;
  readonly identity: Identity;
  readonly name: string;
  readonly pins: PinStore;
  readonly clock: Clock;
  readonly outbox: Outbox;
  readonly timing: Timing;
  /** Proven time for timed messages (expiry.ts). */
  readonly expiry: ExpiryKeeper;
  /** Sends `sub`/`unsub` now if connected (they are sent again after every reconnect). */
  send(header: Extract<ClientHeader, { t: 'sub' } | { t: 'unsub' }>): boolean;
  /** The current connection's nonce (a `sub` signs it); undefined while not connected. */
  nonce(): string | undefined;
  /** For backoff jitter. */
  random(): number;
  emit(event: ClientEvent): void;
  /** A bound on the client's state was hit (bounds.ts): an `E_LIMIT` error event, rate-limited. */
  limit(bound: BoundName, message: string, room?: string): void;
  /** An admission policy (a server's admin): a code refuses the joiner with it. Default: admit. */
  admit?(candidate: JoinCandidate): RefusalCode | undefined;
  /** `formatFingerprint`, cached. */
  fingerprint(fp: Fingerprint): Promise<string>;
  /** A member sent us `{t:"dm"}` in `room`. */
  onDirectInvite(room: Room, sender: Member, invite: Extract<AppPayload, { t: 'dm' }>): Promise<void>;
  /** The room became usable (joined) or a member came in: queued direct messages may go. */
  onMembersChanged(room: string): void;
  /** The room's invite secret changed (a ban): the UI gets the new link. */
  onInviteChanged(room: string): void;
  /** The room is gone (left, removed, refused, timed out): forget it. `code`: why a join ended. */
  onRoomGone(room: string, reason: 'left' | 'removed' | 'refused' | 'timeout', code?: ErrorCode): void;
  /** Something a UI shows about the room may have changed (members, pins, epoch, timer): a `room-state` follows if it did. */
  onRoomChanged(room: string): void;
}
