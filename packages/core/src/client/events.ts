/**
 * What the client tells its UI. Every event has a `type`; everything user-visible is plain text
 * that a UI must render as text (through `safeText` in a terminal, as a text node in a browser):
 * names, room names and message text come from peers.
 *
 * `room` is always the room's id; `roomName` its display name (for a direct-message room, the
 * peer's name).
 */
import type { ErrorCode } from '../protocol/errors.js';
import type { CommandHelp } from './commands.js';

/**
 * The connection to the relay. `endpoint` is the `host:port` of the relay the state is about
 * (the one tried, the one reached, the one lost; never its path, which is a secret); `relays`
 * is how many relays the link names (with more than one, the client fails over between them).
 * `attempt` counts rounds of tries (every relay once) since the last lasting connection.
 */
export type ConnectionState =
  | { state: 'connecting'; attempt: number; endpoint: string; relays: number }
  | { state: 'connected'; restarted: boolean; endpoint: string; relays: number }
  | { state: 'reconnecting'; delayMs: number; attempt: number; reason: string; endpoint: string; relays: number }
  | { state: 'offline'; reason: string };

export type UserInfo = { name: string; fingerprint: string; verified: boolean; self: boolean };
/**
 * A member as the room's snapshot (`room-state`) shows it. `keyChanged`: its key is not the one
 * this device pinned for its name, and the user has neither verified nor trusted the new one;
 * `blocked`: the pinned key was verified, so this device sends nothing to the room until then.
 */
export type MemberInfo = UserInfo & { keyChanged: boolean; blocked: boolean };
export type RoomInfo = { room: string; roomName: string; members: number; current: boolean; direct: boolean; joined: boolean };

export type ClientEvent =
  /** `code`, `epoch`: a joiner's room code (`/code`) at the epoch it joined, to compare with a member's: a fork shows another. */
  | { type: 'joined'; room: string; roomName: string; name: string; fingerprint: string; direct: boolean; code?: string; epoch?: number }
  | {
      type: 'message';
      id: string;
      room: string;
      roomName: string;
      from: string;
      /** The sender's fingerprint, formatted: lets a UI tell two look-alike names apart. */
      fingerprint: string;
      text: string;
      ts: number;
      direct: boolean;
      /** A `/me` action. */
      action?: boolean;
      /** Our own message, echoed. */
      self?: boolean;
      /** This many earlier messages from the same sender have not arrived (yet): dropped or delayed. */
      gap?: number;
      /** A timed message: it disappears (`expired`) when proven time reaches this instant (Unix ms). */
      expiresAt?: number;
      /**
       * The room has a message timer and this message came without a valid expiry (none, or one
       * past the timer): a UI shows a warning on it. `expiresAt` is then this device's own, from
       * proven time (absent if time could not be proven). An `error E_UNTIMED` comes before it.
       */
      untimed?: true;
      /**
       * A timed message the expiry keeper emits again once proven time is back, after it was
       * shown and then hidden (time was lost): the same message (same room, sender, id). A UI
       * that kept it (hidden) shows it again; one that did not must not add it anew.
       */
      again?: true;
    }
  | { type: 'member-joined'; room: string; roomName: string; name: string; fingerprint: string; direct?: true }
  /** `by`: who removed the member (absent when it left by itself). */
  /** `by`: removed by that member (not a leave); `absent`: removed for absence (docs/protocol.md "Absent members"), not as a kick. */
  | { type: 'member-left'; room: string; roomName: string; name: string; by?: string; absent?: true }
  | { type: 'users'; room: string; roomName: string; users: UserInfo[] }
  /**
   * Everything a UI shows about one room, pushed whenever any of it changed (members, their keys'
   * pins and verification, the epoch and room code, the timer): a UI never asks. `joined` is
   * false while a member has yet to admit this device (then `members` is empty).
   */
  | {
      type: 'room-state';
      room: string;
      roomName: string;
      direct: boolean;
      joined: boolean;
      /** May this device remove others here (`/kick` on a server's admin console). */
      admin: boolean;
      epoch: number;
      /** The room code at `epoch` (`/code`); absent until joined. */
      code?: string;
      ttlMs: number;
      members: MemberInfo[];
    }
  /** The room that plain lines go to changed (joined, created, switched, or the current one is gone). */
  | { type: 'current'; room: string | undefined }
  | { type: 'invite'; room: string; roomName: string; link: string }
  | { type: 'key-changed'; room: string; roomName: string; name: string; message: string }
  | { type: 'error'; code: ErrorCode; message: string; room?: string }
  /**
   * The client has nothing left to do: its last room failed (refused, no member admitted it in
   * time, removed). Follows the `error` that says why; a UI typically reports it and exits.
   */
  | { type: 'fatal'; code: ErrorCode; message: string; /** The client is closed: it can do nothing more (not even `/join`). */ closed?: true }
  | ({ type: 'connection' } & ConnectionState)
  | { type: 'fingerprint'; name: string; fingerprint: string }
  | { type: 'safety-number'; room: string; name: string; safetyNumber: string; verified: boolean }
  | { type: 'room-code'; room: string; roomName: string; code: string; epoch: number }
  | { type: 'rooms'; rooms: RoomInfo[] }
  | { type: 'switched'; room: string; roomName: string }
  /** `by`: for `removed`, the member who removed us; `code`: why a join ended (refused or timed out). */
  | { type: 'left'; room: string; roomName: string; reason: 'left' | 'removed' | 'refused' | 'timeout'; by?: string; code?: ErrorCode }
  | { type: 'help'; commands: CommandHelp[]; text: string }
  | { type: 'info'; message: string; room?: string }
  /**
   * A timed message's expiry passed on proven time: remove it from the screen and from memory.
   * It is the message with this `id` from the sender with this `fingerprint`: ids are chosen by
   * their senders, so two members' messages may share one (match both).
   */
  | { type: 'expired'; id: string; fingerprint: string; room: string; expiresAt: number }
  /** Proven time became available (`earliestMs`, `latestMs`) or not: without it, hide timed messages. */
  | { type: 'time'; state: 'proven' | 'unproven'; message: string; earliestMs?: number; latestMs?: number; code?: string }
  /**
   * The room's message timer (`ms`, 0 = off) changed by a member's commit (`from`; `self`: ours),
   * or, on joining, the timer in force (`from`: "the room"); `text` says that recipients can still copy.
   */
  | { type: 'ttl'; room: string; roomName: string; from: string; ms: number; self: boolean; text: string };

export type ClientEventType = ClientEvent['type'];
export type Listener = (event: ClientEvent) => void;

/** A minimal synchronous emitter; a listener that throws does not stop the others. */
export class Emitter {
  readonly #listeners = new Set<Listener>();

  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  emit(event: ClientEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch {
        // A UI bug must not break the client's state machine.
      }
    }
  }
}
