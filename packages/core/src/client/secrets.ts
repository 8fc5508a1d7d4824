/**
 * The invite secrets a room used while this device was in it (a ban or kick changes the secret,
 * docs/protocol.md "Room policy"), and the newest epoch each member was heard from in. A join
 * request proven under an old secret is from an old link (refused `E_LINK_REVOKED`), unless it
 * is a member re-admitting itself that missed the change: made after the change, by a member not
 * heard from since (commits.ts). Times are wall-clock, as KeyPackage lifetimes are.
 */
import { toBase64Url } from '../protocol/ids.js';
import { bytesEqual } from '../protocol/bytes.js';
import { BOUNDS } from './bounds.js';

/** Secrets kept (each ban adds one). */
const KEPT = 8;

export type OldSecret = { secret: Uint8Array; retiredAt: number; retiredEpoch: number };

export class SecretHistory {
  /** Oldest first, each with when it came into use here, and from which epoch. */
  readonly #secrets: Array<{ secret: Uint8Array; since: number; epoch: number }> = [];
  /** The newest epoch each member (by fingerprint, base64url) was heard from in: a message or a commit of theirs. Bounded (BOUNDS.heardMembers). */
  readonly #heardIn = new Map<string, number>();

  /** The room's secret at `epoch`: recorded if it is new to this device. */
  note(secret: Uint8Array, epoch: number): void {
    const known = this.#secrets.at(-1);
    if (known && bytesEqual(known.secret, secret)) return;
    this.#secrets.push({ secret, since: Date.now(), epoch });
    if (this.#secrets.length > KEPT) this.#secrets.shift();
  }

  /** The secrets used before `current`, with when this device stopped using each and the epoch from which the next one was in force. */
  old(current: Uint8Array, epoch: number): OldSecret[] {
    const all = this.#secrets;
    const now = { since: Date.now(), epoch };
    return all.flatMap((s, i) => {
      const next = all[i + 1] ?? now;
      return bytesEqual(s.secret, current) ? [] : [{ secret: s.secret, retiredAt: next.since, retiredEpoch: next.epoch }];
    });
  }

  heard(fingerprint: Uint8Array, epoch: number): void {
    const fp = toBase64Url(fingerprint);
    const was = this.#heardIn.get(fp) ?? -1;
    // Re-inserted: the map stays in least-recently-heard order, and past the bound the member
    // heard from longest ago is forgotten (a room holds far fewer members: bounds.ts).
    this.#heardIn.delete(fp);
    this.#heardIn.set(fp, Math.max(was, epoch));
    if (this.#heardIn.size > BOUNDS.heardMembers) this.#heardIn.delete(this.#heardIn.keys().next().value ?? '');
  }

  /** Whether the member with this fingerprint was heard from in `epoch` or later (it has that epoch's state). */
  heardSince(fingerprint: Uint8Array, epoch: number): boolean {
    return (this.#heardIn.get(toBase64Url(fingerprint)) ?? -1) >= epoch;
  }
}
