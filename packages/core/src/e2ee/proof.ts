/**
 * Invite proofs. The link fragment carries a 32-byte invite secret that only people handed the
 * link know; the relay never sees it (DESIGN "Identity, invites and joining").
 *
 * - Join proof (joiner → member): HMAC-SHA-256(K_join, lp(room) || lp(KeyPackage)), with
 *   K_join = HKDF-SHA-256(secret, salt = "", info = "safehouse invite proof v1"). A relay
 *   without the secret cannot make one, so it cannot get a KeyPackage of its own added (a
 *   ghost member), nor swap the KeyPackage of a real joiner.
 * - Welcome proof (member → joiner): the same MAC under K_welcome (info "safehouse welcome
 *   proof v1"), carried inside the Welcome's encrypted GroupInfo (RFC 9420 §12.4.3.1). The
 *   relay sees every join request (and so the KeyPackage); without this proof it could build a
 *   group of its own around that KeyPackage and Welcome the joiner into it.
 *
 * `lp(x)` = uint32 big-endian length || x. MACs are checked with WebCrypto `verify`, which
 * compares in constant time.
 */
import { concat, lengthPrefixed, utf8 } from './bytes.js';

export const INVITE_SECRET_BYTES = 32;
export const PROOF_BYTES = 32;

const JOIN_INFO = 'safehouse invite proof v1';
const WELCOME_INFO = 'safehouse welcome proof v1';

type ProofKind = 'join' | 'welcome';

async function macKey(secret: Uint8Array, kind: ProofKind, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  const info = utf8(kind === 'join' ? JOIN_INFO : WELCOME_INFO);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info }, ikm, 256),
  );
  try {
    return await crypto.subtle.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
  } finally {
    bits.fill(0);
  }
}

function macInput(room: string, keyPackage: Uint8Array): Uint8Array {
  return concat(lengthPrefixed(utf8(room)), lengthPrefixed(keyPackage));
}

function checkSecret(secret: unknown): asserts secret is Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length !== INVITE_SECRET_BYTES) {
    const got = secret instanceof Uint8Array ? `length=${secret.length}` : typeof secret;
    throw new TypeError(`"secret" expected Uint8Array of length ${INVITE_SECRET_BYTES}, got ${got}`);
  }
}

/** The MAC over (room, KeyPackage bytes) under the invite secret. */
export async function makeProof(
  kind: ProofKind,
  secret: Uint8Array,
  room: string,
  keyPackage: Uint8Array,
): Promise<Uint8Array> {
  checkSecret(secret);
  const key = await macKey(secret, kind, 'sign');
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, macInput(room, keyPackage)));
}

/** Constant-time check; false for anything wrong (including wrong types), never throws. */
export async function checkProof(
  kind: ProofKind,
  secret: Uint8Array,
  room: string,
  keyPackage: Uint8Array,
  proof: Uint8Array,
): Promise<boolean> {
  try {
    if (!(secret instanceof Uint8Array) || secret.length !== INVITE_SECRET_BYTES) return false;
    if (!(proof instanceof Uint8Array) || proof.length !== PROOF_BYTES) return false;
    if (typeof room !== 'string' || !(keyPackage instanceof Uint8Array)) return false;
    const key = await macKey(secret, kind, 'verify');
    return await crypto.subtle.verify('HMAC', key, proof, macInput(room, keyPackage));
  } catch {
    return false;
  }
}

/** GroupInfo extension carrying the welcome proof (RFC 9420 §17.3: 0xF000-0xFFFF is private use). */
export const WELCOME_PROOF_EXTENSION = 0xf5a1;

/** Most joiners one Welcome may carry proofs for (one commit admits a batch of joiners). */
export const MAX_PROOFS = 256;

/**
 * A Welcome admitting several joiners at once carries one Welcome proof per joiner, 32 bytes
 * each, concatenated: true if one of them is the proof for this KeyPackage. Never throws.
 */
export async function checkProofIn(
  kind: ProofKind,
  secret: Uint8Array,
  room: string,
  keyPackage: Uint8Array,
  proofs: Uint8Array,
): Promise<boolean> {
  if (!(proofs instanceof Uint8Array) || proofs.length === 0 || proofs.length % PROOF_BYTES !== 0) return false;
  if (proofs.length / PROOF_BYTES > MAX_PROOFS) return false;
  let found = false;
  // Every entry is checked (no early exit), so the time says nothing about where ours is.
  for (let at = 0; at < proofs.length; at += PROOF_BYTES)
    if (await checkProof(kind, secret, room, keyPackage, proofs.subarray(at, at + PROOF_BYTES))) found = true;
  return found;
}
