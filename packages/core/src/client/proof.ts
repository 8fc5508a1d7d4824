/**
 * Proving the room's current epoch to the relay (docs/protocol.md "Membership authority"): `sub`
 * with the epoch's relay key and its signature over this connection's nonce, after every
 * (re)connect and every epoch change; and what to do when the relay refuses it (back off, catch
 * up, say so once). While this device is at an epoch whose next commit it refused (it broke the
 * room's policy, or could not be processed), its `sub` names that commit: the relay puts it with
 * those who refused the same, in a fork of the room (`fork`).
 *
 * A newcomer's first proof after its Welcome says so (`first`): the relay takes it only into the
 * room's line (the cohorts most members follow), never into a rival group that someone holding
 * the link made around the newcomer's KeyPackage (`confirm`;
 * `admit` takes or drops a first join's group on its verdict).
 */
import type { GroupSession } from '../e2ee/api.js';
import type { ErrorCode } from '../protocol/errors.js';
import { toBase64Url } from '../protocol/ids.js';
import { subStatement } from '../protocol/relayAuth.js';
import type { Room } from './room.js';

export class MembershipProof {
  readonly #room: Room;
  /** The commit this device refused at an epoch: while at that epoch, its `sub`s ask for the fork refusing it. */
  fork: { epoch: number; commit: string } | undefined;
  /** A Welcome off the relay's line was refused (said once). */
  #offLineSaid = false;
  /** While this device's first proof after a Welcome is unanswered: settles `confirm`. */
  #first: { settle(verdict: 'on-line' | 'refused' | 'timeout'): void; refusals: number } | undefined;
  /** `sub`s the relay refused in a row at the same epoch (backoff, then a warning). */
  readonly #refusals = { epoch: -1, count: 0, timer: undefined as { cancel(): void } | undefined };

  constructor(room: Room) {
    this.#room = room;
  }

  /**
   * Sends the proof. One overtaken by a newer epoch or connection is dropped (the newer one
   * follows). `afresh`: unsubscribe first, so that the relay sends the commits since this epoch
   * again; the `unsub` goes right before the `sub`, once it is signed, or what the room says in
   * between would reach this device neither live nor kept for it.
   */
  async subscribe(options: { afresh?: boolean } = {}): Promise<void> {
    const room = this.#room;
    const { ctx } = room;
    const session = room.session;
    const nonce = ctx.nonce();
    if (!session || room.state !== 'member' || nonce === undefined) return;
    const key = await session.relayKey();
    const sig = await key.sign(subStatement(nonce, room.id, key.epoch));
    if (room.session !== session || room.state !== 'member' || ctx.nonce() !== nonce || session.epoch() !== key.epoch) return;
    const fork = this.fork?.epoch === key.epoch ? { fork: this.fork.commit } : {};
    const first = this.#first ? { first: true as const } : {};
    if (options.afresh === true) ctx.send({ v: 1, t: 'unsub', room: room.id });
    ctx.send({ v: 1, t: 'sub', room: room.id, epoch: key.epoch, key: toBase64Url(key.publicKey), sig: toBase64Url(sig), ...fork, ...first });
  }

