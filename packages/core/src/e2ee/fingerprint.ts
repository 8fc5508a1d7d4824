/**
 * What people compare, as digits.
 *
 * - `formatFingerprint(fp)`: one identity, 60 digits in 12 groups of 5.
 * - `safetyNumber(pubA, pubB)`: a pair of identities, 60 digits in 12 groups of 5, the same on
 *   both devices (order-independent).
 * - `roomCode(epochAuthenticator)`: a whole room, 16 digits in 4 groups of 4, derived from the
 *   MLS epoch authenticator (RFC 9420 §8.7), which only members of the current epoch know.
 *
 * Fingerprints and safety numbers follow Signal's numeric fingerprint: the digits come from an
 * iterated hash, h₀ = SHA-512(version ‖ label ‖ key), hᵢ₊₁ = SHA-512(hᵢ ‖ key), 5200 rounds, so
 * that grinding keys for a look-alike number costs 5200 hashes a try. Each 5-byte chunk of the
 * result, read big-endian, gives 5 digits (mod 100000). A safety number is the two keys'
 * 30-digit halves, sorted, so both sides show the same. The room code needs no stretching: its
 * input is a secret of 32 random-looking bytes, not a public key.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { concat, lengthPrefixed, utf8 } from './bytes.js';

const ITERATIONS = 5200;
const VERSION = Uint8Array.of(0, 1);

function checkBytes(name: string, x: unknown, length: number): asserts x is Uint8Array {
  if (!(x instanceof Uint8Array) || x.length !== length) {
    throw new TypeError(
      `"${name}" expected Uint8Array of length ${length}, got ${x instanceof Uint8Array ? `length=${x.length}` : typeof x}`,
    );
  }
}

/**
 * Synchronous SHA-512: noble by default (5200 WebCrypto round trips would take ~200 ms, noble
 * 20-30 ms); a runtime with a native synchronous one (Node's `node:crypto`) may set it with
 * `useSha512`, about twice as fast. A crowd joining a room computes one fingerprint per member.
 */
let hash: (data: Uint8Array) => Uint8Array = sha512;

/** Sets the synchronous SHA-512 the fingerprints use (it must be SHA-512: the digits depend on it). */
export function useSha512(fn: (data: Uint8Array) => Uint8Array): void {
  const probe = utf8('abc');
  const want = sha512(probe);
  const got = fn(probe);
  if (got.length !== 64 || got.some((b, i) => b !== want[i])) throw new TypeError('useSha512 expected a SHA-512 function');
  hash = fn;
}

function stretched(label: string, key: Uint8Array): Uint8Array {
  let h = hash(concat(VERSION, lengthPrefixed(utf8(label)), key));
  // hᵢ₊₁ = SHA-512(hᵢ ‖ key), in one buffer reused for every round.
  const buf = new Uint8Array(h.length + key.length);
  buf.set(key, h.length);
  for (let i = 1; i < ITERATIONS; i++) {
    buf.set(h, 0);
    h = hash(buf);
  }
  return h;
}

/** `count` groups of 5 digits from consecutive 5-byte chunks. */
function fiveDigitGroups(h: Uint8Array, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 256 + (h[i * 5 + j] ?? 0);
    out.push(String(v % 100000).padStart(5, '0'));
  }
  return out;
}

/** 60 digits in 12 groups of 5, separated by spaces. */
export function formatFingerprint(fp: Uint8Array): Promise<string> {
  // Async like the rest of the API (a later version may move the hashing off the main thread).
  return Promise.resolve().then(() => {
    checkBytes('fingerprint', fp, 32);
    return fiveDigitGroups(stretched('safehouse fingerprint', fp), 12).join(' ');
  });
}

/** 60 digits in 12 groups of 5 for a pair of Ed25519 public keys; same for (a, b) and (b, a). */
export function safetyNumber(pubA: Uint8Array, pubB: Uint8Array): Promise<string> {
  return Promise.resolve().then(() => {
    checkBytes('pubA', pubA, 32);
    checkBytes('pubB', pubB, 32);
    const halves = [pubA, pubB].map((k) => fiveDigitGroups(stretched('safehouse safety number', k), 6).join(' '));
    halves.sort();
    return halves.join(' ');
  });
}

/** 16 digits in 4 groups of 4 that every member of the same epoch sees alike. */
export async function roomCode(epochAuthenticator: Uint8Array): Promise<string> {
  if (!(epochAuthenticator instanceof Uint8Array) || epochAuthenticator.length < 16) {
    throw new TypeError('"epochAuthenticator" expected Uint8Array of at least 16 bytes');
  }
  const h = new Uint8Array(
    await crypto.subtle.digest('SHA-256', concat(lengthPrefixed(utf8('safehouse room code v1')), epochAuthenticator)),
  );
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) groups.push(String(dv.getUint32(i * 4, false) % 10000).padStart(4, '0'));
  return groups.join(' ');
}
