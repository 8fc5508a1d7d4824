/**
 * A small Roughtime responder (RFC 10049 §5.2, drafts 08/11, Google): parse requests, sign a
 * batch of them under one Merkle root with a delegated online key, and build one reply each.
 * It is for our test servers and for the air-gapped `safehouse serve --roughtime-port`; the
 * socket lives in an adapter elsewhere.
 *
 * Keys: the long-term key signs the delegation (CERT) once, possibly offline; only the online
 * key and the certificate bytes need to be on the serving machine (§5.2.6, §9.4).
 */
import { abytes, aint, concat, bytesEqual, isArray, readU32, u32, u32List, u64 } from './bytes.js';
import type { Ed25519Signer } from './ed25519.js';
import { buildTree, hashLeaf } from './merkle.js';
import { framePacket, isFramed, parsePacket } from './packet.js';
import { MIN_REQUEST_BYTES, srvValue } from './request.js';
import { reject, type Rejected } from './result.js';
import { encodeMessage, Tag } from './tags.js';
import {
  isSupportedVersion,
  RoughtimeVersion,
  versionFamily,
  versionProfile,
  type VersionProfile,
} from './versions.js';
import { UsageError } from '../protocol/errors.js';

/** §5.2.5 VERS: every version we answer, ascending (Google's has no number on the wire). */
const SUPPORTED_ASCENDING: readonly number[] = [
  RoughtimeVersion.RFC,
  RoughtimeVersion.DRAFT_08,
  RoughtimeVersion.DRAFT_11,
  RoughtimeVersion.DRAFT_12,
];

/** Our preference when several offered versions are supported: newest first. */
const PREFERENCE: readonly RoughtimeVersion[] = [
  RoughtimeVersion.RFC,
  RoughtimeVersion.DRAFT_12,
  RoughtimeVersion.DRAFT_11,
  RoughtimeVersion.DRAFT_08,
];

export interface ServerRequest {
  readonly packet: Uint8Array;
  readonly nonce: Uint8Array;
  /** Offered versions we support (Google: [0]). */
  readonly versions: readonly RoughtimeVersion[];
  /** The version we will answer with. */
  readonly version: RoughtimeVersion;
  readonly srv: Uint8Array | undefined;
}

export type ParseRequestResult = { readonly ok: true; readonly request: ServerRequest } | Rejected;

/**
 * Parses a request. Requests shorter than 1,024 bytes are refused: answering them is optional
 * and could amplify (§5.1, §9.7).
 */
export function parseRequest(packet: Uint8Array): ParseRequestResult {
  if (!(packet instanceof Uint8Array)) return reject('E_USAGE', '"packet" expected Uint8Array');
  if (packet.length < MIN_REQUEST_BYTES)
    return reject('E_ROUGHTIME_BAD_VALUE', `request of ${packet.length} bytes is below ${MIN_REQUEST_BYTES}`);
  const framed = isFramed(packet);
  const parsed = parsePacket(packet, framed);
  if (!parsed.ok) return parsed;
  const msg = parsed.message;
  const nonce = msg.get(Tag.NONC);
  if (!framed) {
    if (nonce === undefined) return reject('E_ROUGHTIME_MISSING_TAG', 'request lacks NONC');
    if (nonce.length !== 64) return reject('E_ROUGHTIME_BAD_VALUE', `NONC is ${nonce.length} bytes, expected 64`);
    return {
      ok: true,
      request: { packet, nonce, versions: [RoughtimeVersion.GOOGLE], version: RoughtimeVersion.GOOGLE, srv: undefined },
    };
  }
  const ver = msg.get(Tag.VER);
  if (ver === undefined) return reject('E_ROUGHTIME_MISSING_TAG', 'request lacks VER');
  if (ver.length === 0 || ver.length % 4 !== 0 || ver.length > 4 * 32)
    return reject('E_ROUGHTIME_BAD_VALUE', 'VER is not a list of 1-32 versions');
  // §5.1.1: ignore versions we do not know.
  const versions: RoughtimeVersion[] = [];
  for (let i = 0; i < ver.length; i += 4) {
    const v = readU32(ver, i);
    if (v !== RoughtimeVersion.GOOGLE && isSupportedVersion(v) && !versions.includes(v)) versions.push(v);
  }
  const version = PREFERENCE.find((v) => versions.includes(v));
  if (version === undefined) return reject('E_ROUGHTIME_VERSION', 'no offered version is supported');
  if (nonce === undefined) return reject('E_ROUGHTIME_MISSING_TAG', 'request lacks NONC');
  if (nonce.length !== 32) return reject('E_ROUGHTIME_BAD_VALUE', `NONC is ${nonce.length} bytes, expected 32`);
  // §5.1.3: TYPE 0 (mandatory for version 1; drafts 12-13 predate it).
  const type = msg.get(Tag.TYPE);
  if (type === undefined && version === RoughtimeVersion.RFC)
    return reject('E_ROUGHTIME_MISSING_TAG', 'request lacks TYPE');
  if (type !== undefined && (type.length !== 4 || readU32(type, 0) !== 0))
    return reject('E_ROUGHTIME_BAD_VALUE', 'TYPE is not the request type 0');
  const srv = msg.get(Tag.SRV);
  if (srv !== undefined && srv.length !== 32)
    return reject('E_ROUGHTIME_BAD_VALUE', `SRV is ${srv.length} bytes, expected 32`);
  return { ok: true, request: { packet, nonce, versions, version, srv } };
}

