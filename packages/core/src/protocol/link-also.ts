/**
 * The invite link's `a` field ("also"): the other relays of the same cluster, which share the
 * link's base path and password (docs/protocol.md "Connection", failover). Compact and
 * URL-safe, like `t` (link-time.ts): base64url of, per relay,
 *
 *   u8 flags ‖ u8 hostLen ‖ host (ASCII, 1-253 bytes) ‖ u16 BE port ‖ [32-byte pin]
 *
 *   flags bit 0: TLS (https / wss); bit 1: the SHA-256 of the relay's certificate follows (its
 *   own pin, checked like the link's `c`; only with TLS). Other bits are refused, so that a
 *   later version that gives them a meaning is not misread.
 *
 * A host is a DNS name, an IPv4 address or an IPv6 address in brackets (`[::1]`), as in a URL.
 * The fragment never leaves the device, so no relay learns the list from the link; a relay in
 * it is trusted exactly as the link's own host is (whoever can edit the list holds the link).
 */
import { fromBase64Url, toBase64Url } from './ids.js';

export type AlsoRelay = {
  /** https / wss. */
  tls: boolean;
  /** A DNS name, an IPv4 address or a bracketed IPv6 address. */
  host: string;
  port: number;
  /** SHA-256 of the relay's DER certificate (its own `c`); only with `tls`. */
  certFingerprint?: Uint8Array;
};

/** Most relays one link names besides its own. */
export const MAX_LINK_ALSO = 8;

const FLAG_TLS = 0x01;
const FLAG_PIN = 0x02;
const MAX_HOST = 253;

/** A name (letters, digits, `-`, `_`, dot-separated), an IPv4 address, or an IPv6 address in brackets. */
const HOST = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*|\[[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\])$/;

/** True for a host as a link may carry it (no port, no user, no percent-escapes, ≤ 253 characters). */
export function isRelayHost(host: unknown): host is string {
  return typeof host === 'string' && host.length >= 1 && host.length <= MAX_HOST && HOST.test(host);
}

/** `host:port` of a link authority (`host[:port]`), the port defaulted by the scheme; undefined for anything else. */
export function splitAuthority(authority: string, tls: boolean): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return undefined;
  const [, host = '', port] = m;
  const n = port === undefined ? (tls ? 443 : 80) : Number(port);
  if (!isRelayHost(host) || n < 1 || n > 65535) return undefined;
  return { host, port: n };
}

function check(r: AlsoRelay, i: number): string | undefined {
  if (typeof r !== 'object' || r === null) return `relay ${i} expected an object`;
  if (typeof r.tls !== 'boolean') return `relay ${i} expected "tls" a boolean`;
  if (!isRelayHost(r.host)) return `relay ${i} expected "host" a DNS name, an IPv4 address or a bracketed IPv6 address, got ${JSON.stringify(r.host)}`;
  if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) return `relay ${i} expected "port" an integer in [1, 65535], got ${String(r.port)}`;
  if (r.certFingerprint !== undefined) {
    if (!(r.certFingerprint instanceof Uint8Array) || r.certFingerprint.length !== 32) return `relay ${i} expected "certFingerprint" a Uint8Array of length 32`;
    if (!r.tls) return `relay ${i} has a certificate pin but no TLS`;
  }
  return undefined;
}

/** Throws TypeError for a list a well-behaved caller would never build (empty, too long, a bad entry). */
export function encodeAlsoRelays(relays: readonly AlsoRelay[]): string {
  const n = Array.isArray(relays) ? relays.length : -1;
  if (n < 1 || n > MAX_LINK_ALSO) throw new TypeError(`"also" expected 1-${MAX_LINK_ALSO} relays, got ${n < 0 ? typeof relays : n}`);
  const parts: number[] = [];
  relays.forEach((r, i) => {
    const bad = check(r, i + 1);
    if (bad) throw new TypeError(`"also": ${bad}`);
    const pin = r.certFingerprint;
    parts.push((r.tls ? FLAG_TLS : 0) | (pin ? FLAG_PIN : 0), r.host.length, ...Array.from(r.host, (c) => c.charCodeAt(0)), r.port >>> 8, r.port & 0xff);
    if (pin) parts.push(...pin);
  });
  return toBase64Url(Uint8Array.from(parts));
}

export type DecodeAlsoResult = { ok: true; relays: AlsoRelay[] } | { ok: false; message: string };

/** The relays, or what is wrong with them (never throws). */
export function decodeAlsoRelays(text: string): DecodeAlsoResult {
  const bad = (message: string): DecodeAlsoResult => ({ ok: false, message });
  const bytes = fromBase64Url(text);
  if (!bytes) return bad('not base64url');
  if (bytes.length === 0) return bad('empty');
  const relays: AlsoRelay[] = [];
  let i = 0;
  while (i < bytes.length) {
    const at = relays.length + 1;
    if (relays.length === MAX_LINK_ALSO) return bad(`more than ${MAX_LINK_ALSO} relays`);
    const flags = bytes[i] ?? 0;
    if ((flags & ~(FLAG_TLS | FLAG_PIN)) !== 0) return bad(`relay ${at} has unknown flags 0x${flags.toString(16).padStart(2, '0')}`);
    const tls = (flags & FLAG_TLS) !== 0;
    const pinned = (flags & FLAG_PIN) !== 0;
    if (pinned && !tls) return bad(`relay ${at} has a certificate pin but no TLS`);
    const n = bytes[i + 1];
    if (n === undefined) return bad(`relay ${at} is cut short`);
    const end = i + 2 + n + 2 + (pinned ? 32 : 0);
    if (end > bytes.length) return bad(`relay ${at} is cut short`);
    const host = String.fromCharCode(...bytes.subarray(i + 2, i + 2 + n));
    if (!isRelayHost(host)) return bad(`relay ${at}'s host is not a DNS name, an IPv4 address or a bracketed IPv6 address`);
    const port = ((bytes[i + 2 + n] ?? 0) << 8) | (bytes[i + 3 + n] ?? 0);
    if (port === 0) return bad(`relay ${at} has port 0`);
    const relay: AlsoRelay = { tls, host, port };
    if (pinned) relay.certFingerprint = bytes.slice(i + 4 + n, end);
    relays.push(relay);
    i = end;
  }
  return { ok: true, relays };
}
