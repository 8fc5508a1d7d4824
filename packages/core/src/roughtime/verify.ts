/**
 * Reply verification (RFC 10049 §5.2 and §5.4 "Validity of Response"; drafts 08/11 and Google
 * by their profiles in versions.ts). A reply is valid when:
 *   - it parses: frame (§5), tag-value messages (§4), every required tag with its size;
 *   - CERT's SIG is the long-term key's signature over DELE, with the delegation context (§5.2.6);
 *   - SIG is DELE's PUBK signature over SREP, with the response context (§5.2.1);
 *   - MINT ≤ MIDP ≤ MAXT (§5.2.6);
 *   - INDX and PATH lead from our leaf (request packet or nonce) to ROOT (§5.3.1);
 *   - NONC (where present) is our nonce, TYPE (where present) is 1 (§5.2.2-5.2.3);
 *   - the version it claims is one we offered (§5.1.1, §5.2.5), and VERS lists it.
 * A valid reply is still not a usable time when its radius is above our cap or its interval is
 * not representable: that is a distinct `unusable` result, kept because a signed absurd time is
 * evidence of malfeasance (§8.4) even though it must never move a clock.
 *
 * Never throws on any input; every rejection has a stable code.
 */
import { concat, bytesEqual, isBytes, readU32, readU64 } from './bytes.js';
import { verifyEd25519 } from './ed25519.js';
import { hashLeaf, rootFromPath } from './merkle.js';
import { parsePacket } from './packet.js';
import type { RoughtimeRequest } from './request.js';
import { reject, type Rejected } from './result.js';
import { parseMessage, Tag, tagName, type RtMessage } from './tags.js';
import {
  isSupportedVersion,
  RoughtimeVersion,
  versionFamily,
  versionProfile,
  type VersionProfile,
} from './versions.js';

/** Default cap on the radius we accept for time: 10 s (a server's RADI may be 0xFFFFFFFF). */
export const DEFAULT_MAX_RADIUS_SECONDS = 10;

/** Latest instant a JavaScript Date can hold (ECMA-262 §21.4.1.22), in ms since the epoch. */
const MAX_DATE_MS = 8.64e15;

export interface VerifiedReply {
  /** The version the server used (0 for Google's protocol, which has no VER). */
  readonly version: RoughtimeVersion;
  /** MIDP and RADI as signed, in the version's units (seconds; Google: microseconds). */
  readonly midpoint: bigint;
  readonly radius: number;
  readonly unitsPerSecond: 1 | 1_000_000;
  /** MINT/MAXT of the delegation, same units. */
  readonly minTime: bigint;
  readonly maxTime: bigint;
  readonly delegatedKey: Uint8Array;
  readonly index: number;
  readonly pathLength: number;
  /** VERS of the signed response (draft 12+); undefined for older versions. */
  readonly serverVersions: readonly number[] | undefined;
  readonly nonce: Uint8Array;
  /** The exact reply packet (a view of the caller's buffer). */
  readonly packet: Uint8Array;
}

/** The proven interval, ms since the Unix epoch: the server signed at an instant in it (§5.4). */
export interface TimeInterval {
  readonly earliestMs: number;
  readonly latestMs: number;
}

export type VerifyReplyResult =
  | { readonly ok: true; readonly kind: 'time'; readonly reply: VerifiedReply; readonly interval: TimeInterval }
  | {
      readonly ok: true;
      readonly kind: 'unusable';
      readonly code: 'E_ROUGHTIME_RADIUS_TOO_LARGE' | 'E_ROUGHTIME_TIME_RANGE';
      readonly detail: string;
      readonly reply: VerifiedReply;
    }
  | Rejected;

export interface VerifyReplyInput {
  /** The request as sent (from buildRequest): its packet, nonce and offered versions. */
  readonly request: Pick<RoughtimeRequest, 'packet' | 'nonce' | 'versions'>;
  readonly reply: Uint8Array;
  /** The server's long-term Ed25519 public key, known out of band (§5.4). */
  readonly publicKey: Uint8Array;
  /** Radius above which the time is not used; default 10 s. */
  readonly maxRadiusSeconds?: number;
}

