/**
 * The wire versions we speak and what differs between them. One profile per version; every
 * other file asks the profile instead of comparing version numbers.
 *
 * - RFC 10049 version 1 and 0x8000000c (drafts 12-19, what deployed servers speak): framed,
 *   32-byte nonce, TYPE tag, VER/VERS inside the signed SREP, Merkle leaf H(0x00 || request
 *   packet) (§5.3), delegation context "RoughTime v1 delegation signature" (§5.2.6), seconds.
 * - Draft 11 (0x8000000b) and draft 08 (0x80000008): framed, 32-byte nonce, VER at the top of
 *   the reply (unsigned), leaf H(0x00 || nonce), the "--" delegation context; draft 11 adds the
 *   SRV request tag. Times are Unix seconds as deployed (Cloudflare's server and its published
 *   vectors, which we verify), not the MJD encoding some early drafts described.
 * - Google's original protocol: no frame, no VER, 64-byte nonce, full SHA-512 (64-byte hashes),
 *   PAD\xff padding, the "--" delegation context, microseconds.
 */

export const RoughtimeVersion = {
  /** RFC 10049 §5 and §12.2: "Roughtime version 1". */
  RFC: 1,
  /** draft-ietf-ntp-roughtime-12 to -19 (the draft number 12 plus 0x80000000, kept until -19). */
  DRAFT_12: 0x8000000c,
  DRAFT_11: 0x8000000b,
  DRAFT_08: 0x80000008,
  /** Not a wire value: Google's protocol has no VER tag. 0 is reserved in §12.2, so it cannot clash. */
  GOOGLE: 0,
} as const;
export type RoughtimeVersion = (typeof RoughtimeVersion)[keyof typeof RoughtimeVersion];

export interface VersionProfile {
  readonly version: RoughtimeVersion;
  readonly name: string;
  /** ROUGHTIM frame around every packet. */
  readonly framed: boolean;
  readonly nonceBytes: 32 | 64;
  /** Bytes of SHA-512 kept for Merkle nodes and ROOT (§5.3: the first 32; Google: all 64). */
  readonly hashBytes: 32 | 64;
  /** What the Merkle leaf hashes: the whole request packet (§5.3, draft 12+) or the nonce. */
  readonly leaf: 'request' | 'nonce';
  /** VER (and VERS) are inside SREP, hence signed (§5.2.5); older drafts put VER at the top. */
  readonly verInSrep: boolean;
  /** Request and reply carry TYPE (0 request, 1 response; §5.1.3, §5.2.3). */
  readonly typeTag: boolean;
  /** The request may carry SRV (§5.1.4; introduced in draft 11). */
  readonly srvTag: boolean;
  readonly padTag: 'ZZZZ' | 'PAD';
  /** Signature contexts, each with its terminating zero byte (§5.2.1). */
  readonly delegationContext: Uint8Array;
  readonly responseContext: Uint8Array;
  /** Units of MIDP, MINT, MAXT and RADI. */
  readonly unitsPerSecond: 1 | 1_000_000;
}

const enc = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length + 1); // + the terminating zero byte
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

/** §5.2.6 (draft 12+): "RoughTime v1 delegation signature" plus its zero byte. */
const DELEGATION_CONTEXT = enc('RoughTime v1 delegation signature');
/** Google's protocol and drafts up to 11: the same string with "--". */
const DELEGATION_CONTEXT_LEGACY = enc('RoughTime v1 delegation signature--');
/** §5.2.1: the response context, unchanged since Google's protocol. */
const RESPONSE_CONTEXT = enc('RoughTime v1 response signature');

const modern = (version: RoughtimeVersion, name: string): VersionProfile => ({
  version,
  name,
  framed: true,
  nonceBytes: 32,
  hashBytes: 32,
  leaf: 'request',
  verInSrep: true,
  typeTag: true,
  srvTag: true,
  padTag: 'ZZZZ',
  delegationContext: DELEGATION_CONTEXT,
  responseContext: RESPONSE_CONTEXT,
  unitsPerSecond: 1,
});

const draft = (version: RoughtimeVersion, name: string, srvTag: boolean): VersionProfile => ({
  version,
  name,
  framed: true,
  nonceBytes: 32,
  hashBytes: 32,
  leaf: 'nonce',
  verInSrep: false,
  typeTag: false,
  srvTag,
  padTag: 'ZZZZ',
  delegationContext: DELEGATION_CONTEXT_LEGACY,
  responseContext: RESPONSE_CONTEXT,
  unitsPerSecond: 1,
});

const PROFILES: ReadonlyMap<number, VersionProfile> = new Map<number, VersionProfile>([
  [RoughtimeVersion.RFC, modern(RoughtimeVersion.RFC, 'RFC 10049 (version 1)')],
  [RoughtimeVersion.DRAFT_12, modern(RoughtimeVersion.DRAFT_12, 'draft-ietf-ntp-roughtime-12..19')],
  [RoughtimeVersion.DRAFT_11, draft(RoughtimeVersion.DRAFT_11, 'draft-ietf-ntp-roughtime-11', true)],
  [RoughtimeVersion.DRAFT_08, draft(RoughtimeVersion.DRAFT_08, 'draft-ietf-ntp-roughtime-08', false)],
  [
    RoughtimeVersion.GOOGLE,
    {
      version: RoughtimeVersion.GOOGLE,
      name: 'Google Roughtime',
      framed: false,
      nonceBytes: 64,
      hashBytes: 64,
      leaf: 'nonce',
      verInSrep: false,
      typeTag: false,
      srvTag: false,
      padTag: 'PAD',
      delegationContext: DELEGATION_CONTEXT_LEGACY,
      responseContext: RESPONSE_CONTEXT,
      unitsPerSecond: 1_000_000,
    },
  ],
]);

/** The profile of a version we support, or undefined. */
export function versionProfile(version: number): VersionProfile | undefined {
  return PROFILES.get(version);
}

export function isSupportedVersion(version: unknown): version is RoughtimeVersion {
  return typeof version === 'number' && PROFILES.has(version);
}

/** What a client offers by default: RFC 10049 and drafts 12-19, ascending (§5.1.1). */
export const DEFAULT_VERSIONS: readonly RoughtimeVersion[] = [RoughtimeVersion.RFC, RoughtimeVersion.DRAFT_12];

/**
 * The versions that may share one request: the modern pair (1, 0x8000000c), which are
 * wire-identical, or drafts 08 and 11 (Cloudflare's client offers both), or Google alone.
 * Mixing families would make the reply's leaf hash and contexts ambiguous (§5.1.1: "version
 * numbers and tags included in the request MUST be compatible").
 */
export function versionFamily(version: RoughtimeVersion): 'modern' | 'draft' | 'google' {
  switch (version) {
    case RoughtimeVersion.RFC:
    case RoughtimeVersion.DRAFT_12:
      return 'modern';
    case RoughtimeVersion.DRAFT_11:
    case RoughtimeVersion.DRAFT_08:
      return 'draft';
    case RoughtimeVersion.GOOGLE:
      return 'google';
  }
}
