/**
 * Direct messages (docs/protocol.md "Direct messages"): a two-member room per peer, created on
 * the first `/msg`. The room's policy names its two members for good (e2ee/policy.ts). The
 * inviter sends `{t:"dm", to, room, key, enc, ct}` in a room both share: the direct room's
 * secret, sealed to the invitee's leaf key there (e2ee/seal.ts), so no other member of that
 * room learns it. It admits only the key whose fingerprint is `to`, and the invitee takes a
 * Welcome only into a group of exactly the two of them (e2ee.ts). Messages wait here until the
 * peer is in. An invitation is sent again when someone subscribes to the room it went to (the
 * relay keeps nothing for the absent), at most once per `REINVITE` interval, which doubles,
 * sealed afresh to the invitee's leaf key of the moment.
 */
import type { Member, Sealed } from '../e2ee/api.js';
import { fromBase64Url, isId, randomBytes, randomId, toBase64Url } from '../protocol/ids.js';
import { LIMITS } from '../protocol/limits.js';
import { BOUNDS, DIRECT_QUEUE_FULL } from './bounds.js';
import type { TimerId } from './clock.js';
import type { AppPayload } from './envelope.js';
import { bytesEqual } from '../protocol/bytes.js';
import { Room, type SendResult } from './room.js';

type Invite = Extract<AppPayload, { t: 'dm' }>;
type PendingInvite = { via: string; payload: Invite; sentAt: number; intervalMs: number; timer: TimerId | undefined };

/** Re-sending an invitation: first after 2 s, the interval doubling to 1 min. */
export const REINVITE = { firstMs: 2_000, maxMs: 60_000 } as const;

const utf8 = new TextEncoder();

/** What the sealed secret is bound to: the room it travels in, the direct room, inviter and invitee. */
function sealContext(via: string, room: string, from: Uint8Array, to: Uint8Array): Uint8Array {
  return utf8.encode(`safehouse dm v1|${via}|${room}|${toBase64Url(from)}|${toBase64Url(to)}`);
}

export interface DirectHost {
  rooms: Map<string, Room>;
  addRoom(room: Room): void;
  ctx: Room['ctx'];
}

type Queued = { id: string; text: string; action: boolean };

export class DirectMessages {
  readonly #host: DirectHost;
  /** Peer fingerprint (base64url) → direct room id. */
  readonly #byPeer = new Map<string, string>();
  /** Direct room id → messages waiting for the peer. */
  readonly #queued = new Map<string, Queued[]>();
  /** Direct room id → the invitation sent for it and the room it went to, until the peer is in. */
  readonly #invites = new Map<string, PendingInvite>();

  constructor(host: DirectHost) {
    this.#host = host;
  }

  roomFor(peer: Uint8Array): Room | undefined {
    const id = this.#byPeer.get(toBase64Url(peer));
    return id === undefined ? undefined : this.#host.rooms.get(id);
  }

