/**
 * Sealing a few bytes to one member of a group (docs/protocol.md "Direct messages"): HPKE
 * (RFC 9180, through the group's cipher suite) to the HPKE key of that member's leaf, with
 * RFC 9420 §5.1.3 EncryptWithLabel, so only the holder of that leaf's private key can open it.
 * The group's other members see the sealed bytes and cannot: this is how a direct-message
 * invitation, posted in a room both share, carries the direct room's secret to the invitee only.
 *
 * A leaf's key changes when its member commits with a path, so the opener keeps its last few
 * leaf keys (`LeafKeys`): a sealing made just before such a change still opens.
 */
import type { CiphersuiteImpl } from 'ts-mls';
import { decryptWithLabel, encryptWithLabel } from 'ts-mls/crypto/hpke.js';
import type { Sealed } from './api.js';
import { bytesEqual, wipe } from './bytes.js';

const LABEL = 'safehouse sealed v1';
/** Own leaf keys kept after they were replaced. */
const KEPT_LEAF_KEYS = 8;


export async function seal(cs: CiphersuiteImpl, recipient: Uint8Array, context: Uint8Array, plaintext: Uint8Array): Promise<Sealed> {
  const pub = await cs.hpke.importPublicKey(recipient);
  const { ct, enc } = await encryptWithLabel(pub, LABEL, context, plaintext, cs.hpke);
  return { key: recipient.slice(), enc, ct };
}

/** Undefined when the bytes do not open under `privateKey` (another key, another context, altered). */
export async function open(cs: CiphersuiteImpl, privateKey: Uint8Array, context: Uint8Array, sealed: Sealed): Promise<Uint8Array | undefined> {
  try {
    const priv = await cs.hpke.importPrivateKey(privateKey);
    return await decryptWithLabel(priv, LABEL, context, sealed.enc, sealed.ct, cs.hpke);
  } catch {
    return undefined;
  }
}

/** This device's current and last few leaf key pairs in one group, newest first. */
export class LeafKeys {
  readonly #keys: { pub: Uint8Array; priv: Uint8Array }[] = [];

  /** Notes the leaf key pair now in use (a no-op when it did not change). */
  note(pub: Uint8Array | undefined, priv: Uint8Array | undefined): void {
    if (pub === undefined || priv === undefined) return;
    if (this.#keys[0] && bytesEqual(this.#keys[0].pub, pub)) return;
    this.#keys.unshift({ pub: pub.slice(), priv: priv.slice() });
    for (const old of this.#keys.splice(KEPT_LEAF_KEYS + 1)) wipe(old.priv);
  }

  privateFor(pub: Uint8Array): Uint8Array | undefined {
    return this.#keys.find((k) => bytesEqual(k.pub, pub))?.priv;
  }

  wipe(): void {
    for (const k of this.#keys.splice(0)) wipe(k.priv);
  }
}
