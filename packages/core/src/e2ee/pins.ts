/**
 * Our authentication service (RFC 9420 §5.3.1 leaves the binding of credentials to identities
 * to the application): trust on first use, per display name, in memory.
 *
 * - `observe(name, fp)`: the first key seen for a name is pinned ('new'); the same key again is
 *   'same'; another key is 'changed' — every time, until the user acts.
 * - `verify(name)`: the user compared safety numbers for the key seen now; it becomes the pin,
 *   marked verified.
 * - `isBlocked(name)`: a *verified* member whose key changed. The client must not send to a room
 *   with a blocked member until the user re-verifies (`verify`) or accepts the key (`trust`).
 * - `trust(name)`: accept the key seen now as the pin, unverified (the user chose to accept a
 *   change without comparing; the verified mark is lost, as in Signal).
 */
import type { Fingerprint } from './api.js';
import { bytesEqual } from './bytes.js';

export type PinObservation = 'new' | 'same' | 'changed';

interface Pin {
  pinned: Uint8Array;
  /** The latest key seen, when it differs from the pin. */
  seen: Uint8Array | undefined;
  verified: boolean;
}

function checkFingerprint(fp: unknown): asserts fp is Uint8Array {
  if (!(fp instanceof Uint8Array) || fp.length !== 32) {
    throw new TypeError(
      `"fingerprint" expected Uint8Array of length 32, got ${fp instanceof Uint8Array ? `length=${fp.length}` : typeof fp}`,
    );
  }
}

export interface PinState {
  readonly fingerprint: Fingerprint;
  readonly verified: boolean;
  /** The key seen last, when it differs from the pinned one. */
  readonly changedTo?: Fingerprint;
}

export class PinStore {
  readonly #pins = new Map<string, Pin>();

  /** Records a key seen for `name` and says how it compares with the pin. */
  observe(name: string, fingerprint: Fingerprint): PinObservation {
    checkFingerprint(fingerprint);
    const pin = this.#pins.get(name);
    if (pin === undefined) {
      this.#pins.set(name, { pinned: fingerprint.slice(), seen: undefined, verified: false });
      return 'new';
    }
    if (bytesEqual(pin.pinned, fingerprint)) {
      pin.seen = undefined;
      return 'same';
    }
    pin.seen = fingerprint.slice();
    return 'changed';
  }

  /** Like `observe`, without recording anything. */
  check(name: string, fingerprint: Fingerprint): PinObservation {
    checkFingerprint(fingerprint);
    const pin = this.#pins.get(name);
    if (pin === undefined) return 'new';
    return bytesEqual(pin.pinned, fingerprint) ? 'same' : 'changed';
  }

  /** The user compared safety numbers for the key seen now. False for an unknown name. */
  verify(name: string): boolean {
    const pin = this.#pins.get(name);
    if (pin === undefined) return false;
    if (pin.seen !== undefined) pin.pinned = pin.seen;
    pin.seen = undefined;
    pin.verified = true;
    return true;
  }

  /** Accepts the key seen now, unverified. False for an unknown name. */
  trust(name: string): boolean {
    const pin = this.#pins.get(name);
    if (pin === undefined) return false;
    if (pin.seen !== undefined) {
      pin.pinned = pin.seen;
      pin.seen = undefined;
      pin.verified = false;
    }
    return true;
  }

  isVerified(name: string): boolean {
    return this.#pins.get(name)?.verified === true;
  }

  /** A verified member whose key changed: do not send to it until `verify` or `trust`. */
  isBlocked(name: string): boolean {
    const pin = this.#pins.get(name);
    return pin !== undefined && pin.verified && pin.seen !== undefined;
  }

  get(name: string): PinState | undefined {
    const pin = this.#pins.get(name);
    if (pin === undefined) return undefined;
    return {
      fingerprint: pin.pinned.slice(),
      verified: pin.verified,
      ...(pin.seen ? { changedTo: pin.seen.slice() } : {}),
    };
  }

  forget(name: string): void {
    this.#pins.delete(name);
  }
}
