/**
 * The membership authority the relay enforces without reading anything (docs/protocol.md,
 * "Membership authority"). Each MLS epoch of a room has a *relay key*: an Ed25519 key pair whose
 * seed is exported from that epoch's key schedule (RFC 9420 §8.5, label "safehouse relay key
 * v1"), so only members of that epoch can sign with it. The relay keeps, per room, the current
 * epoch and its relay public key, learnt from the commit that opened the epoch, and believes
 * nothing it cannot check against that key:
 *
 *   - `sub` proves membership of the epoch: a signature over (the connection's nonce, room,
 *     epoch), so it cannot be replayed on another connection;
 *   - a commit proves membership of the epoch it is for, and names the next epoch's relay key:
 *     a signature over (room, epoch, SHA-256 of the commit, next key).
 *
 * This file builds the byte strings that are signed (the same bytes on both sides). Signing is
 * in e2ee (relayKey.ts); the relay verifies with its runtime's Ed25519.
 */
import { LIMITS } from './limits.js';

/** A relay key (Ed25519 public key, 32 bytes) as 43 base64url characters. */
export const RELAY_KEY_CHARS = 43;
/** An Ed25519 signature (64 bytes) as 86 base64url characters. */
export const RELAY_SIG_CHARS = 86;

const SUB_LABEL = 'safehouse relay sub v1';
const COMMIT_LABEL = 'safehouse relay commit v1';
const enc = new TextEncoder();

function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`"epoch" expected a safe non-negative integer, got ${String(n)}`);
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(n / 2 ** 32));
  view.setUint32(4, n >>> 0);
  return out;
}

function ascii(label: string, s: string, chars: number): Uint8Array {
  if (typeof s !== 'string' || s.length !== chars || !/^[A-Za-z0-9_-]*$/.test(s))
    throw new TypeError(`"${label}" expected ${chars} base64url characters`);
  return enc.encode(s);
}

/** Fixed-length fields after a NUL-terminated label: no two statements share bytes. */
function statement(label: string, parts: readonly Uint8Array[]): Uint8Array {
  const head = enc.encode(label);
  let n = head.length + 1;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  out.set(head, 0);
  let o = head.length + 1;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** What a subscriber signs with the epoch's relay key: bound to this connection's `nonce`. */
export function subStatement(nonce: string, room: string, epoch: number): Uint8Array {
  return statement(SUB_LABEL, [ascii('nonce', nonce, LIMITS.idChars), ascii('room', room, LIMITS.idChars), u64(epoch)]);
}

/**
 * What a committer signs with the relay key of the epoch its commit is for: the commit itself
 * (by its SHA-256) and the relay key of the epoch the commit opens.
 */
export function commitStatement(room: string, epoch: number, commitDigest: Uint8Array, next: string): Uint8Array {
  if (!(commitDigest instanceof Uint8Array) || commitDigest.length !== 32)
    throw new TypeError('"commitDigest" expected a 32-byte SHA-256 digest');
  return statement(COMMIT_LABEL, [ascii('room', room, LIMITS.idChars), u64(epoch), commitDigest, ascii('next', next, RELAY_KEY_CHARS)]);
}
