/**
 * Where Roughtime servers come from (issue 6): this built-in list of public servers, the user's
 * `HOST:PORT:BASE64KEY` specs, or an invite link's `t` field chosen by the inviter — never from
 * the relay alone (a relay that picked our time servers could pick liars).
 *
 * The built-in list is data in the §8.3 format, parsed by `parseServerList` like any other.
 * Keys and versions as their operators publish them (checked November 2026): Cloudflare's
 * ecosystem.json (Cloudflare-Roughtime-2, int08h, time.txryan.com), roughtime.se's operator page,
 * and Google's original sandbox server. Versions: Cloudflare answers draft 11; int08h,
 * roughtime.se and txryan answer drafts 12-19 (0x8000000c); Google its own protocol.
 */
import { fromBase64 } from './bytes.js';
import type { RoughtimeServer } from './chain.js';
import { GOOGLE_LIST_VERSION, parseAddress, parseServerList, type ListedServer } from './serverlist.js';
import { DEFAULT_VERSIONS } from './versions.js';

export const DEFAULT_SERVER_LIST = {
  servers: [
    {
      name: 'Cloudflare-Roughtime-2',
      version: 0x8000000b,
      publicKeyType: 'ed25519',
      publicKey: '0GD7c3yP8xEc4Zl2zeuN2SlLvDVVocjsPSL8/Rl/7zg=',
      addresses: [{ protocol: 'udp', address: 'roughtime.cloudflare.com:2003' }],
    },
    {
      name: 'int08h-Roughtime',
      version: 0x8000000c,
      publicKeyType: 'ed25519',
      publicKey: 'AW5uAoTSTDfG5NfY1bTh08GUnOqlRb+HVhbJ3ODJvsE=',
      addresses: [{ protocol: 'udp', address: 'roughtime.int08h.com:2002' }],
    },
    {
      name: 'roughtime.se',
      version: 0x8000000c,
      publicKeyType: 'ed25519',
      publicKey: 'S3AzfZJ5CjSdkJ21ZJGbxqdYP/SoE8fXKY0+aicsehI=',
      addresses: [{ protocol: 'udp', address: 'roughtime.se:2002' }],
    },
    {
      name: 'time.txryan.com',
      version: 0x8000000c,
      publicKeyType: 'ed25519',
      publicKey: 'iBVjxg/1j7y1+kQUTBYdTabxCppesU/07D4PMDJk2WA=',
      addresses: [{ protocol: 'udp', address: 'time.txryan.com:2002' }],
    },
    {
      name: 'Google-Sandbox',
      version: GOOGLE_LIST_VERSION,
      publicKeyType: 'ed25519',
      publicKey: 'etPaaIxcBMY1oUeGpwvPMCJMwlRVNxv51KK/tktoJTQ=',
      addresses: [{ protocol: 'udp', address: 'roughtime.sandbox.google.com:2002' }],
    },
  ],
} as const;

/** The built-in public servers, parsed. */
export function defaultServers(): readonly ListedServer[] {
  const r = parseServerList(DEFAULT_SERVER_LIST);
  if (!r.ok) throw new Error(`unreachable: the built-in server list does not parse (${r.detail})`);
  return r.list.servers;
}

export type ParseServerSpecResult = { readonly ok: true; readonly server: RoughtimeServer & { readonly address: string } } | { readonly ok: false; readonly message: string };

/**
 * `HOST:PORT:BASE64KEY` (IPv6 hosts in brackets, `[::1]:2002:KEY`): a server we speak RFC 10049
 * and drafts 12-19 to (what our own `safehouse serve --roughtime-port` answers). Never throws.
 */
export function parseServerSpec(spec: string): ParseServerSpecResult {
  if (typeof spec !== 'string' || spec.length > 400) return { ok: false, message: 'expected HOST:PORT:BASE64KEY' };
  const cut = spec.lastIndexOf(':');
  const address = spec.slice(0, cut);
  const key = cut < 0 ? undefined : fromBase64(spec.slice(cut + 1));
  const parsed = cut < 0 ? undefined : parseAddress(address);
  if (!parsed || parsed.port === 0) return { ok: false, message: `expected HOST:PORT:BASE64KEY, got ${JSON.stringify(spec.slice(0, 80))}` };
  if (key?.length !== 32) return { ok: false, message: `the key of ${address} is not 32 bytes of base64` };
  return { ok: true, server: { name: address, publicKey: key, versions: DEFAULT_VERSIONS, address } };
}

/** `host:port` → `HOST:PORT` with IPv6 bracketed, for display and specs. */
export function formatAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
