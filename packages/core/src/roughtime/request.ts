/**
 * Building requests (RFC 10049 §5.1). A modern request carries VER (the offered versions,
 * ascending, no repeats, at most 32; §5.1.1), NONC (32 bytes; §5.1.2), TYPE = 0 (§5.1.3),
 * optionally SRV = H(0xff || long-term public key) (§5.1.4), and ZZZZ zero padding so the
 * packet is 1,024 bytes (§5.1, §5.1.5). Drafts 08/11 have no TYPE (SRV from draft 11 on); Google
 * has a bare message with a 64-byte NONC and PAD\xff padding.
 */
import { abytes, aint, concat, randomBytes, u32, u32List } from './bytes.js';
import { hashTruncated } from './merkle.js';
import { FRAME_HEADER_BYTES, framePacket } from './packet.js';
import { encodeMessage, Tag } from './tags.js';
import {
  DEFAULT_VERSIONS,
  isSupportedVersion,
  RoughtimeVersion,
  versionFamily,
  versionProfile,
  type VersionProfile,
} from './versions.js';
import { UsageError } from '../protocol/errors.js';

/** §5.1: requests SHOULD be at least 1,024 bytes (we count the whole packet, as deployed clients do). */
export const MIN_REQUEST_BYTES = 1024;
/** §5.1.1: "MUST NOT contain more than 32 version numbers". */
export const MAX_VERSIONS = 32;

export interface RoughtimeRequest {
  /** The bytes to send, frame included; draft 12+ replies hash exactly these into their Merkle leaf. */
  readonly packet: Uint8Array;
  readonly nonce: Uint8Array;
  /** The versions offered, ascending; a reply must choose one of them. */
  readonly versions: readonly RoughtimeVersion[];
  /** Profile shared by every offered version (leaf input, contexts, sizes). */
  readonly profile: VersionProfile;
}

export interface BuildRequestOptions {
  /** Versions to offer; default RFC 10049 (1) and drafts 12-19 (0x8000000c). */
  readonly versions?: readonly RoughtimeVersion[];
  /** The nonce; default random. 32 bytes (64 for Google). Chained measurements pass H(prev || rand). */
  readonly nonce?: Uint8Array;
  /** The server's long-term Ed25519 key: adds SRV where the version has it (§5.1.4). */
  readonly publicKey?: Uint8Array;
  /** Total packet size, a multiple of 4; default 1,024. */
  readonly size?: number;
}

/** §5.1.4: SRV = H(0xff || public_key), H = SHA-512 truncated to 32 bytes. */
export async function srvValue(publicKey: Uint8Array): Promise<Uint8Array> {
  abytes('publicKey', publicKey, 32);
  return (await hashTruncated(concat(new Uint8Array([0xff]), publicKey), 32)).slice();
}

/** Checks and sorts a version offer; throws a usage error when it cannot be one request. */
export function normaliseVersions(versions: unknown): readonly RoughtimeVersion[] {
  if (!Array.isArray(versions) || versions.length === 0) {
    throw new UsageError('E_USAGE', '"versions" expected a non-empty array of Roughtime versions');
  }
  if (versions.length > MAX_VERSIONS)
    throw new UsageError('E_USAGE', `"versions" expected at most ${MAX_VERSIONS}, got ${versions.length}`);
  const out: RoughtimeVersion[] = [];
  for (const v of versions as unknown[]) {
    if (!isSupportedVersion(v))
      throw new UsageError('E_USAGE', `"versions" contains an unsupported version ${String(v)}`);
    if (out.includes(v)) throw new UsageError('E_USAGE', `"versions" repeats ${v}`);
    out.push(v);
  }
  const family = versionFamily(out[0] as RoughtimeVersion);
  if (out.some((v) => versionFamily(v) !== family)) {
    throw new UsageError('E_USAGE', '"versions" mixes incompatible families (RFC/draft 12+, drafts 08/11, Google)');
  }
  return out.sort((a, b) => a - b);
}

/**
 * Builds one request. Throws a usage error on bad arguments (our own bug, not network input).
 */
export async function buildRequest(options: BuildRequestOptions = {}): Promise<RoughtimeRequest> {
  if (typeof options !== 'object' || options === null) throw new UsageError('E_USAGE', '"options" expected an object');
  const versions = normaliseVersions(options.versions ?? DEFAULT_VERSIONS);
  const top = versions[versions.length - 1] as RoughtimeVersion;
  const profile = versionProfile(top) as VersionProfile;
  const nonce =
    options.nonce === undefined
      ? randomBytes(profile.nonceBytes)
      : abytes('nonce', options.nonce, profile.nonceBytes).slice();
  const size = options.size === undefined ? MIN_REQUEST_BYTES : aint('size', options.size, MIN_REQUEST_BYTES, 65_535);
  if (size % 4 !== 0) throw new UsageError('E_USAGE', `"size" expected a multiple of 4, got ${size}`);

  const entries: (readonly [number, Uint8Array])[] = [[Tag.NONC, nonce]];
  if (profile.framed) entries.push([Tag.VER, u32List(versions)]);
  if (profile.typeTag) entries.push([Tag.TYPE, u32(0)]);
  // SRV exists from draft 11 on; in a drafts-08/11 offer it is sent only when 11 is offered.
  const srvAllowed = profile.srvTag && (versionFamily(top) !== 'draft' || versions.includes(RoughtimeVersion.DRAFT_11));
  if (options.publicKey !== undefined && srvAllowed) entries.push([Tag.SRV, await srvValue(options.publicKey)]);
  else if (options.publicKey !== undefined) abytes('publicKey', options.publicKey, 32);

  // Padding: whatever brings the packet to `size`. Header = 8 bytes per tag (with the pad tag).
  const frame = profile.framed ? FRAME_HEADER_BYTES : 0;
  let valuesLength = 0;
  for (const [, v] of entries) valuesLength += v.length;
  const padLength = size - frame - 8 * (entries.length + 1) - valuesLength;
  if (padLength < 0) throw new UsageError('E_USAGE', `"size" ${size} is too small for this request`);
  entries.push([profile.padTag === 'ZZZZ' ? Tag.ZZZZ : Tag.PAD, new Uint8Array(padLength)]);

  const message = encodeMessage(entries);
  const packet = profile.framed ? framePacket(message) : message;
  return { packet, nonce, versions, profile };
}