  /**
   * The first proof after a Welcome: 'on-line' once the relay took it (it tells the room's
   * presence, or sends the commits since from the line's log); 'refused' when it refused it twice
   * (the relay's line for this room does not hold this group); 'timeout' when it said nothing.
   */
  confirm(timeoutMs: number): Promise<'on-line' | 'refused' | 'timeout'> {
    const { clock } = this.#room.ctx;
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => settle('timeout'), timeoutMs);
      const settle = (verdict: 'on-line' | 'refused' | 'timeout'): void => {
        if (this.#first?.settle !== settle) return;
        this.#first = undefined;
        timer.cancel();
        resolve(verdict);
      };
      this.#first = { settle, refusals: 0 };
      void this.subscribe();
    });
  }

  /** The relay told this room's presence: a first proof was taken. */
  onPresence(): void {
    this.#first?.settle('on-line');
  }

  /**
   * The relay refused our `sub`: E_STALE_EPOCH (we are behind: the commits we missed came just
   * before, from its log, or we did not prove the last epoch in time) or E_NOT_MEMBER (our proof
   * did not verify: a newer connection's nonce, or a relay that lies). Subscribe again once the
   * commits in the queue are processed, backing off while nothing changes; a device that stays
   * refused says so once.
   */
  refused(code: ErrorCode, epoch: number | undefined): void {
    const room = this.#room;
    // A cluster's relay that cannot reach its bus just now (it disconnects us too): subscribe again a little later.
    if (code === 'E_UNAVAILABLE') return void room.ctx.clock.setTimeout(() => void this.subscribe(), room.ctx.timing.rankDelayMs);
    if (code !== 'E_STALE_EPOCH' && code !== 'E_NOT_MEMBER' && code !== 'E_ROOM_LIMIT') return;
    const first = this.#first;
    if (first) {
      // Behind, on the line: the relay sent the commits since (the room moved on since the Welcome).
      if (code === 'E_STALE_EPOCH') first.settle('on-line');
      // Twice, not once: a proof signed for a connection that just dropped is refused too.
      else if (code === 'E_NOT_MEMBER' && ++first.refusals >= 2) return first.settle('refused');
      else if (code === 'E_NOT_MEMBER') return void room.ctx.clock.setTimeout(() => void this.subscribe(), room.ctx.timing.rankDelayMs);
    }
    void room.enqueue(async () => {
      const { ctx } = room;
      const session = room.session;
      if (!session || room.state !== 'member') return;
      const r = this.#refusals;
      if (r.epoch !== session.epoch()) {
        r.epoch = session.epoch();
        r.count = 0;
      }
      r.count += 1;
      if (r.count === 4)
        ctx.emit({
          type: 'error',
          code,
          message: `this device cannot catch up with ${room.roomName}: the relay refuses its proof of membership (epoch ${session.epoch()}${epoch === undefined ? '' : `, the room is at ${epoch}`}); it keeps trying, but you may have been removed, or the relay may be interfering`,
          room: room.id,
        });
      const { staleBackoffMs, staleBackoffCapMs } = ctx.timing;
      const delay = r.count === 1 ? 0 : Math.min(staleBackoffCapMs, staleBackoffMs * 2 ** (r.count - 2)) * (0.5 + ctx.random() / 2);
      r.timer?.cancel();
      r.timer = ctx.clock.setTimeout(() => void this.subscribe(), delay);
      await Promise.resolve();
    });
  }

  /**
   * A first join's group, checked with the relay before it is taken (proof.ts `confirm`): true
   * once the relay's line for the room holds it; false when it does not (someone holding the
   * link made a group of its own around our KeyPackage: said once, and the genuine Welcome may
   * still come) or the relay never answered (the room ends, as a join that timed out). A direct
   * room's joiner checked its group already (exactly the two of them): it only subscribes.
   */
  async admit(session: GroupSession): Promise<boolean> {
    const room = this.#room;
    room.session = session;
    room.state = 'member';
    if (room.direct) return room.subscribe().then(() => true);
    const verdict = await this.confirm(room.ctx.timing.joinTimeoutMs);
    if (verdict === 'on-line') return true;
    room.session = undefined;
    room.state = 'joining';
    room.ctx.send({ v: 1, t: 'unsub', room: room.id });
    if (verdict === 'timeout') {
      room.ctx.emit({ type: 'error', code: 'E_JOIN_TIMEOUT', message: `the relay did not confirm your admission to ${room.roomName}; try again`, room: room.id });
      room.close('timeout', undefined, 'E_JOIN_TIMEOUT');
      return false;
    }
    if (!this.#offLineSaid) {
      this.#offLineSaid = true;
      room.ctx.emit({
        type: 'error',
        code: 'E_FORBIDDEN',
        message: `refused a Welcome into a group that is not ${room.roomName} as the relay holds it (someone holding the link tried to put you in a room of their own); still waiting for the room's members`,
        room: room.id,
      });
    }
    return false;
  }
  stop(): void {
    this.#refusals.timer?.cancel();
  }
}
