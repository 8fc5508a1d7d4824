/**
 * Causal consistency and malfeasance reports (RFC 10049 §8.2 "Measurement Sequence", §8.4
 * "Malfeasance Reporting").
 *
 * §8.2: for every pair of valid responses (i, j) with i received before j, MIDP_i - RADI_i must
 * be ≤ MIDP_j + RADI_j; otherwise at least one server signed a wrong time. Because each request
 * nonce is H(previous response || rand), the chain proves the order to anyone.
 *
 * §8.4.1: a report is a JSON object {"responses": [{"rand", "publicKey", "request",
 * "response"}, ...]} in the order received, every value base64 (rand omitted for the first).
 * §8.4.2: never report for signature failures or other protocol errors; only valid responses
 * enter a report.
 */
import { concat, bytesEqual, fromBase64, isArray, toBase64 } from './bytes.js';
import { hashTruncated } from './merkle.js';
import type { RoughtimeRequest } from './request.js';
import { reject, type Rejected } from './result.js';
import { parseRequest } from './server.js';
import { verifyReply, type VerifiedReply } from './verify.js';
import { versionFamily, versionProfile, type VersionProfile } from './versions.js';

export const MALFEASANCE_MEDIA_TYPE = 'application/roughtime-malfeasance+json';
/** Most responses we accept in a report we are asked to check. */
export const MAX_REPORT_RESPONSES = 64;

export interface MalfeasanceReportEntry {
  readonly publicKey: string;
  readonly rand?: string;
  readonly request: string;
  readonly response: string;
}
export interface MalfeasanceReport {
  readonly responses: readonly MalfeasanceReportEntry[];
}

export interface ChainLink {
  readonly publicKey: Uint8Array;
  /** The 32 random bytes that made this request's nonce from the previous response (absent for the first). */
  readonly rand?: Uint8Array;
  readonly request: Uint8Array;
  readonly response: Uint8Array;
}

/** §8.2: nonce = H(previous response packet || rand), SHA-512 truncated to the nonce size. */
export async function chainNonce(
  previousResponse: Uint8Array,
  rand: Uint8Array,
  nonceBytes: 32 | 64,
): Promise<Uint8Array> {
  return (await hashTruncated(concat(previousResponse, rand), nonceBytes)).slice();
}

/** Builds the §8.4.1 report from valid links, in the order received. */
export function buildMalfeasanceReport(links: readonly ChainLink[]): MalfeasanceReport {
  return {
    responses: links.map((l, i) => ({
      publicKey: toBase64(l.publicKey),
      ...(l.rand !== undefined && i > 0 ? { rand: toBase64(l.rand) } : {}),
      request: toBase64(l.request),
      response: toBase64(l.response),
    })),
  };
}

/** MIDP ± RADI in microseconds, so replies of different versions compare. */
function spanMicros(r: VerifiedReply): { lo: bigint; hi: bigint } {
  const scale = BigInt(1_000_000 / r.unitsPerSecond);
  const mid = r.midpoint * scale;
  const rad = BigInt(r.radius) * scale;
  return { lo: mid - rad, hi: mid + rad };
}

/** §8.2: every pair (i, j), i received before j, with MIDP_i - RADI_i > MIDP_j + RADI_j. */
export function causalViolations(replies: readonly VerifiedReply[]): [number, number][] {
  const spans = replies.map(spanMicros);
  const out: [number, number][] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      if ((spans[i] as { lo: bigint }).lo > (spans[j] as { hi: bigint }).hi) out.push([i, j]);
    }
  }
  return out;
}

/**
 * The replies to blame: those outside at least one largest causally consistent subset. With one
 * liar among honest servers that is exactly the liar; when two replies contradict each other
 * and nothing else decides, both are named.
 */