  /** The peer is a member and subscribed (else the relay would not pass it what we send). */
  #ready(room: Room): boolean {
    const peer = room.direct;
    return peer !== undefined && room.isMember() && room.presence >= 2 && room.others().some((m) => bytesEqual(m.fingerprint, peer.fingerprint));
  }

  /**
   * Sends `text` to `peer` (a member of `via`): at once if the direct room is ready, else queued,
   * creating the room and sending the invitation in `via` first if there is none.
   */
  async send(via: Room, peer: Member, text: string, action = false): Promise<SendResult | { ok: true; queued: true } | { ok: false; code: 'E_UNKNOWN_MEMBER'; message: string }> {
    let room = this.roomFor(peer.fingerprint);
    if (room && this.#ready(room)) return room.send({ t: action ? 'me' : 'text', text });
    if (!room) {
      const ctx = this.#host.ctx;
      const secret = randomBytes(32);
      room = await Room.create(ctx, randomId(), peer.name, secret, { fingerprint: peer.fingerprint.slice(), name: peer.name });
      this.#host.addRoom(room);
      this.#byPeer.set(toBase64Url(peer.fingerprint), room.id);
      const invite = await this.#seal(via, room, peer.fingerprint);
      const sent = invite ? await via.send(invite) : { ok: false as const, code: 'E_UNKNOWN_MEMBER' as const, message: `${peer.name} is no longer in ${via.roomName}` };
      if (!sent.ok || !invite) {
        room.close('left');
        return sent;
      }
      this.#invites.set(room.id, { via: via.id, payload: invite, sentAt: ctx.clock.now(), intervalMs: REINVITE.firstMs, timer: undefined });
    }
    const q = this.#queued.get(room.id) ?? [];
    if (q.length >= BOUNDS.queuedDirect) return DIRECT_QUEUE_FULL;
    const id = randomId();
    q.push({ id, text, action });
    this.#queued.set(room.id, q);
    // Echo at once, as for any message we send; it leaves when the peer is in.
    await room.echo(id, text, action);
    return { ok: true, queued: true };
  }

  /** The invitation to `room` for `to`, its secret sealed to `to` in `via`; undefined if `to` is not a member there. */
  async #seal(via: Room, room: Room, to: Uint8Array): Promise<Invite | undefined> {
    const session = via.session;
    const context = sealContext(via.id, room.id, this.#host.ctx.identity.fingerprint, to);
    const sealed = session && (await session.sealFor(to, context, room.secret));
    if (!sealed) return undefined;
    return { t: 'dm', to: toBase64Url(to), room: room.id, key: toBase64Url(sealed.key), enc: toBase64Url(sealed.enc), ct: toBase64Url(sealed.ct) };
  }

  /** `{t:"dm"}` arrived in `via` from `sender`: join if it is for us and opens. */
  async onInvite(via: Room, sender: Member, invite: Invite): Promise<void> {
    const ctx = this.#host.ctx;
    const to = fromBase64Url(invite.to);
    if (!to || !bytesEqual(to, ctx.identity.fingerprint) || !isId(invite.room)) return;
    if (this.#host.rooms.has(invite.room) || via.id === invite.room) return;
    const existing = this.roomFor(sender.fingerprint);
    // One room per peer: a joining or working one stays (this also bounds what a member spamming
    // invitations can make us do).
    if (existing && (existing.state === 'joining' || this.#ready(existing))) return;
    // Rooms are bounded as on the relay: an invitation past that is not followed.
    if (this.#host.rooms.size >= LIMITS.maxRoomsPerConnection) return ctx.limit('rooms', `an invitation to a direct room was not followed: this device is in ${LIMITS.maxRoomsPerConnection} rooms already`);
    const sealed = unpack(invite);
    const secret = sealed && (await via.session?.openSealed(sealContext(via.id, invite.room, sender.fingerprint, to), sealed));
    if (!secret || secret.length !== 32 || this.#host.rooms.has(invite.room)) return;
    const room = Room.join(ctx, { room: invite.room, secret, inviter: sender.fingerprint }, sender.name, { fingerprint: sender.fingerprint.slice(), name: sender.name });
    this.#host.addRoom(room);
    this.#byPeer.set(toBase64Url(sender.fingerprint), room.id);
  }

  /**
   * Someone subscribed to `roomId`: the relay keeps nothing, so an invitation sent there while
   * the peer was away never reached it; send it again (the peer ignores one it already has), at
   * most once per interval: the relay decides when presence changes.
   */
  reinvite(roomId: string): void {
    const now = this.#host.ctx.clock.now();
    for (const [dm, invite] of this.#invites) {
      const room = this.#host.rooms.get(dm);
      if (!room) {
        this.#dropInvite(dm);
        continue;
      }
      if (invite.via !== roomId || invite.timer !== undefined) continue;
      // Too soon after the last one: once the interval is over (one timer per invitation).
      const wait = invite.sentAt + invite.intervalMs - now;
      invite.timer = this.#host.ctx.clock.setTimeout(() => {
        invite.timer = undefined;
        this.#resend(dm, invite);
      }, Math.max(0, wait));
    }
  }

  #dropInvite(dm: string): void {
    this.#invites.get(dm)?.timer?.cancel();
    this.#invites.delete(dm);
  }

  #resend(dm: string, invite: PendingInvite): void {
    const room = this.#host.rooms.get(dm);
    const via = this.#host.rooms.get(invite.via);
    if (!room || this.#invites.get(dm) !== invite || !via?.isMember()) return;
    invite.sentAt = this.#host.ctx.clock.now();
    invite.intervalMs = Math.min(REINVITE.maxMs, invite.intervalMs * 2);
    // Sealed afresh to the peer's leaf key of now (its commits change it).
    void via.enqueue(async () => {
      const payload = await this.#seal(via, room, fromBase64Url(invite.payload.to)!);
      if (payload) {
        invite.payload = payload;
        void via.send(payload);
      }
    });
  }

  /** Members of a room changed: flush what waits for its peer. */
  flush(roomId: string): void {
    const room = this.#host.rooms.get(roomId);
    const q = this.#queued.get(roomId);
    if (room && this.#ready(room)) this.#dropInvite(roomId);
    if (!room || !q || !this.#ready(room)) return;
    this.#queued.delete(roomId);
    void (async () => {
      for (const [i, m] of q.entries()) {
        const r = await room.send({ t: m.action ? 'me' : 'text', text: m.text }, { id: m.id, echo: false });
        // The outbox is full: what is left waits for the next flush, in order (nothing is lost).
        if (!r.ok && r.code === 'E_LIMIT') {
          this.#queued.set(roomId, [...q.slice(i), ...(this.#queued.get(roomId) ?? [])]);
          return;
        }
      }
    })();
  }

  /** Messages still waiting for a peer. */
  get queuedCount(): number {
    let n = 0;
    for (const q of this.#queued.values()) n += q.length;
    return n;
  }

  /** Invitations waiting for their peer (tests). */
  get pendingInvites(): number {
    return this.#invites.size;
  }

  forget(roomId: string): void {
    this.#queued.delete(roomId);
    this.#dropInvite(roomId);
    for (const [peer, id] of this.#byPeer) if (id === roomId) this.#byPeer.delete(peer);
  }
}

function unpack(invite: Invite): Sealed | undefined {
  const key = fromBase64Url(invite.key);
  const enc = fromBase64Url(invite.enc);
  const ct = fromBase64Url(invite.ct);
  return key && enc && ct ? { key, enc, ct } : undefined;
}