/** CERT values for each wire family (contexts and time units differ), one delegation. */
export interface Delegation {
  readonly onlinePublicKey: Uint8Array;
  readonly longTermPublicKey: Uint8Array;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly certs: Readonly<Record<'modern' | 'draft' | 'google', Uint8Array>>;
}

function toUnits(ms: number, profile: VersionProfile): bigint {
  return profile.unitsPerSecond === 1 ? BigInt(Math.floor(ms / 1000)) : BigInt(ms) * 1000n;
}

/**
 * Signs a delegation of [minTimeMs, maxTimeMs] to the online key with the long-term key
 * (§5.2.6: DELE = {PUBK, MINT, MAXT}, CERT = {SIG, DELE}). Can run on an offline machine.
 */
export async function createDelegation(args: {
  readonly longTerm: Ed25519Signer;
  readonly onlinePublicKey: Uint8Array;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
}): Promise<Delegation> {
  const onlinePublicKey = abytes('onlinePublicKey', args.onlinePublicKey, 32).slice();
  const minTimeMs = aint('minTimeMs', args.minTimeMs, 0, 8.64e15);
  const maxTimeMs = aint('maxTimeMs', args.maxTimeMs, minTimeMs, 8.64e15);
  const certs: Partial<Record<'modern' | 'draft' | 'google', Uint8Array>> = {};
  for (const v of [RoughtimeVersion.RFC, RoughtimeVersion.DRAFT_11, RoughtimeVersion.GOOGLE] as const) {
    const profile = versionProfile(v) as VersionProfile;
    const dele = encodeMessage([
      [Tag.PUBK, onlinePublicKey],
      [Tag.MINT, u64(toUnits(minTimeMs, profile))],
      [Tag.MAXT, u64(toUnits(maxTimeMs, profile))],
    ]);
    const sig = await args.longTerm.sign(concat(profile.delegationContext, dele));
    certs[versionFamily(v)] = encodeMessage([
      [Tag.SIG, sig],
      [Tag.DELE, dele],
    ]);
  }
  return {
    onlinePublicKey,
    longTermPublicKey: args.longTerm.publicKey.slice(),
    minTimeMs,
    maxTimeMs,
    certs: certs as Delegation['certs'],
  };
}

export interface SignRepliesOptions {
  readonly delegation: Delegation;
  readonly online: Ed25519Signer;
  /** The server's time of processing, ms since the Unix epoch (MIDP). */
  readonly midpointMs: number;
  /** RADI in seconds, ≥ 1 (§5.2.5: not zero; SHOULD be ≥ 3 without leap-second information). Default 3. */
  readonly radiusSeconds?: number;
}

