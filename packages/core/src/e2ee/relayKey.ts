/**
 * The relay key of an MLS epoch (docs/protocol.md "Membership authority"): an Ed25519 key pair
 * whose 32-byte seed is `MLS-Exporter("safehouse relay key v1", room id, 32)` of the epoch
 * (RFC 9420 §8.5). Every member of the epoch derives the same pair; nobody else can, a member
 * removed by the commit that opened the epoch included. The relay holds only the public half.
 */
import { type CiphersuiteImpl, mlsExporter } from 'ts-mls';
import { ed25519SignerFromSeed } from '../roughtime/ed25519.js';
import { utf8, wipe } from './bytes.js';

export const RELAY_KEY_LABEL = 'safehouse relay key v1';

export interface RelaySigner {
  /** The epoch this key belongs to. */
  readonly epoch: number;
  /** Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  sign(statement: Uint8Array): Promise<Uint8Array>;
}

export async function relaySigner(exporterSecret: Uint8Array, room: string, epoch: number, cs: CiphersuiteImpl): Promise<RelaySigner> {
  const seed = await mlsExporter(exporterSecret, RELAY_KEY_LABEL, utf8(room), 32, cs);
  try {
    const signer = await ed25519SignerFromSeed(seed);
    return { epoch, publicKey: signer.publicKey, sign: (m) => signer.sign(m) };
  } finally {
    wipe(seed); // the signer keeps its own copy (a non-extractable CryptoKey where it can)
  }
}
