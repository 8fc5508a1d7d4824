/**
 * Credentials (RFC 9420 §5.3): every leaf carries a BasicCredential whose identity is the
 * member's display name in UTF-8, and an Ed25519 signature key (its identity).
 *
 * The authentication service below is what ts-mls calls for every credential it meets (new
 * leaves, commit paths, the tree in a Welcome; RFC 9420 §5.3.1). It checks shape only: a basic
 * credential, a valid name, a 32-byte key. That a leaf keeps its credential for good is checked
 * by every member alike on each commit (credentialChange.ts), never here, where one member's
 * own judgement would split it off the group; key *continuity* across rooms (trust on first
 * use, verified keys) is judged by the PinStore, per (name, key), on the member lists we report.
 */
import type { AuthenticationService, Credential } from 'ts-mls';
import { LIMITS } from '../protocol/limits.js';
import { fromUtf8, utf8 } from './bytes.js';

/** At most 4 bytes per character. */
export const MAX_NAME_BYTES = LIMITS.maxNameChars * 4;

/**
 * Never in a name (THREATS D.22-23): C0/C1 controls, line/paragraph separators, lone
 * surrogates, and the zero-width and bidi controls (U+061C, U+200B-200F, U+202A-202E,
 * U+2060-2064, U+2066-2069, U+FEFF). Explicit ranges, not Unicode properties: every member
 * must judge a credential alike whatever its JavaScript engine's Unicode version, or one that
 * refuses a commit the others accept is split off the group. The client's name rules
 * (client/names.ts) are stricter still; this is the floor for names that arrive over MLS.
 */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]/u;

/** A display name as credentials carry it: 1-32 characters, none of FORBIDDEN. */
export function isValidName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0) return false;
  const chars = [...name].length;
  return chars <= LIMITS.maxNameChars && !FORBIDDEN.test(name);
}

export function basicCredential(name: string): Credential {
  return { credentialType: 'basic', identity: utf8(name) };
}

/** The name in a credential, or undefined when it is not a basic credential with a valid name. */
export function nameOf(credential: Credential): string | undefined {
  if (credential.credentialType !== 'basic') return undefined;
  if (credential.identity.length > MAX_NAME_BYTES) return undefined;
  const name = fromUtf8(credential.identity);
  return isValidName(name) ? name : undefined;
}

export const credentialAuthenticationService: AuthenticationService = {
  validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
    return Promise.resolve(nameOf(credential) !== undefined && signaturePublicKey.length === 32);
  },
};
