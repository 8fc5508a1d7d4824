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
 * Unknown keys are ignored (later versions add some); a repeated key is refused.
 */
import { fromBase64Url, isId, toBase64Url } from './ids.js';
import { decodeTimeServers, encodeTimeServers, type TimeServerSpec } from './link-time.js';

export type { TimeServerSpec } from './link-time.js';

export type RoomInvite = { id: string; secret: Uint8Array; inviter: Uint8Array; name?: string };
export type Invite = {
  /** The server's base URL with a trailing slash and no fragment, e.g. `http://127.0.0.1:8090/abc/`. */
  base: string;
  /** The WebSocket URL of the relay under that base. */
  ws: string;
  room?: RoomInvite;
  certFingerprint?: Uint8Array;
  /** Roughtime servers chosen by the inviter (`t`); a client uses them when given none itself. */
  timeServers?: TimeServerSpec[];
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

export function formatInvite(base: string, room?: RoomInvite, certFingerprint?: Uint8Array, timeServers?: readonly TimeServerSpec[]): string {
  const parts: string[] = [];
  if (room) parts.push(`r=${room.id}`, `k=${toBase64Url(room.secret)}`, `f=${toBase64Url(room.inviter)}`);
  if (room?.name) parts.push(`n=${toBase64Url(new TextEncoder().encode(room.name))}`);
  if (certFingerprint) parts.push(`c=${toBase64Url(certFingerprint)}`);
  if (timeServers && timeServers.length > 0) parts.push(`t=${encodeTimeServers(timeServers)}`);
  return parts.length ? `${base}#${parts.join('&')}` : base;
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
  const [, scheme, host, rawPath = '/', fragment = ''] = m;
  const path = rawPath.endsWith('/') ? rawPath : `${rawPath}/`;
  if (path !== '/' && !isValidBasePath(path.slice(0, -1))) return bad('the link path has characters a Safehouse base path never has');
  const base = `${scheme}://${host}${path}`;
  const fields = new Map<string, string>();
  for (const pair of fragment ? fragment.split('&') : []) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (fields.has(key)) return bad(`the link repeats "${key}"`);
    fields.set(key, eq < 0 ? '' : pair.slice(eq + 1));
  }
  const invite: Invite = { base, ws: relayUrl(base) };
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
  return { ok: true, invite };
}
