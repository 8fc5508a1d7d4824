/**
 * Invite links: `http(s)://host:port/<base>/#<fragment>`.
 *
 * The fragment never leaves the device that opens the link (browsers do not send it, and our
 * clients strip it before connecting). It carries, as `key=value` pairs joined by `&`:
 *   r  room id (22 base64url chars)              — absent: a link to the server only
 *   k  invite secret (32 bytes, base64url)       — with r
 *   f  inviter's identity fingerprint (32 bytes) — with r
 *   n  room name, UTF-8 as base64url (≤ 64 bytes) — optional, with r
 *   c  SHA-256 of the server's TLS certificate   — optional, pins a self-signed certificate
 *   t  Roughtime servers the inviter chose (air-gapped use), base64url of, per server:
 *      u8 hostLen ‖ host (ASCII) ‖ u16 BE port ‖ 32-byte Ed25519 key — optional, ≤ 8 servers
 *   a  other relays of the same cluster ("also": same base path, same password), tried in
 *      order when the link's own relay cannot be reached; base64url of, per relay:
 *      u8 flags (bit 0 TLS, bit 1 pin follows) ‖ u8 hostLen ‖ host (ASCII; IPv6 in brackets) ‖
 *      u16 BE port ‖ [32-byte SHA-256 certificate pin] — optional, ≤ 8 relays (link-also.ts).
 *      A relay listed here is as trusted as the link's own host (whoever can edit the list
 *      holds the link already), and its own pin, if any, is checked as `c` is for the host.
 * Unknown keys are ignored (later versions add some); a repeated key is refused. The link's host
 * is a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional port.
 */
import { fromBase64Url, isId, toBase64Url } from './ids.js';
import { decodeAlsoRelays, encodeAlsoRelays, splitAuthority, type AlsoRelay } from './link-also.js';
import { decodeTimeServers, encodeTimeServers, type TimeServerSpec } from './link-time.js';

export type { TimeServerSpec } from './link-time.js';
export type { AlsoRelay } from './link-also.js';

export type RoomInvite = { id: string; secret: Uint8Array; inviter: Uint8Array; name?: string };

/** One relay a link names. */
export type RelayEndpoint = {
  /** Its base URL with a trailing slash, e.g. `http://127.0.0.1:8090/abc/` (the path is a secret). */
  base: string;
  /** Its WebSocket URL under that base. */
  ws: string;
  /** `host:port`, the port always written: what a UI or a log may show (never the path). */
  address: string;
  /** SHA-256 of its TLS certificate: the link's `c` for its own host, an `a` entry's pin for another. */
  certFingerprint?: Uint8Array;
};

export type Invite = {
  /** The server's base URL with a trailing slash and no fragment, e.g. `http://127.0.0.1:8090/abc/`. */
  base: string;
  /** The WebSocket URL of the relay under that base. */
  ws: string;
  room?: RoomInvite;
  certFingerprint?: Uint8Array;
  /** Roughtime servers chosen by the inviter (`t`); a client uses them when given none itself. */
  timeServers?: TimeServerSpec[];
  /**
   * Every relay the link names, in the order a client tries them: the link's own first (the
   * same `base`, `ws` and `certFingerprint` as above), then those of `a`, under the same path.
   */
  relays: RelayEndpoint[];
};

/** What `formatInvite` writes besides the base and the room. */
export type InviteOptions = {
  /** The `c` pin of the link's own host. */
  certFingerprint?: Uint8Array;
  timeServers?: readonly TimeServerSpec[];
  /**
   * Other relays of the cluster (`a`), by base URL: each must have the link's own path and
   * differ from the link's host and from each other (TypeError otherwise); at most 8.
   */
  also?: ReadonlyArray<{ base: string; certFingerprint?: Uint8Array }>;
};
export type ParseInviteResult = { ok: true; invite: Invite } | { ok: false; message: string };

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

/** A base path is `/seg/seg...` of URL-safe characters; `/` alone is refused (it would hide nothing). */
export function isValidBasePath(p: string): boolean {
  return BASE_PATH.test(p) && !p.split('/').some((s) => s === '.' || s === '..') && p.length <= 200;
}

export function relayUrl(base: string): string {
  return base.replace(/^http/, 'ws') + 'ws';
}

/** A base URL split into what a link carries: scheme, host and port (defaulted), path with its trailing slash. */
type SplitBase = { tls: boolean; host: string; port: number; path: string };

