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

/** Synchronous SHA-512 (noble): 5200 WebCrypto round trips would take ~200 ms, noble ~10 ms. */
function stretched(label: string, key: Uint8Array): Uint8Array {
  let h = sha512(concat(VERSION, lengthPrefixed(utf8(label)), key));
  for (let i = 1; i < ITERATIONS; i++) h = sha512(concat(h, key));
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
