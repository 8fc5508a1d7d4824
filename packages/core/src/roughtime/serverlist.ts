/**
 * Server lists (RFC 10049 §8.3, media type application/roughtime-server+json): validated once
 * at the boundary into `RoughtimeServer`s that `measure` can query. Servers we cannot speak to
 * (another key type, an unknown version) are skipped with a reason, not fatal: a list is
 * shared by clients of different ages.
 */
import { fromBase64, isArray } from './bytes.js';
import type { RoughtimeServer } from './chain.js';
import { reject, type Rejected } from './result.js';
import { RoughtimeVersion } from './versions.js';

export const SERVER_LIST_MEDIA_TYPE = 'application/roughtime-server+json';
/** §8.3 (note to the RFC editor): the "version" that marks Google's pre-IETF protocol. */
export const GOOGLE_LIST_VERSION = 3000600613;
/** Most servers we read from one list. */
export const MAX_LIST_SERVERS = 256;

export interface ServerAddress {
  readonly protocol: 'udp' | 'tcp';
  /** Host as written (IPv6 without its brackets), and port. */
  readonly host: string;
  readonly port: number;
}

export interface ListedServer extends RoughtimeServer {
  readonly address: string;
  readonly addresses: readonly ServerAddress[];
}

export interface ServerList {
  readonly servers: readonly ListedServer[];
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  readonly sources: readonly string[];
  readonly reports: string | undefined;
}

/** What to offer a server whose list entry says `version` is its highest. */
function offerFor(version: number): RoughtimeVersion[] | undefined {
  switch (version) {
    case RoughtimeVersion.RFC:
      return [RoughtimeVersion.RFC, RoughtimeVersion.DRAFT_12];
    case RoughtimeVersion.DRAFT_12:
      return [RoughtimeVersion.DRAFT_12];
    case RoughtimeVersion.DRAFT_11:
      return [RoughtimeVersion.DRAFT_08, RoughtimeVersion.DRAFT_11];
    case RoughtimeVersion.DRAFT_08:
      return [RoughtimeVersion.DRAFT_08];
    case GOOGLE_LIST_VERSION:
      return [RoughtimeVersion.GOOGLE];
    default:
      return undefined;
  }
}

const HOST =
  /^(?:\[([0-9a-fA-F:.]+)\]|([0-9]{1,3}(?:\.[0-9]{1,3}){3})|((?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)):([0-9]{1,5})$/;

/** "host:port" with an IPv4 address, a bracketed IPv6 address (no zone) or a domain name (§8.3). */
export function parseAddress(text: string): { host: string; port: number } | undefined {
  const m = HOST.exec(text);
  if (m === null) return undefined;
  const port = Number(m[4]);
  if (!Number.isInteger(port) || port > 65_535) return undefined;
  if (m[2] !== undefined && m[2].split('.').some((o) => Number(o) > 255)) return undefined;
  if (m[1] !== undefined && !m[1].includes(':')) return undefined;
  return { host: m[1] ?? m[2] ?? (m[3] as string), port };
}

const isHttpsUrl = (x: unknown): x is string =>
  typeof x === 'string' && x.length <= 2048 && /^https:\/\/[^\s/?#]+[^\s]*$/.test(x);

export type ParseServerListResult = { readonly ok: true; readonly list: ServerList } | Rejected;

/** Parses a server list (a JSON string or an already parsed value). Never throws. */
export function parseServerList(input: unknown): ParseServerListResult {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return reject('E_ROUGHTIME_MALFORMED', 'server list is not JSON');
    }
  }
  if (typeof value !== 'object' || value === null || isArray(value))
    return reject('E_ROUGHTIME_MALFORMED', 'server list is not an object');
  const obj = value as Record<string, unknown>;
  if (!isArray(obj.servers)) return reject('E_ROUGHTIME_MALFORMED', 'server list lacks a "servers" array');
  const entries = obj.servers as unknown[];
  if (entries.length > MAX_LIST_SERVERS)
    return reject('E_ROUGHTIME_MALFORMED', `server list has more than ${MAX_LIST_SERVERS} servers`);
  const sources = obj.sources === undefined ? [] : obj.sources;
  if (!isArray(sources) || !(sources as unknown[]).every(isHttpsUrl))
    return reject('E_ROUGHTIME_MALFORMED', '"sources" must be HTTPS URLs');
  if (obj.reports !== undefined && !isHttpsUrl(obj.reports))
    return reject('E_ROUGHTIME_MALFORMED', '"reports" must be an HTTPS URL');

  const servers: ListedServer[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const [i, raw] of entries.entries()) {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const name = typeof e.name === 'string' && e.name.length > 0 && e.name.length <= 256 ? e.name : `server #${i}`;
    const skip = (reason: string): void => void skipped.push({ name, reason });
    if (typeof e.name !== 'string') {
      skip('no name');
      continue;
    }
    if (e.publicKeyType !== 'ed25519') {
      skip(`key type ${String(e.publicKeyType)} is not supported`);
      continue;
    }
    const publicKey = typeof e.publicKey === 'string' ? fromBase64(e.publicKey) : undefined;
    if (publicKey?.length !== 32) {
      skip('publicKey is not 32 bytes of base64');
      continue;
    }
    const versions = typeof e.version === 'number' ? offerFor(e.version) : undefined;
    if (versions === undefined) {
      skip(`version ${String(e.version)} is not supported`);
      continue;
    }
    const addresses: ServerAddress[] = [];
    if (isArray(e.addresses)) {
      for (const a of e.addresses as unknown[]) {
        const ad = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
        const parsed = typeof ad.address === 'string' ? parseAddress(ad.address) : undefined;
        if ((ad.protocol === 'udp' || ad.protocol === 'tcp') && parsed)
          addresses.push({ protocol: ad.protocol, ...parsed });
      }
    }
    if (addresses.length === 0) {
      skip('no valid address');
      continue;
    }
    const first = addresses[0] as ServerAddress;
    const address = `${first.host.includes(':') ? `[${first.host}]` : first.host}:${first.port}`;
    servers.push({ name, publicKey, versions, address, addresses });
  }
  return { ok: true, list: { servers, skipped, sources: sources as string[], reports: obj.reports } };
}