export function suspects(count: number, violations: readonly (readonly [number, number])[]): number[] {
  if (violations.length === 0) return [];
  if (count > 20) throw new RangeError('suspects: at most 20 replies'); // 2^20 subsets
  const bad = new Set(violations.map(([i, j]) => i * count + j));
  let best = 0;
  const maxSets: number[] = [];
  for (let mask = 1; mask < 1 << count; mask++) {
    let ok = true;
    for (let i = 0; ok && i < count; i++) {
      if (!(mask & (1 << i))) continue;
      for (let j = i + 1; j < count; j++) {
        if (mask & (1 << j) && bad.has(i * count + j)) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) continue;
    const size = popcount(mask);
    if (size > best) {
      best = size;
      maxSets.length = 0;
    }
    if (size === best) maxSets.push(mask);
  }
  const always = maxSets.reduce((a, m) => a & m, (1 << count) - 1);
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (!(always & (1 << i))) out.push(i);
  return out;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v &= v - 1) n++;
  return n;
}

export type CheckReportResult =
  | {
      readonly ok: true;
      readonly replies: readonly VerifiedReply[];
      readonly violations: readonly [number, number][];
      readonly suspects: readonly number[];
    }
  | Rejected;

/**
 * Checks a report someone gave us (or one we made): every response valid for its request and
 * key, every request nonce chained from the previous response, then the causal check. A report
 * with no violation is valid but proves nothing against anyone. Never throws.
 */
export async function checkMalfeasanceReport(report: unknown): Promise<CheckReportResult> {
  let value = report;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return reject('E_ROUGHTIME_MALFORMED', 'report is not JSON');
    }
  }
  const responses =
    typeof value === 'object' && value !== null ? (value as { responses?: unknown }).responses : undefined;
  if (!isArray(responses)) return reject('E_ROUGHTIME_MALFORMED', 'report lacks a "responses" array');
  const list = responses as unknown[];
  if (list.length === 0 || list.length > MAX_REPORT_RESPONSES)
    return reject('E_ROUGHTIME_MALFORMED', `report has ${list.length} responses`);
  const replies: VerifiedReply[] = [];
  let previous: Uint8Array | undefined;
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as Record<string, unknown> | null;
    const field = (k: string): Uint8Array | undefined => (typeof e?.[k] === 'string' ? fromBase64(e[k]) : undefined);
    const publicKey = field('publicKey');
    const packet = field('request');
    const response = field('response');
    if (publicKey?.length !== 32 || packet === undefined || response === undefined) {
      return reject('E_ROUGHTIME_MALFORMED', `response ${i}: publicKey, request and response must be base64`);
    }
    const parsed = parseRequest(packet);
    if (!parsed.ok) return reject(parsed.code, `response ${i}: request: ${parsed.detail}`);
    // Verify as the server would answer: the versions of the family it picks from the offer.
    const chosen = parsed.request.version;
    const profile = versionProfile(chosen) as VersionProfile;
    const request: Pick<RoughtimeRequest, 'packet' | 'nonce' | 'versions'> = {
      packet,
      nonce: parsed.request.nonce,
      versions: parsed.request.versions.filter((v) => versionFamily(v) === versionFamily(chosen)),
    };
    const verified = await verifyReply({ request, reply: response, publicKey, maxRadiusSeconds: Infinity });
    if (!verified.ok) return reject(verified.code, `response ${i}: ${verified.detail}`);
    if (previous !== undefined) {
      const rand = field('rand');
      if (rand?.length !== 32) return reject('E_ROUGHTIME_MALFORMED', `response ${i}: rand must be 32 bytes of base64`);
      if (!bytesEqual(await chainNonce(previous, rand, profile.nonceBytes), parsed.request.nonce)) {
        return reject('E_ROUGHTIME_NONCE_MISMATCH', `response ${i}: nonce is not H(previous response || rand)`);
      }
    }
    replies.push(verified.reply);
    previous = response;
  }
  const violations = causalViolations(replies);
  return { ok: true, replies, violations, suspects: suspects(replies.length, violations) };
}
