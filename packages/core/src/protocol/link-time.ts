/**
 * The invite link's `t` field: Roughtime servers the inviter chose, for rooms whose members
 * cannot reach the public servers (air-gapped). Compact and URL-safe: base64url of, per server,
 *
 *   u8 hostLen ‖ host (ASCII, 1-253 bytes) ‖ u16 BE port ‖ 32-byte Ed25519 public key
 *
 * A relay never sees the fragment, so it cannot choose a member's time servers.
 */
import { fromBase64Url, toBase64Url } from './ids.js';

export type TimeServerSpec = { host: string; port: number; publicKey: Uint8Array };

/** Most servers one link carries. */
export const MAX_LINK_TIME_SERVERS = 8;

const HOST = /^[A-Za-z0-9.:-]{1,253}$/;

function isSpec(s: TimeServerSpec): boolean {
  return (
    typeof s.host === 'string' &&
    HOST.test(s.host) &&
    Number.isInteger(s.port) &&
    s.port >= 1 &&
    s.port <= 65535 &&
    s.publicKey instanceof Uint8Array &&
    s.publicKey.length === 32
  );
}

/** Throws TypeError for a list a well-behaved caller would never build. */
export function encodeTimeServers(servers: readonly TimeServerSpec[]): string {
  if (servers.length === 0 || servers.length > MAX_LINK_TIME_SERVERS)
    throw new TypeError(`"timeServers" expected 1-${MAX_LINK_TIME_SERVERS} servers, got ${servers.length}`);
  const parts: number[] = [];
  for (const s of servers) {
    if (!isSpec(s)) throw new TypeError('"timeServers" expected {host, port 1-65535, publicKey of 32 bytes}');
    parts.push(s.host.length, ...Array.from(s.host, (c) => c.charCodeAt(0)), s.port >>> 8, s.port & 0xff, ...s.publicKey);
  }
  return toBase64Url(Uint8Array.from(parts));
}

/** The servers, or undefined for anything malformed (never throws). */
export function decodeTimeServers(text: string): TimeServerSpec[] | undefined {
  const bytes = fromBase64Url(text);
  if (!bytes || bytes.length === 0) return undefined;
  const out: TimeServerSpec[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (out.length === MAX_LINK_TIME_SERVERS) return undefined;
    const n = bytes[i] ?? 0;
    if (n === 0 || i + 1 + n + 2 + 32 > bytes.length) return undefined;
    const host = String.fromCharCode(...bytes.subarray(i + 1, i + 1 + n));
    const port = ((bytes[i + 1 + n] ?? 0) << 8) | (bytes[i + 2 + n] ?? 0);
    const publicKey = bytes.slice(i + 3 + n, i + 35 + n);
    const spec = { host, port, publicKey };
    if (!isSpec(spec)) return undefined;
    out.push(spec);
    i += 35 + n;
  }
  return out;
}
