/**
 * `safehouse serve --also URL` (repeatable): the other relays of this relay's cluster, which
 * share its rooms, its base path and its password (docs/cli.md, docs/deploy.md). Each one goes
 * into every link this server prints and its admin makes (the link's `a`: clients fail over to
 * them), and its origin is accepted from pages that fail over to this relay (the server's
 * `peerOrigins`; its WebSocket origin is also in this relay's page `connect-src`).
 *
 *   --also http(s)://host[:port]       a relay with a certificate clients trust, or plain HTTP
 *   --also https://host[:port]#c=PIN   a relay with a self-signed certificate: PIN is its
 *                                      SHA-256, base64url (the `c=` of that relay's own link)
 *                                      or hex (`tls` in its ready line); clients pin it
 *
 * The same list may be given to every relay of the cluster: a relay leaves itself out of its
 * links (the link's own host comes first anyway).
 */
import { fromBase64Url, MAX_LINK_ALSO, splitAuthority, UsageError } from '@safehouse/core/protocol';

export type AlsoRelaySpec = {
  /** `http(s)://host[:port]` as a browser writes an origin (lower case, no default port). */
  origin: string;
  /** SHA-256 of its certificate (`#c=`): clients pin it, as they pin `c` for the link's own host. */
  certFingerprint?: Uint8Array;
};

const ALSO = /^(https?):\/\/([^/?#\s]+)\/?(?:#c=([^&#\s]*))?$/i;

const usage = (what: string, got: string): UsageError =>
  new UsageError('E_USAGE', `--also expects http(s)://host[:port] (no path: a cluster shares this relay's base path), or https://host[:port]#c=PIN; ${what}, got ${JSON.stringify(got)}`);

/** SHA-256 as base64url (43 characters) or hex (64). */
function parsePin(text: string): Uint8Array | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
  const b = text.length === 43 ? fromBase64Url(text) : undefined;
  return b?.length === 32 ? b : undefined;
}

/** Throws UsageError (E_USAGE) with what is wrong and what was given. */
export function parseAlso(values: readonly string[]): AlsoRelaySpec[] {
  if (values.length > MAX_LINK_ALSO) throw new UsageError('E_USAGE', `--also names at most ${MAX_LINK_ALSO} relays (a link carries no more), got ${values.length}`);
  const seen = new Set<string>();
  return values.map((value) => {
    const m = ALSO.exec(value);
    if (!m) throw usage('not such a URL', value);
    const [, rawScheme = '', authority = '', pin] = m;
    const tls = rawScheme.toLowerCase() === 'https';
    const hp = splitAuthority(authority, tls);
    if (!hp) throw usage('the host is not a DNS name, an IPv4 address or a bracketed IPv6 address with a port 1-65535', value);
    const origin = new URL(`${tls ? 'https' : 'http'}://${hp.host}:${hp.port}`).origin;
    if (seen.has(origin)) throw new UsageError('E_USAGE', `--also names ${origin} twice`);
    seen.add(origin);
    const spec: AlsoRelaySpec = { origin };
    if (pin !== undefined) {
      if (!tls) throw usage('a certificate pin (#c=) needs https://', value);
      const bytes = parsePin(pin);
      if (!bytes) throw usage('the pin is a SHA-256: 43 base64url characters or 64 hex digits', value);
      spec.certFingerprint = bytes;
    }
    return spec;
  });
}

/**
 * The relays to name in a link whose base is `base` (`formatInvite`'s `also`): each under the
 * same path, the link's own host left out.
 */
export function alsoForLink(also: readonly AlsoRelaySpec[], base: string): Array<{ base: string; certFingerprint?: Uint8Array }> {
  const own = new URL(base);
  return also
    .filter((a) => a.origin !== own.origin)
    .map((a) => ({ base: `${a.origin}${own.pathname}`, ...(a.certFingerprint ? { certFingerprint: a.certFingerprint } : {}) }));
}
