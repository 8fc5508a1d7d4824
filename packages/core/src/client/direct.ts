/**
 * Direct messages (docs/protocol.md "Direct messages"): a two-member room per peer, created on
 * the first `/msg`. The inviter sends `{t:"dm", to, room, secret}` in a room both share and
 * admits only the key whose fingerprint is `to`; messages wait here until the peer is in.
 */
import type { Member } from '../e2ee/api.js';
import { fromBase64Url, isId, randomBytes, randomId, toBase64Url } from '../protocol/ids.js';
import type { AppPayload } from './envelope.js';
import { bytesEqual, Room, type SendResult } from './room.js';

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
  readonly #invites = new Map<string, { via: string; payload: AppPayload }>();

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
  async send(via: Room, peer: Member, text: string, action = false): Promise<SendResult | { ok: true; queued: true }> {
    let room = this.roomFor(peer.fingerprint);
    if (room && this.#ready(room)) return room.send({ t: action ? 'me' : 'text', text });
    if (!room) {
      const ctx = this.#host.ctx;
      const secret = randomBytes(32);
      room = await Room.create(ctx, randomId(), peer.name, secret, { fingerprint: peer.fingerprint.slice(), name: peer.name });
      this.#host.addRoom(room);
      this.#byPeer.set(toBase64Url(peer.fingerprint), room.id);
      const invite: AppPayload = { t: 'dm', to: toBase64Url(peer.fingerprint), room: room.id, secret: toBase64Url(secret) };
      const sent = await via.send(invite);
      if (!sent.ok) {
        room.close('left');
        return sent;
      }
      this.#invites.set(room.id, { via: via.id, payload: invite });
    }
    const q = this.#queued.get(room.id) ?? [];
    const id = randomId();
    q.push({ id, text, action });
    this.#queued.set(room.id, q);
    // Echo at once, as for any message we send; it leaves when the peer is in.
    await room.echo(id, text, action);
    return { ok: true, queued: true };
  }

  /** `{t:"dm"}` arrived in `via` from `sender`: join if it is for us. */
  onInvite(via: string, sender: Member, invite: Extract<AppPayload, { t: 'dm' }>): void {
    const ctx = this.#host.ctx;
    const to = fromBase64Url(invite.to);
    const secret = fromBase64Url(invite.secret);
    if (!to || !bytesEqual(to, ctx.identity.fingerprint) || !secret || secret.length !== 32 || !isId(invite.room)) return;
    if (this.#host.rooms.has(invite.room) || via === invite.room) return;
    const existing = this.roomFor(sender.fingerprint);
    // One room per peer: a joining or working one stays (this also bounds what a member spamming
    // invitations can make us do).
    if (existing && (existing.state === 'joining' || this.#ready(existing))) return;
    const room = Room.join(ctx, { room: invite.room, secret, inviter: sender.fingerprint }, sender.name, { fingerprint: sender.fingerprint.slice(), name: sender.name });
    this.#host.addRoom(room);
    this.#byPeer.set(toBase64Url(sender.fingerprint), room.id);
  }

  /**
   * Someone subscribed to `roomId`: the relay keeps nothing, so an invitation sent there while
   * the peer was away never reached it; send it again (the peer ignores one it already has).
   */
  reinvite(roomId: string): void {
    for (const [dm, { via, payload }] of this.#invites) {
      const room = this.#host.rooms.get(via);
      if (via === roomId && room?.isMember()) void room.send(payload);
      if (!this.#host.rooms.has(dm)) this.#invites.delete(dm);
    }
  }

  /** Members of a room changed: flush what waits for its peer. */
  flush(roomId: string): void {
    const room = this.#host.rooms.get(roomId);
    const q = this.#queued.get(roomId);
    if (room && this.#ready(room)) this.#invites.delete(roomId);
    if (!room || !q || !this.#ready(room)) return;
    this.#queued.delete(roomId);
    for (const m of q) void room.send({ t: m.action ? 'me' : 'text', text: m.text }, { id: m.id, echo: false });
  }

  /** Messages still waiting for a peer. */
  get queuedCount(): number {
    let n = 0;
    for (const q of this.#queued.values()) n += q.length;
    return n;
  }

  forget(roomId: string): void {
    this.#queued.delete(roomId);
    this.#invites.delete(roomId);
    for (const [peer, id] of this.#byPeer) if (id === roomId) this.#byPeer.delete(peer);
  }
}
