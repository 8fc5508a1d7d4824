/**
 * A multi-server measurement (RFC 10049 §8.2): query servers one after another, the first
 * nonce random and each later one H(previous valid response || rand); verify every reply;
 * check causal order across all valid replies (malfeasance → a §8.4 report naming suspects);
 * then combine the usable replies into proven bounds agreed by a quorum.
 *
 * The transport is injected (`query`): the browser goes through the relay as opaque bytes, Node
 * through a UDP adapter. Whoever carries the bytes can only delay or drop them: the nonce is
 * made here and every signature is checked here.
 */
import { abytes, aint, anonneg, isArray, randomBytes, toHex } from './bytes.js';
import { anchorInterval, boundsAt, DEFAULT_DRIFT_PPM, intersectBounds, type AnchoredBounds } from './bounds.js';
import {
  buildMalfeasanceReport,
  causalViolations,
  chainNonce,
  suspects,
  type ChainLink,
  type MalfeasanceReport,
} from './malfeasance.js';
import { buildRequest, normaliseVersions, type RoughtimeRequest } from './request.js';
import type { Rejected } from './result.js';
import { DEFAULT_MAX_RADIUS_SECONDS, verifyReply, type VerifyReplyResult } from './verify.js';
import { DEFAULT_VERSIONS, versionProfile, type RoughtimeVersion, type VersionProfile } from './versions.js';
import { UsageError } from '../protocol/errors.js';

export interface RoughtimeServer {
  /** For display and reports (§8.3 "name"). */
  readonly name: string;
  /** Long-term Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Versions to offer this server; default RFC 10049 and drafts 12-19. */
  readonly versions?: readonly RoughtimeVersion[];
  /** Opaque to this library: whatever the transport needs (host:port, relay id). */
  readonly address?: string;
}

/** Sends one request packet and resolves with the reply packet; rejects on timeout or failure. */
export type RoughtimeQuery = (server: RoughtimeServer, request: Uint8Array) => Promise<Uint8Array>;

export interface MeasureOptions {
  readonly query: RoughtimeQuery;
  /** Local monotonic clock in ms; default performance.now. */
  readonly now?: () => number;
  /** Randomness; default crypto.getRandomValues. Injected only by tests. */
  readonly random?: (n: number) => Uint8Array;
  /** Distinct servers whose usable replies must agree; default a majority of the servers. */
  readonly quorum?: number;
  readonly maxRadiusSeconds?: number;
  readonly driftPpm?: number;
  /** Query the list twice in the same order (§8.2: needed to detect every inconsistency). Default 1. */
  readonly rounds?: 1 | 2;
}

export type LinkOutcome =
  | { readonly kind: 'unreachable'; readonly code: 'E_ROUGHTIME_UNREACHABLE'; readonly detail: string }
  | { readonly kind: 'reply'; readonly result: VerifyReplyResult };

export interface MeasuredLink {
  readonly server: RoughtimeServer;
  readonly request: RoughtimeRequest;
  readonly rand: Uint8Array | undefined;
  readonly reply: Uint8Array | undefined;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly outcome: LinkOutcome;
}

export interface Malfeasance {
  readonly code: 'E_ROUGHTIME_INCONSISTENT';
  readonly report: MalfeasanceReport;
  /** Indices into `links` of the replies to blame (violators outside the quorum, when there is one). */
  readonly suspects: readonly number[];
  /** Names of the servers that sent them. */
  readonly suspectServers: readonly string[];
  /** Pairs of indices into `links`, (earlier, later), that break causal order. */
  readonly violations: readonly (readonly [number, number])[];
}

export type MeasureResult =
  | {
      readonly ok: true;
      readonly bounds: AnchoredBounds;
      /** Indices into `links` of the replies that formed the quorum. */
      readonly agreeing: readonly number[];
      readonly links: readonly MeasuredLink[];
      readonly malfeasance: Malfeasance | undefined;
    }
  | (Rejected & { readonly links: readonly MeasuredLink[]; readonly malfeasance: Malfeasance | undefined });

/**
 * §8.2: "The client randomly selects at least three servers from the list". A uniform random
 * choice of `count` servers in random order (Fisher-Yates with unbiased draws).
 */
