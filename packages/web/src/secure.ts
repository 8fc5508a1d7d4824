/**
 * Can this page make keys? WebCrypto (`crypto.subtle`) exists only in a secure context: HTTPS,
 * or plain HTTP to a loopback address (127.0.0.1, ::1, localhost). A relay reached over plain
 * HTTP on a LAN address gives a page without it; the page then explains what to do instead of
 * failing halfway (THREATS: keys are made in the browser, never by the server).
 */

export type CryptoCheck = { ok: true } | { ok: false; reason: 'insecure-context' | 'no-ed25519'; host: string; port: string };

type PageEnv = {
  isSecureContext: boolean;
  crypto?: { subtle?: SubtleCrypto };
  location: { hostname: string; port: string; protocol: string };
};

export async function checkCrypto(env: PageEnv): Promise<CryptoCheck> {
  const where = { host: env.location.hostname, port: env.location.port || (env.location.protocol === 'https:' ? '443' : '80') };
  const subtle = env.crypto?.subtle;
  if (!env.isSecureContext || !subtle) return { ok: false, reason: 'insecure-context', ...where };
  try {
    // The identity is an Ed25519 key (MLS cipher suite 1): older browsers lack it.
    await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    return { ok: true };
  } catch {
    return { ok: false, reason: 'no-ed25519', ...where };
  }
}

/**
 * The SSH command that makes the relay a loopback address on the reader's own machine: the
 * server connects to the same address and port the page used, so it works however the relay
 * is bound.
 */
export function tunnelCommand(host: string, port: string): string {
  // `location.hostname` keeps an IPv6 address in brackets; ssh wants them in -L, not after @.
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const target = bare.includes(':') ? `[${bare}]` : bare;
  return `ssh -N -L ${port}:${target}:${port} YOUR_LOGIN@${bare}`;
}

/** The same link on this machine's loopback address, the tunnel's local end (fragment kept). */
export function loopbackLink(link: string, port: string): string | undefined {
  try {
    const u = new URL(link);
    u.protocol = 'http:';
    u.hostname = '127.0.0.1';
    u.port = port;
    return u.href;
  } catch {
    return undefined;
  }
}