const BASE_URL = /^(https?):\/\/([^/?#\s]+)(\/[^?#\s]*)?$/;

function splitBase(base: string): SplitBase | undefined {
  const m = BASE_URL.exec(base);
  if (!m) return undefined;
  const [, scheme, authority = '', rawPath = '/'] = m;
  const tls = scheme === 'https';
  const hp = splitAuthority(authority, tls);
  return hp && { tls, ...hp, path: rawPath.endsWith('/') ? rawPath : `${rawPath}/` };
}

/** The same relay, whatever the case of its name. */
const relayKey = (r: { tls: boolean; host: string; port: number }): string => `${r.tls ? 's' : ''}|${r.host.toLowerCase()}|${r.port}`;

/** `scheme://host[:port]` + path: the port left out when it is the scheme's own (as a URL's origin writes it). */
function baseOf(r: AlsoRelay, path: string): string {
  const port = r.port === (r.tls ? 443 : 80) ? '' : `:${r.port}`;
  return `${r.tls ? 'https' : 'http'}://${r.host}${port}${path}`;
}

function endpoint(base: string, host: string, port: number, certFingerprint: Uint8Array | undefined): RelayEndpoint {
  return { base, ws: relayUrl(base), address: `${host}:${port}`, ...(certFingerprint ? { certFingerprint } : {}) };
}

/** Throws TypeError for options a well-behaved caller would never pass (see `InviteOptions.also`). */
export function formatInvite(base: string, room?: RoomInvite, options: InviteOptions = {}): string {
  const { certFingerprint, timeServers, also } = options;
  const parts: string[] = [];
  if (room) parts.push(`r=${room.id}`, `k=${toBase64Url(room.secret)}`, `f=${toBase64Url(room.inviter)}`);
  if (room?.name) parts.push(`n=${toBase64Url(new TextEncoder().encode(room.name))}`);
  if (certFingerprint) parts.push(`c=${toBase64Url(certFingerprint)}`);
  if (timeServers && timeServers.length > 0) parts.push(`t=${encodeTimeServers(timeServers)}`);
  if (also && also.length > 0) parts.push(`a=${encodeAlsoRelays(alsoRelays(base, also))}`);
  return parts.length ? `${base}#${parts.join('&')}` : base;
}

function alsoRelays(base: string, also: NonNullable<InviteOptions['also']>): AlsoRelay[] {
  const own = splitBase(base);
  if (!own) throw new TypeError(`"base" expected http(s)://host[:port]/path/, got ${JSON.stringify(base)}`);
  const seen = new Set([relayKey(own)]);
  return also.map((a, i) => {
    const r = typeof a?.base === 'string' ? splitBase(a.base) : undefined;
    if (!r) throw new TypeError(`"also" relay ${i + 1} expected a base http(s)://host[:port]/path/, got ${JSON.stringify(a?.base)}`);
    if (r.path !== own.path) throw new TypeError(`"also" relay ${i + 1} expected the link's own path (a cluster shares one)`);
    if (seen.has(relayKey(r))) throw new TypeError(`"also" relay ${i + 1} (${r.host}:${r.port}) is the link's own host or named twice`);
    seen.add(relayKey(r));
    return { tls: r.tls, host: r.host, port: r.port, ...(a.certFingerprint ? { certFingerprint: a.certFingerprint } : {}) };
  });
}

function bytes32(s: string | undefined): Uint8Array | undefined {
  if (s === undefined) return undefined;
  const b = fromBase64Url(s);
  return b && b.length === 32 ? b : undefined;
}

export function parseInvite(link: string): ParseInviteResult {
  const bad = (message: string): ParseInviteResult => ({ ok: false, message });
  if (typeof link !== 'string' || link.length > 2048) return bad('the link is not a string of at most 2048 characters');
  const m = /^(https?):\/\/([^/?#\s]+)(\/[^?#\s]*)?(?:\?[^#\s]*)?(?:#(\S*))?$/.exec(link.trim());
  if (!m) return bad('expected a link of the form http(s)://host:port/path/#...');
  const [, scheme, host = '', rawPath = '/', fragment = ''] = m;
  const path = rawPath.endsWith('/') ? rawPath : `${rawPath}/`;
  if (path !== '/' && !isValidBasePath(path.slice(0, -1))) return bad('the link path has characters a Safehouse base path never has');
  const tls = scheme === 'https';
  const own = splitAuthority(host, tls);
  if (!own) return bad("the link's host is not a DNS name, an IPv4 address or an IPv6 address in brackets, with an optional port 1-65535");
  const base = `${scheme}://${host}${path}`;
  const fields = new Map<string, string>();
  for (const pair of fragment ? fragment.split('&') : []) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (fields.has(key)) return bad(`the link repeats "${key}"`);
    fields.set(key, eq < 0 ? '' : pair.slice(eq + 1));
  }
  const invite: Invite = { base, ws: relayUrl(base), relays: [] };
  const r = fields.get('r');
  if (r !== undefined) {
    if (!isId(r)) return bad('the room id in the link is malformed');
    const secret = bytes32(fields.get('k'));
    const inviter = bytes32(fields.get('f'));
    if (!secret) return bad('the link names a room but its invite secret is missing or malformed');
    if (!inviter) return bad("the link names a room but the inviter's fingerprint is missing or malformed");
    invite.room = { id: r, secret, inviter };
    const n = fields.get('n');
    if (n !== undefined) {
      const raw = fromBase64Url(n);
      let name: string | undefined;
      try {
        name = raw && raw.length <= 64 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : undefined;
      } catch {
        name = undefined;
      }
      if (name === undefined) return bad('the room name in the link is malformed');
      invite.room.name = name;
    }
  }
  if (fields.has('c')) {
    const c = bytes32(fields.get('c'));
    if (!c) return bad('the certificate fingerprint in the link is malformed');
    invite.certFingerprint = c;
  }
  const t = fields.get('t');
  if (t !== undefined) {
    const servers = decodeTimeServers(t);
    if (!servers) return bad('the Roughtime servers in the link are malformed');
    invite.timeServers = servers;
  }
  invite.relays.push(endpoint(base, own.host, own.port, invite.certFingerprint));
  const a = fields.get('a');
  if (a !== undefined) {
    const also = decodeAlsoRelays(a);
    if (!also.ok) return bad(`the other relays in the link (a) are malformed: ${also.message}`);
    const seen = new Set([relayKey({ tls, ...own })]);
    for (const r of also.relays) {
      if (seen.has(relayKey(r))) return bad(`the link names the relay ${r.host}:${r.port} twice`);
      seen.add(relayKey(r));
      invite.relays.push(endpoint(baseOf(r, path), r.host, r.port, r.certFingerprint));
    }
  }
  return { ok: true, invite };
}