function get(msg: RtMessage, tag: number, where: string, length?: number): Uint8Array | Rejected {
  const v = msg.get(tag);
  if (v === undefined) return reject('E_ROUGHTIME_MISSING_TAG', `${where} lacks ${tagName(tag)}`);
  if (length !== undefined && v.length !== length) {
    return reject('E_ROUGHTIME_BAD_VALUE', `${where}.${tagName(tag)} is ${v.length} bytes, expected ${length}`);
  }
  return v;
}

function sub(msg: RtMessage, tag: number, where: string): RtMessage | Rejected {
  const v = get(msg, tag, where);
  if (!(v instanceof Uint8Array)) return v;
  const parsed = parseMessage(v);
  if (!parsed.ok) return reject(parsed.code, `${where}.${tagName(tag)}: ${parsed.detail}`);
  return parsed.message;
}

const isRejected = (x: unknown): x is Rejected => typeof x === 'object' && x !== null && (x as Rejected).ok === false;

function parseVersionList(v: Uint8Array, where: string): number[] | Rejected {
  if (v.length === 0 || v.length % 4 !== 0 || v.length > 4 * 32) {
    return reject('E_ROUGHTIME_BAD_VALUE', `${where} is ${v.length} bytes, expected 1-32 uint32 versions`);
  }
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 4) {
    const x = readU32(v, i);
    // §5.2.5: VERS is sorted ascending (so no repeats).
    if (out.length > 0 && x <= (out[out.length - 1] as number))
      return reject('E_ROUGHTIME_BAD_VALUE', `${where} is not strictly ascending`);
    out.push(x);
  }
  return out;
}

/** Checks the arguments; returns the profile the offered versions share, or a rejection. */
function checkInput(input: VerifyReplyInput): VersionProfile | Rejected {
  if (typeof input !== 'object' || input === null) return reject('E_USAGE', '"input" expected an object');
  const { request, reply, publicKey } = input;
  if (typeof request !== 'object' || request === null || !isBytes(request.packet) || !isBytes(request.nonce)) {
    return reject('E_USAGE', '"request" expected the object returned by buildRequest');
  }
  const versions: unknown = request.versions;
  if (!Array.isArray(versions) || versions.length === 0 || !versions.every(isSupportedVersion)) {
    return reject('E_USAGE', '"request.versions" expected supported versions');
  }
  // The profile comes from the versions, never from the caller: every offered version must share it.
  const family = versionFamily(versions[0] as RoughtimeVersion);
  if (!versions.every((v: RoughtimeVersion) => versionFamily(v) === family))
    return reject('E_USAGE', '"request.versions" mixes wire families');
  const profile = versionProfile(Math.max(...(versions as number[]))) as VersionProfile;
  if (request.nonce.length !== profile.nonceBytes)
    return reject('E_USAGE', `"request.nonce" expected ${profile.nonceBytes} bytes for these versions`);
  if (!isBytes(reply)) return reject('E_USAGE', '"reply" expected Uint8Array');
  if (!isBytes(publicKey, 32)) return reject('E_USAGE', '"publicKey" expected Uint8Array of length 32');
  const cap = input.maxRadiusSeconds;
  if (cap !== undefined && (typeof cap !== 'number' || Number.isNaN(cap) || cap < 0)) {
    return reject('E_USAGE', '"maxRadiusSeconds" expected a number ≥ 0 (Infinity: no cap, for evidence only)');
  }
  return profile;
}