/**
 * Signs one batch: for each version in use, one Merkle tree and one SREP signature, then one
 * reply per request (undefined for a request we must ignore: SRV naming another key (§5.2), or a
 * reply that would be larger than its request (§9.7)). Replies line up with `requests`.
 */
export async function signReplies(
  requests: readonly ServerRequest[],
  options: SignRepliesOptions,
): Promise<(Uint8Array | undefined)[]> {
  if (!isArray(requests)) throw new UsageError('E_USAGE', '"requests" expected an array');
  const { delegation, online } = options;
  const midpointMs = aint('midpointMs', options.midpointMs, 0, 8.64e15);
  const radiusSeconds = aint('radiusSeconds', options.radiusSeconds ?? 3, 1, 0xffffffff);
  if (!bytesEqual(online.publicKey, delegation.onlinePublicKey))
    throw new UsageError('E_USAGE', 'the online key is not the delegated key');
  if (midpointMs < delegation.minTimeMs || midpointMs > delegation.maxTimeMs) {
    throw new UsageError('E_USAGE', 'the midpoint lies outside the delegation window');
  }
  const srv = await srvValue(delegation.longTermPublicKey);
  const out: (Uint8Array | undefined)[] = requests.map(() => undefined);
  const groups = new Map<RoughtimeVersion, number[]>();
  requests.forEach((r, i) => {
    if (r.srv !== undefined && !bytesEqual(r.srv, srv)) return;
    const g = groups.get(r.version) ?? [];
    g.push(i);
    groups.set(r.version, g);
  });
  for (const [version, indices] of groups) {
    const profile = versionProfile(version) as VersionProfile;
    const family = versionFamily(version);
    const members = indices.map((i) => requests[i] as ServerRequest);
    const leaves = await Promise.all(
      members.map((r) => hashLeaf(profile.leaf === 'request' ? r.packet : r.nonce, profile.hashBytes)),
    );
    const tree = await buildTree(leaves, profile.hashBytes);
    const radius = profile.unitsPerSecond === 1 ? radiusSeconds : Math.min(radiusSeconds * 1_000_000, 0xffffffff);
    const srepEntries: [number, Uint8Array][] = [
      [Tag.RADI, u32(radius)],
      [Tag.MIDP, u64(toUnits(midpointMs, profile))],
      [Tag.ROOT, tree.root],
    ];
    if (profile.verInSrep) {
      srepEntries.push([Tag.VER, u32(version)], [Tag.VERS, u32List(SUPPORTED_ASCENDING)]);
    }
    const srep = encodeMessage(srepEntries);
    const sig = await online.sign(concat(profile.responseContext, srep));
    members.forEach((r, k) => {
      const entries: [number, Uint8Array][] = [
        [Tag.SIG, sig],
        [Tag.NONC, r.nonce],
        [Tag.PATH, tree.paths[k] as Uint8Array],
        [Tag.SREP, srep],
        [Tag.CERT, delegation.certs[family]],
        [Tag.INDX, u32(k)],
      ];
      if (profile.typeTag) entries.push([Tag.TYPE, u32(1)]);
      if (!profile.verInSrep && profile.framed) entries.push([Tag.VER, u32(version)]);
      const message = encodeMessage(entries);
      const reply = profile.framed ? framePacket(message) : message;
      if (reply.length <= r.packet.length) out[indices[k] as number] = reply;
    });
  }
  return out;
}

/** Parses and answers a batch of raw packets; unanswerable ones get undefined. */
export async function respond(
  packets: readonly Uint8Array[],
  options: SignRepliesOptions,
): Promise<(Uint8Array | undefined)[]> {
  const parsed = packets.map(parseRequest);
  const ok: ServerRequest[] = [];
  const where: number[] = [];
  parsed.forEach((p, i) => {
    if (p.ok) {
      ok.push(p.request);
      where.push(i);
    }
  });
  const replies = ok.length > 0 ? await signReplies(ok, options) : [];
  const out: (Uint8Array | undefined)[] = packets.map(() => undefined);
  replies.forEach((r, k) => (out[where[k] as number] = r));
  return out;
}
