/**
 * Our authentication service (RFC 9420 §5.3.1 leaves the binding of credentials to identities
 * to the application): trust on first use, per (display name, key), in memory.
 *
 * Each name has one pinned key; "verified" belongs to that key, never to the name. Every
 * judgement takes the key it is about, so what one key did (was seen again, was verified) never
 * changes what another key of the same name may do (docs/security.md, "pins judged by name").
 *
 * - `observe(name, fp)`: the first key seen for a name is pinned ('new'); the pinned key again
 *   is 'same'; another key is 'changed' — every time, until the user acts on that key.
 * - `verify(name, fp)`: the user compared safety numbers for `fp`; it becomes the pin, verified.
 * - `trust(name, fp)`: the user accepts `fp` without comparing; it becomes the pin, unverified
 *   (the verified mark belonged to the old key and goes with it, as in Signal).
 * - `isBlocked(name, fp)`: `fp` is not the pinned key of a name whose pinned key is verified.
 *   The client must not send to a room with a member so blocked until the user verifies or
 *   trusts that very key. Seeing the pinned key again, in this room or any other, unblocks
 *   nothing: a block is lifted only by acting on the key it is about.
 * - `isVerified(name, fp)`: `fp` is the pinned key of `name`, and verified.
 */
import type { Fingerprint } from './api.js';
import { bytesEqual } from './bytes.js';

export type PinObservation = 'new' | 'same' | 'changed';

interface Pin {
  pinned: Uint8Array;
  /** Whether the user verified the *pinned* key. */
  verified: boolean;
  /** The latest other key seen for this name (information only: blocking never reads it). */
  changedTo: Uint8Array | undefined;
}

function checkFingerprint(fp: unknown): asserts fp is Uint8Array {
  if (!(fp instanceof Uint8Array) || fp.length !== 32) {
    throw new TypeError(
      `"fingerprint" expected Uint8Array of length 32, got ${fp instanceof Uint8Array ? `length=${fp.length}` : typeof fp}`,
    );
  }
}

export interface PinState {
  /** The pinned key. */
  readonly fingerprint: Fingerprint;
  /** Whether the pinned key (not the name) was verified. */
  readonly verified: boolean;
  /** The latest other key seen for this name, until the user verifies or trusts one. */
  readonly changedTo?: Fingerprint;
}

export class PinStore {
  readonly #pins = new Map<string, Pin>();

  /** Records a key seen for `name` and says how it compares with the pin. */
  observe(name: string, fingerprint: Fingerprint): PinObservation {
    checkFingerprint(fingerprint);
    const pin = this.#pins.get(name);
    if (pin === undefined) {
      this.#pins.set(name, { pinned: fingerprint.slice(), verified: false, changedTo: undefined });
      return 'new';
    }
    if (bytesEqual(pin.pinned, fingerprint)) return 'same';
    pin.changedTo = fingerprint.slice();
    return 'changed';
  }

  /** Like `observe`, without recording anything. */
  check(name: string, fingerprint: Fingerprint): PinObservation {
    checkFingerprint(fingerprint);
    const pin = this.#pins.get(name);
    if (pin === undefined) return 'new';
    return bytesEqual(pin.pinned, fingerprint) ? 'same' : 'changed';
  }

  /** The user compared safety numbers for `fingerprint`: it becomes the pin of `name`, verified. */
  verify(name: string, fingerprint: Fingerprint): void {
    checkFingerprint(fingerprint);
    this.#pins.set(name, { pinned: fingerprint.slice(), verified: true, changedTo: undefined });
  }

  /**
   * The user accepts `fingerprint` for `name` without comparing. The pinned key again changes
   * nothing (a verified key stays verified); another key becomes the pin, unverified.
   */
  trust(name: string, fingerprint: Fingerprint): void {
    checkFingerprint(fingerprint);
    const pin = this.#pins.get(name);
    if (pin !== undefined && bytesEqual(pin.pinned, fingerprint)) return;
    this.#pins.set(name, { pinned: fingerprint.slice(), verified: false, changedTo: undefined });
  }

  /** `fingerprint` is the pinned key of `name`, and the user verified it. */
  isVerified(name: string, fingerprint: Fingerprint): boolean {
    checkFingerprint(fingerprint);
    const pin = this.#pins.get(name);
    return pin !== undefined && pin.verified && bytesEqual(pin.pinned, fingerprint);
  }

  /** A key other than the verified pin of `name`: do not send to it until `verify` or `trust` of that key. */
  isBlocked(name: string, fingerprint: Fingerprint): boolean {
    checkFingerprint(fingerprint);
    const pin = this.#pins.get(name);
    return pin !== undefined && pin.verified && !bytesEqual(pin.pinned, fingerprint);
  }

  get(name: string): PinState | undefined {
    const pin = this.#pins.get(name);
    if (pin === undefined) return undefined;
    return {
      fingerprint: pin.pinned.slice(),
      verified: pin.verified,
      ...(pin.changedTo ? { changedTo: pin.changedTo.slice() } : {}),
    };
  }

  forget(name: string): void {
    this.#pins.delete(name);
  }
}