/** Verifies one reply against the request we sent and the server's long-term key. */
export async function verifyReply(input: VerifyReplyInput): Promise<VerifyReplyResult> {
  const profile = checkInput(input);
  if (isRejected(profile)) return profile;
  const { request, reply, publicKey } = input;
  const maxRadiusSeconds = input.maxRadiusSeconds ?? DEFAULT_MAX_RADIUS_SECONDS;

  // Structure: frame and top-level message (§4, §5).
  const top = parsePacket(reply, profile.framed);
  if (!top.ok) return top;
  const msg = top.message;
  const sig = get(msg, Tag.SIG, 'reply', 64);
  if (isRejected(sig)) return sig;
  const path = get(msg, Tag.PATH, 'reply');
  if (isRejected(path)) return path;
  const indx = get(msg, Tag.INDX, 'reply', 4);
  if (isRejected(indx)) return indx;
  const srepBytes = get(msg, Tag.SREP, 'reply');
  if (isRejected(srepBytes)) return srepBytes;
  const cert = sub(msg, Tag.CERT, 'reply');
  if (isRejected(cert)) return cert;
  const certSig = get(cert, Tag.SIG, 'CERT', 64);
  if (isRejected(certSig)) return certSig;
  const deleBytes = get(cert, Tag.DELE, 'CERT');
  if (isRejected(deleBytes)) return deleBytes;

  // §5.2.2: NONC is our nonce (required from draft 12; older servers may omit it, the leaf binds it anyway).
  const nonc = msg.get(Tag.NONC);
  if (nonc === undefined && profile.typeTag) return reject('E_ROUGHTIME_MISSING_TAG', 'reply lacks NONC');
  if (nonc !== undefined && !bytesEqual(nonc, request.nonce))
    return reject('E_ROUGHTIME_NONCE_MISMATCH', 'NONC differs from the nonce we sent');

  // §5.2.6: the long-term key delegates to PUBK.
  if (!(await verifyEd25519(publicKey, concat(profile.delegationContext, deleBytes), certSig))) {
    return reject('E_ROUGHTIME_DELEGATION_SIGNATURE', 'CERT signature does not verify under the long-term key');
  }
  const deleParsed = parseMessage(deleBytes);
  if (!deleParsed.ok) return reject(deleParsed.code, `CERT.DELE: ${deleParsed.detail}`);
  const dele = deleParsed.message;
  const pubk = get(dele, Tag.PUBK, 'DELE', 32);
  if (isRejected(pubk)) return pubk;
  const mint = get(dele, Tag.MINT, 'DELE', 8);
  if (isRejected(mint)) return mint;
  const maxt = get(dele, Tag.MAXT, 'DELE', 8);
  if (isRejected(maxt)) return maxt;

  // §5.2.1: PUBK signs SREP.
  if (!(await verifyEd25519(pubk, concat(profile.responseContext, srepBytes), sig))) {
    return reject('E_ROUGHTIME_RESPONSE_SIGNATURE', 'SIG does not verify under the delegated key');
  }
  const srepParsed = parseMessage(srepBytes);
  if (!srepParsed.ok) return reject(srepParsed.code, `SREP: ${srepParsed.detail}`);
  const srep = srepParsed.message;
  const root = get(srep, Tag.ROOT, 'SREP', profile.hashBytes);
  if (isRejected(root)) return root;
  const midpBytes = get(srep, Tag.MIDP, 'SREP', 8);
  if (isRejected(midpBytes)) return midpBytes;
  const radiBytes = get(srep, Tag.RADI, 'SREP', 4);
  if (isRejected(radiBytes)) return radiBytes;

  // Version: signed inside SREP from draft 12 (§5.2.5), at the top before; none in Google's.
  let version: number;
  let serverVersions: number[] | undefined;
  if (profile.verInSrep) {
    const ver = get(srep, Tag.VER, 'SREP', 4);
    if (isRejected(ver)) return ver;
    version = readU32(ver, 0);
    // VERS: required since draft 12 (§5.2.5), ascending, listing VER.
    const vers = get(srep, Tag.VERS, 'SREP');
    if (isRejected(vers)) return vers;
    const list = parseVersionList(vers, 'SREP.VERS');
    if (isRejected(list)) return list;
    if (!list.includes(version)) return reject('E_ROUGHTIME_VERSION', `SREP.VERS does not list VER ${version}`);
    serverVersions = list;
  } else if (profile.framed) {
    const ver = get(msg, Tag.VER, 'reply', 4);
    if (isRejected(ver)) return ver;
    version = readU32(ver, 0);
  } else {
    version = RoughtimeVersion.GOOGLE;
  }
  if (!(request.versions as readonly number[]).includes(version)) {
    return reject('E_ROUGHTIME_VERSION', `reply version 0x${version.toString(16)} was not offered`);
  }

  // §5.2.3: TYPE is 1 in a response. Version 1 requires it; 0x8000000c servers of drafts 12-13
  // predate it (TYPE came in draft 14), so there it is checked only when present. It is not
  // signed either way: it stops a request being taken for a reply, it proves nothing.
  const type = msg.get(Tag.TYPE);
  if (type === undefined && version === RoughtimeVersion.RFC)
    return reject('E_ROUGHTIME_MISSING_TAG', 'reply lacks TYPE');
  if (type !== undefined && profile.typeTag && (type.length !== 4 || readU32(type, 0) !== 1)) {
    return reject('E_ROUGHTIME_BAD_VALUE', 'TYPE is not the response type 1');
  }

  // §5.2.6: MINT ≤ MIDP ≤ MAXT.
  const midpoint = readU64(midpBytes, 0);
  const minTime = readU64(mint, 0);
  const maxTime = readU64(maxt, 0);
  if (minTime > maxTime) return reject('E_ROUGHTIME_DELEGATION_WINDOW', 'DELE has MINT after MAXT');
  if (midpoint < minTime || midpoint > maxTime)
    return reject('E_ROUGHTIME_DELEGATION_WINDOW', 'MIDP lies outside [MINT, MAXT]');

  // §5.3.1: our leaf, INDX and PATH give ROOT.
  const index = readU32(indx, 0);
  const leaf = await hashLeaf(profile.leaf === 'request' ? request.packet : request.nonce, profile.hashBytes);
  const computed = await rootFromPath(leaf, index, path, profile.hashBytes);
  if (!computed.ok) return computed;
  if (!bytesEqual(computed.root, root)) return reject('E_ROUGHTIME_MERKLE', 'PATH and INDX do not lead to ROOT');

  // §5.2.5: "The value of RADI MUST NOT be zero" (draft 12+).
  const radius = readU32(radiBytes, 0);
  if (radius === 0 && profile.verInSrep) return reject('E_ROUGHTIME_BAD_VALUE', 'RADI is zero');

  const verified: VerifiedReply = {
    version: version as RoughtimeVersion,
    midpoint,
    radius,
    unitsPerSecond: profile.unitsPerSecond,
    minTime,
    maxTime,
    delegatedKey: pubk,
    index,
    pathLength: path.length / profile.hashBytes,
    serverVersions,
    nonce: request.nonce,
    packet: reply,
  };
  return toTime(verified, maxRadiusSeconds);
}