export function chooseServers<T>(
  servers: readonly T[],
  count: number,
  random: (n: number) => Uint8Array = randomBytes,
): T[] {
  if (!isArray(servers)) throw new UsageError('E_USAGE', '"servers" expected an array');
  aint('count', count, 0, servers.length);
  const pool = [...servers];
  for (let i = 0; i < count; i++) {
    const j = i + uniformBelow(pool.length - i, random);
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, count);
}

/** A uniform integer in [0, n) from 32-bit draws, rejecting the biased tail. */
function uniformBelow(n: number, random: (n: number) => Uint8Array): number {
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  for (;;) {
    const b = abytes('random(4)', random(4), 4);
    const x =
      (((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16)) >>> 0) + (b[3] as number) * 0x100_0000;
    if (x < limit) return x % n;
  }
}

function checkServers(servers: unknown): readonly RoughtimeServer[] {
  if (!isArray(servers) || (servers as unknown[]).length === 0 || (servers as unknown[]).length > 20) {
    throw new UsageError('E_USAGE', '"servers" expected 1-20 servers');
  }
  const keys = new Set<string>();
  for (const s of servers as RoughtimeServer[]) {
    if (typeof s !== 'object' || s === null || typeof s.name !== 'string')
      throw new UsageError('E_USAGE', '"server.name" expected a string');
    abytes(`server ${s.name}: publicKey`, s.publicKey, 32);
    if (s.versions !== undefined) normaliseVersions(s.versions);
    // A quorum counts servers, so one key listed twice must not count twice.
    const key = toHex(s.publicKey);
    if (keys.has(key)) throw new UsageError('E_USAGE', `"servers" lists the key of ${s.name} twice`);
    keys.add(key);
  }
  return servers as readonly RoughtimeServer[];
}

/**
 * Measures. Throws only on bad arguments; every network outcome is in the result.
 */
export async function measure(servers: readonly RoughtimeServer[], options: MeasureOptions): Promise<MeasureResult> {
  const list = checkServers(servers);
  if (typeof options !== 'object' || options === null || typeof options.query !== 'function') {
    throw new UsageError('E_USAGE', '"options.query" expected a function');
  }
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? randomBytes;
  const rounds = aint('rounds', options.rounds ?? 1, 1, 2);
  const quorum = aint('quorum', options.quorum ?? Math.floor(list.length / 2) + 1, 1, list.length);
  const maxRadiusSeconds = anonneg('maxRadiusSeconds', options.maxRadiusSeconds ?? DEFAULT_MAX_RADIUS_SECONDS);
  const driftPpm = anonneg('driftPpm', options.driftPpm ?? DEFAULT_DRIFT_PPM);

  const links: MeasuredLink[] = [];
  const valid: number[] = []; // indices into links, in order received
  let previous: Uint8Array | undefined; // last valid reply: the next nonce chains from it
  for (let round = 0; round < rounds; round++) {
    for (const server of list) {
      const versions = normaliseVersions(server.versions ?? DEFAULT_VERSIONS);
      const profile = versionProfile(versions[versions.length - 1] as RoughtimeVersion) as VersionProfile;
      const rand = previous === undefined ? undefined : abytes('random(32)', random(32), 32);
      const nonce =
        previous === undefined || rand === undefined
          ? abytes('random(n)', random(profile.nonceBytes), profile.nonceBytes)
          : await chainNonce(previous, rand, profile.nonceBytes);
      const request = await buildRequest({ versions, nonce, publicKey: server.publicKey });
      const sentAt = now();
      let reply: Uint8Array | undefined;
      let failure = 'no reply';
      try {
        const answer: unknown = await options.query(server, request.packet);
        if (answer instanceof Uint8Array) reply = answer;
        else failure = 'query resolved with something other than a Uint8Array';
      } catch (e) {
        failure = e instanceof Error ? e.message : 'query failed';
      }
      const receivedAt = now();
      let outcome: LinkOutcome;
      if (reply === undefined) {
        outcome = { kind: 'unreachable', code: 'E_ROUGHTIME_UNREACHABLE', detail: failure };
      } else {
        const result = await verifyReply({ request, reply, publicKey: server.publicKey, maxRadiusSeconds });
        outcome = { kind: 'reply', result };
        if (result.ok) {
          valid.push(links.length);
          previous = reply;
        }
      }
      links.push({ server, request, rand, reply, sentAt, receivedAt, outcome });
    }
  }

  const combined = combine(links, quorum, driftPpm, now());
  const malfeasance = findMalfeasance(links, valid, combined?.members);
  if (combined === undefined) {
    const usable = links.filter(
      (l) => l.outcome.kind === 'reply' && l.outcome.result.ok && l.outcome.result.kind === 'time',
    ).length;
    return {
      ok: false,
      code: 'E_ROUGHTIME_NO_QUORUM',
      detail: `${usable} usable replies, no ${quorum} of them agree`,
      links,
      malfeasance,
    };
  }
  return { ok: true, bounds: combined.bounds, agreeing: combined.members, links, malfeasance };
}

