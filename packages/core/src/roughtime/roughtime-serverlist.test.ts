/**
 * Server lists (RFC 10049 §8.3, Appendix A) and the retry intervals of §5 and §8.4.2.
 */
import { describe, expect, it } from 'vitest';
import { queryRetryDelayMs, reportRetryDelayMs } from './backoff.js';
import { GOOGLE_LIST_VERSION, parseAddress, parseServerList } from './serverlist.js';
import { RoughtimeVersion } from './versions.js';

/** RFC 10049 Appendix A, verbatim. */
const APPENDIX_A = `{
  "servers": [
    {
      "name": "example.com Roughtime server",
      "version": 1,
      "publicKeyType": "ed25519",
      "publicKey": "2O3mkkheDExCuhG+ZNIoWmO/IdCdLzADgUn8SnC4hME=",
      "addresses": [
        { "protocol": "udp", "address": "roughtime.example.com:2002" },
        { "protocol": "tcp", "address": "roughtime.example.com:2002" }
      ]
    },
    {
      "name": "A UDP-only server specified with IP addresses",
      "version": 1,
      "publicKeyType": "ed25519",
      "publicKey": "ZYfeGa94YuG1IZrV3kR9+8/nmZ2lX2XyHmiSb+wI0OY=",
      "addresses": [
        { "protocol": "udp", "address": "192.0.2.33:2002" },
        { "protocol": "udp", "address": "[2001:db8::2:33]:2002" }
      ]
    }
  ],
  "sources": [
    "https://www.example.net/roughtime/ecosystem.json",
    "https://www.example.org/roughtime/ecosystem.json"
  ],
  "reports":  "https://www.example.net/roughtime/malfeasance"
}`;

describe('server lists', () => {
  it('reads the Appendix A example', () => {
    const r = parseServerList(APPENDIX_A);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.list.servers.map((s) => [s.name, s.address, s.versions, s.publicKey.length])).toEqual([
      ['example.com Roughtime server', 'roughtime.example.com:2002', [1, RoughtimeVersion.DRAFT_12], 32],
      ['A UDP-only server specified with IP addresses', '192.0.2.33:2002', [1, RoughtimeVersion.DRAFT_12], 32],
    ]);
    expect(r.list.servers[1]!.addresses).toEqual([
      { protocol: 'udp', host: '192.0.2.33', port: 2002 },
      { protocol: 'udp', host: '2001:db8::2:33', port: 2002 },
    ]);
    expect(r.list.sources.length).toBe(2);
    expect(r.list.reports).toBe('https://www.example.net/roughtime/malfeasance');
    expect(r.list.skipped).toEqual([]);
  });

  it('maps each listed version to what we offer, and skips what we cannot speak', () => {
    const entry = (version: unknown, extra: object = {}) => ({
      name: `v${String(version)}`,
      version,
      publicKeyType: 'ed25519',
      publicKey: 'ZYfeGa94YuG1IZrV3kR9+8/nmZ2lX2XyHmiSb+wI0OY=',
      addresses: [{ protocol: 'udp', address: 'a.example:2002' }],
      ...extra,
    });
    const r = parseServerList({
      servers: [
        entry(RoughtimeVersion.DRAFT_12),
        entry(RoughtimeVersion.DRAFT_11),
        entry(RoughtimeVersion.DRAFT_08),
        entry(GOOGLE_LIST_VERSION),
        entry(2),
        entry(1, { publicKeyType: 'ml-dsa' }),
        entry(1, { publicKey: 'AAAA' }),
        entry(1, {
          addresses: [
            { protocol: 'sctp', address: 'a.example:2002' },
            { protocol: 'udp', address: 'a.example:70000' },
          ],
        }),
        'junk',
      ],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.list.servers.map((s) => s.versions)).toEqual([
      [RoughtimeVersion.DRAFT_12],
      [RoughtimeVersion.DRAFT_08, RoughtimeVersion.DRAFT_11],
      [RoughtimeVersion.DRAFT_08],
      [RoughtimeVersion.GOOGLE],
    ]);
    expect(r.list.skipped.map((s) => s.reason)).toEqual([
      'version 2 is not supported',
      'key type ml-dsa is not supported',
      'publicKey is not 32 bytes of base64',
      'no valid address',
      'no name',
    ]);
  });

  it.each([
    ['not JSON', '{'],
    ['not an object', '[]'],
    ['no servers', '{}'],
    ['http source', { servers: [], sources: ['http://example.net/list.json'] }],
    ['reports not a URL', { servers: [], reports: 'mailto:x@example.net' }],
  ])('rejects a list that is %s', (_n, input) => {
    const r = parseServerList(input);
    expect(r.ok ? 'ok' : r.code).toBe('E_ROUGHTIME_MALFORMED');
  });

  it.each([
    ['roughtime.example.com:2002', { host: 'roughtime.example.com', port: 2002 }],
    ['192.0.2.33:2002', { host: '192.0.2.33', port: 2002 }],
    ['[2001:db8::2:33]:2002', { host: '2001:db8::2:33', port: 2002 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['2001:db8::2:33:2002', undefined],
    ['[fe80::1%eth0]:2002', undefined],
    ['300.1.1.1:2002', undefined],
    ['example.com', undefined],
    ['example.com:65536', undefined],
    ['exa mple.com:1', undefined],
  ])('address %s', (text, expected) => expect(parseAddress(text)).toEqual(expected));
});

describe('retry intervals', () => {
  it('queries: min(1.5^(n-1), 86400) s (§5)', () => {
    expect([1, 2, 3, 4].map(queryRetryDelayMs)).toEqual([1000, 1500, 2250, 3375]);
    expect(queryRetryDelayMs(100)).toBe(86_400_000);
    expect(queryRetryDelayMs(1e9)).toBe(86_400_000);
    expect(() => queryRetryDelayMs(0)).toThrow(/failures/);
  });

  it('malfeasance reports: min(10 × 1.5^(n-1), 86400) s (§8.4.2)', () => {
    expect([1, 2, 3].map(reportRetryDelayMs)).toEqual([10_000, 15_000, 22_500]);
    expect(reportRetryDelayMs(60)).toBe(86_400_000);
  });
});
