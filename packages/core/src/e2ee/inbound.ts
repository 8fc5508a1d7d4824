/**
 * The checks a PrivateMessage passes before ts-mls processes it (RFC 9420 §6.3), and the ones
 * that sort a failure into `duplicate` or `rejected`.
 *
 * 1. The bytes are exactly one MLSMessage of wireformat mls_private_message. We never accept a
 *    PublicMessage: every handshake message we send is a PrivateMessage (§6.3), so the relay
 *    learns nothing from them, and a PublicMessage can only be an attack or a mistake.
 * 2. Its group id is this room's (a message of room A fed to room B is refused outright).
 * 3. Its epoch is the current one or one we still hold receiver data for (§14); a later epoch
 *    is `future-epoch` for the caller to retry.
 * 4. The sender data (§6.3.2) decrypts under that epoch's sender_data_secret. It is AEAD
 *    protected, so only a member can produce it: if its (leaf, generation) was consumed
 *    already (§9.1 secret tree ratchets), the message is a replay: `duplicate`.
 */
import {
  type ClientState,
  type PrivateMessage,
  type RatchetTree,
  type CiphersuiteImpl,
  decodeMlsMessage,
} from 'ts-mls';
import { decryptSenderData } from 'ts-mls/privateMessage.js';
import type { SecretTree } from 'ts-mls/secretTree.js';
import { bytesEqual } from './bytes.js';

export type Inbound =
  | { kind: 'ok'; pm: PrivateMessage; senderLeaf: number; tree: RatchetTree }
  | { kind: 'duplicate' }
  | { kind: 'future-epoch'; epoch: number }
  | { kind: 'rejected' };

/** Decodes an MLS PrivateMessage; undefined for anything else (never throws). */
export function decodePrivateMessage(body: Uint8Array): PrivateMessage | undefined {
  if (!(body instanceof Uint8Array)) return undefined;
  try {
    const decoded = decodeMlsMessage(body, 0);
    if (!decoded || decoded[1] !== body.length) return undefined;
    const msg = decoded[0];
    return msg.version === 'mls10' && msg.wireformat === 'mls_private_message' ? msg.privateMessage : undefined;
  } catch {
    return undefined;
  }
}

/** True when the secret tree no longer holds the key for this (leaf, generation). */
function generationConsumed(tree: SecretTree, leaf: number, generation: number, handshake: boolean): boolean {
  const node = tree[leaf * 2];
  if (node === undefined) return false;
  const ratchet = handshake ? node.handshake : node.application;
  return generation < ratchet.generation && ratchet.unusedGenerations[generation] === undefined;
}

export async function inspect(
  state: ClientState,
  groupId: Uint8Array,
  pm: PrivateMessage,
  cs: CiphersuiteImpl,
): Promise<Inbound> {
  if (!bytesEqual(pm.groupId, groupId)) return { kind: 'rejected' };
  const current = state.groupContext.epoch;
  if (pm.epoch > current) {
    // An epoch number beyond 2^53 cannot come from a real group; do not try to represent it.
    return pm.epoch <= BigInt(Number.MAX_SAFE_INTEGER)
      ? { kind: 'future-epoch', epoch: Number(pm.epoch) }
      : { kind: 'rejected' };
  }
  const data =
    pm.epoch === current
      ? {
          senderDataSecret: state.keySchedule.senderDataSecret,
          secretTree: state.secretTree,
          ratchetTree: state.ratchetTree,
        }
      : state.historicalReceiverData.get(pm.epoch);
  if (data === undefined) return { kind: 'rejected' };
  let sender: Awaited<ReturnType<typeof decryptSenderData>>;
  try {
    sender = await decryptSenderData(pm, data.senderDataSecret, cs);
  } catch {
    return { kind: 'rejected' };
  }
  if (sender === undefined) return { kind: 'rejected' };
  if (data.ratchetTree[sender.leafIndex * 2]?.nodeType !== 'leaf') return { kind: 'rejected' };
  if (generationConsumed(data.secretTree, sender.leafIndex, sender.generation, pm.contentType !== 'application'))
    return { kind: 'duplicate' };
  return { kind: 'ok', pm, senderLeaf: sender.leafIndex, tree: data.ratchetTree };
}