/**
 * §8.2 causal check over every valid reply. Who to blame: the causal check alone shows only
 * that one reply of each violating pair is wrong; when a quorum agreed (judged with our own
 * monotonic clock too), the violators outside it are named, else `suspects()` decides.
 */
function findMalfeasance(
  links: readonly MeasuredLink[],
  valid: readonly number[],
  agreeing: readonly number[] | undefined,
): Malfeasance | undefined {
  const replies = valid.map((i) => {
    const o = (links[i] as MeasuredLink).outcome;
    if (o.kind !== 'reply' || !o.result.ok) throw new Error('unreachable: valid link without a valid reply');
    return o.result.reply;
  });
  const violations = causalViolations(replies);
  if (violations.length === 0) return undefined;
  const chain: ChainLink[] = valid.map((i, k) => {
    const l = links[i] as MeasuredLink;
    return {
      publicKey: l.server.publicKey,
      rand: k === 0 ? undefined : l.rand,
      request: l.request.packet,
      response: l.reply as Uint8Array,
    };
  });
  const trusted = new Set((agreeing ?? []).map((i) => toHex((links[i] as MeasuredLink).server.publicKey)));
  const violators = [...new Set(violations.flat())].sort((a, b) => a - b).map((k) => valid[k] as number);
  const outside = violators.filter((i) => !trusted.has(toHex((links[i] as MeasuredLink).server.publicKey)));
  const blamed = outside.length > 0 ? outside : suspects(replies.length, violations).map((k) => valid[k] as number);
  return {
    code: 'E_ROUGHTIME_INCONSISTENT',
    report: buildMalfeasanceReport(chain),
    suspects: blamed,
    suspectServers: [...new Set(blamed.map((i) => (links[i] as MeasuredLink).server.name))],
    violations: violations.map(([a, b]) => [valid[a] as number, valid[b] as number] as const),
  };
}

/**
 * The largest set of usable replies, from the most distinct servers, whose extrapolated
 * intervals share an instant at `at` (the deepest point is some interval's lower end); if those
 * servers reach the quorum, the intersection of their intervals is the result.
 */
function combine(
  links: readonly MeasuredLink[],
  quorum: number,
  driftPpm: number,
  at: number,
): { bounds: AnchoredBounds; members: number[] } | undefined {
  const usable: { index: number; key: string; bounds: AnchoredBounds; lo: number; hi: number }[] = [];
  links.forEach((l, index) => {
    if (l.outcome.kind !== 'reply' || !l.outcome.result.ok || l.outcome.result.kind !== 'time') return;
    const bounds = anchorInterval(l.outcome.result.interval, l.sentAt, l.receivedAt);
    const { earliestMs, latestMs } = boundsAt(bounds, at, driftPpm);
    usable.push({ index, key: toHex(l.server.publicKey), bounds, lo: earliestMs, hi: latestMs });
  });
  let best: typeof usable = [];
  let bestServers = 0;
  for (const candidate of usable) {
    const covering = usable.filter((u) => u.lo <= candidate.lo && candidate.lo <= u.hi);
    const servers = new Set(covering.map((u) => u.key)).size;
    if (servers > bestServers || (servers === bestServers && covering.length > best.length)) {
      best = covering;
      bestServers = servers;
    }
  }
  if (bestServers < quorum || best.length === 0) return undefined;
  let bounds = (best[0] as (typeof usable)[number]).bounds;
  for (const u of best.slice(1)) bounds = intersectBounds(bounds, u.bounds, driftPpm);
  return { bounds, members: best.map((u) => u.index) };
}