/** Applies the radius cap and converts to ms; a valid reply that fails here is `unusable`. */
function toTime(reply: VerifiedReply, maxRadiusSeconds: number): VerifyReplyResult {
  const units = BigInt(reply.unitsPerSecond);
  if (reply.radius > maxRadiusSeconds * reply.unitsPerSecond) {
    return {
      ok: true,
      kind: 'unusable',
      code: 'E_ROUGHTIME_RADIUS_TOO_LARGE',
      detail: `RADI ${reply.radius / reply.unitsPerSecond} s is above the ${maxRadiusSeconds} s cap`,
      reply,
    };
  }
  const radius = BigInt(reply.radius);
  // Round outwards: the interval must contain the signed one.
  const lo = reply.midpoint - radius;
  const hi = reply.midpoint + radius;
  const earliest = (lo * 1000n) / units;
  const latest = (hi * 1000n + units - 1n) / units;
  if (lo < 0n || latest > BigInt(MAX_DATE_MS)) {
    return {
      ok: true,
      kind: 'unusable',
      code: 'E_ROUGHTIME_TIME_RANGE',
      detail: 'MIDP ± RADI is outside the representable time range',
      reply,
    };
  }
  return { ok: true, kind: 'time', reply, interval: { earliestMs: Number(earliest), latestMs: Number(latest) } };
}
