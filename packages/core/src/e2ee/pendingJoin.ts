/**
 * The joiner's half of a join (`PendingJoin`): the KeyPackage and its private keys, and the
 * invite secret, kept until the Welcome comes. Only `pendingParts` (this module and e2ee.ts)
 * can read them: the object the client holds exposes the room and the request bytes (sealed, and not) only.
 */
import type { CiphersuiteImpl, KeyPackage, PrivateKeyPackage } from 'ts-mls';
import type { PendingJoin } from './api.js';
import { wipe } from './bytes.js';

export interface PendingParts {
  readonly cs: CiphersuiteImpl;
  readonly keyPackage: KeyPackage;
  readonly keyPackageBytes: Uint8Array;
  readonly privateKeys: PrivateKeyPackage;
  readonly secret: Uint8Array;
}

let partsOf: (p: PendingJoinImpl) => PendingParts | undefined;

export class PendingJoinImpl implements PendingJoin {
  readonly room: string;
  readonly body: Uint8Array;
  readonly request: Uint8Array;
  readonly leafKey: Uint8Array;
  #parts: PendingParts | undefined;

  /** Takes ownership of `parts` (it wipes the private keys and the secret). */
  constructor(room: string, body: Uint8Array, request: Uint8Array, parts: PendingParts) {
    this.room = room;
    this.body = body;
    this.request = request;
    this.leafKey = parts.keyPackage.leafNode.hpkePublicKey.slice();
    this.#parts = parts;
  }

  static {
    partsOf = (p) => p.#parts;
  }

  /** After a successful join the group state owns the leaf's HPKE key: only the rest is wiped. */
  joined(): void {
    const p = this.#parts;
    this.#parts = undefined;
    if (p === undefined) return;
    wipe(p.privateKeys.initPrivateKey);
    wipe(p.secret);
  }

  dispose(): void {
    const p = this.#parts;
    this.#parts = undefined;
    if (p === undefined) return;
    wipe(p.privateKeys.initPrivateKey);
    wipe(p.privateKeys.hpkePrivateKey);
    wipe(p.privateKeys.signaturePrivateKey);
    wipe(p.secret);
  }
}

/** The secrets of a pending join, or undefined once it was joined or disposed. */
export function pendingParts(p: PendingJoinImpl): PendingParts | undefined {
  return partsOf(p);
}
