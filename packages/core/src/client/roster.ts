/**
 * What a room tells about its members as they change: `member-joined`, `member-left` (left, or
 * removed by whom, or removed as absent), re-admissions (neither a leave nor a join), names that
 * break the rules or look like another's, and keys pinned on first use (a changed key is
 * announced loudly). Also who may still be heard from in an epoch they were removed from: a
 * message sent before a removal may arrive just after it (docs/protocol.md "Leaving").
 */
import type { Member } from '../e2ee/api.js';
import { toBase64Url } from '../protocol/ids.js';
import type { Absence } from './absence.js';
import { checkNameAvailable, normalizeName } from './names.js';
import { bytesEqual } from '../protocol/bytes.js';
import { type Room } from './room.js';

export class Roster {
  readonly #room: Room;
  readonly #absence: Absence;
  /** Members removed within `inFlightGraceMs`, by fingerprint (base64url): when. */
  readonly #removedAt = new Map<string, number>();

  constructor(room: Room, absence: Absence) {
    this.#room = room;
    this.#absence = absence;
  }

  /**
   * A message of an earlier epoch counts only from a sender that is still a member (by its
   * key), or one removed less than `inFlightGraceMs` ago: a message it sent before the commit
   * may come after it (a resend after a reconnect). Otherwise a member that ignores its own
   * removal could go on posting with the old epoch's keys (docs/protocol.md "Leaving").
   */
  stillSending(sender: Member): boolean {
    const { ctx } = this.#room;
    const fp = toBase64Url(sender.fingerprint);
    if (this.#room.members().some((m) => toBase64Url(m.fingerprint) === fp)) return true;
    const at = this.#removedAt.get(fp);
    return at !== undefined && ctx.clock.now() - at < ctx.timing.inFlightGraceMs;
  }

  /** Pins and events for a change of membership; `by` removed the members not in `left` (`absent`: for absence). */
  async changed(added: readonly Member[], removed: readonly Member[], updated: readonly Member[], how: { left: readonly Member[]; by: string | undefined; absent?: boolean }): Promise<void> {
    const room = this.#room;
    const { ctx } = room;
    const now = ctx.clock.now();
    this.#absence.membersChanged(added, how.absent ? removed.filter((m) => !how.left.some((l) => l.leaf === m.leaf)) : []);
    for (const [fp, at] of this.#removedAt) if (now - at >= ctx.timing.inFlightGraceMs) this.#removedAt.delete(fp);
    for (const m of removed) this.#removedAt.set(toBase64Url(m.fingerprint), now);
    // A re-admission (the same identity removed and added in one commit) is neither a leave nor a join.
    const back = added.filter((a) => removed.some((r) => bytesEqual(r.fingerprint, a.fingerprint)));
    const again = (m: Member) => back.some((b) => bytesEqual(b.fingerprint, m.fingerprint));
    for (const m of back) ctx.emit({ type: 'info', message: `${m.name} was re-admitted to ${room.roomName} (its device had fallen behind)`, room: room.id });
    for (const m of removed) {
      if (again(m)) continue;
      const left = how.left.some((l) => l.leaf === m.leaf) || how.by === undefined;
      ctx.emit({ type: 'member-left', room: room.id, roomName: room.roomName, name: m.name, ...(left ? {} : { by: how.by }), ...(!left && how.absent ? { absent: true as const } : {}) });
    }
    for (const m of added) {
      await this.observe(m);
      if (again(m)) continue;
      const fingerprint = await ctx.fingerprint(m.fingerprint);
      ctx.emit({ type: 'member-joined', room: room.id, roomName: room.roomName, name: m.name, fingerprint, ...(room.direct ? { direct: true as const } : {}) });
      this.#checkName(m, fingerprint);
    }
    for (const m of updated) await this.observe(m);
    if (added.length > 0) ctx.onMembersChanged(room.id);
  }

  /** Records a member's key (TOFU); a changed key is announced loudly. */
  async observe(m: Member): Promise<void> {
    const room = this.#room;
    const { ctx } = room;
    if (m.leaf === room.session?.myLeaf()) return;
    if (ctx.pins.observe(m.name, m.fingerprint) !== 'changed') return;
    const fp = await ctx.fingerprint(m.fingerprint);
    const message = ctx.pins.isBlocked(m.name, m.fingerprint)
      ? `the key of ${m.name}, whom you verified, changed (now ${fp}); messages to this room are held until you compare safety numbers again (/verify ${m.name}) or accept the key (/trust ${m.name})`
      : `the key of ${m.name} changed (now ${fp}); compare safety numbers (/verify ${m.name}) before you trust it`;
    ctx.emit({ type: 'key-changed', room: room.id, roomName: room.roomName, name: m.name, message });
  }

  /** Members whose key is not the verified pin of their name: sending is refused until the user verifies or trusts that key. */
  blocked(): string[] {
    const { pins } = this.#room.ctx;
    return this.#room
      .others()
      .filter((m) => pins.isBlocked(m.name, m.fingerprint))
      .map((m) => m.name);
  }

  /**
   * Our committer refuses bad and look-alike names, but the member who added `m` may run other
   * code: if the name breaks the rules, say so, with the fingerprint that tells them apart.
   */
  #checkName(m: Member, fingerprint: string): void {
    const room = this.#room;
    const n = normalizeName(m.name);
    const others = [...room.members().filter((o) => o.leaf !== m.leaf), ...this.#absence.reservedNames()].filter((o) => !bytesEqual(o.fingerprint, m.fingerprint));
    const taken = n.ok && n.name === m.name ? checkNameAvailable(m.name, others.map((o) => o.name)) : undefined;
    if (taken?.ok) return;
    const code = taken ? 'E_NAME_TAKEN' : 'E_NAME_INVALID';
    const why = taken ? 'looks like the name of another member' : 'breaks the name rules';
    room.ctx.emit({ type: 'error', code, message: `warning: a member was admitted under a name that ${why}; tell members apart by fingerprint (${fingerprint}), see /users`, room: room.id });
  }
}
