/**
 * STYLE: a table of wrong-typed inputs that the public API must reject — with a stable code and
 * a message naming what was expected — before anything is bound.
 */
import { describe, expect, it } from 'vitest';
import { resolveOptions, DEFAULT_LIMITS, type ServerOptions } from './config.js';
import { LIMITS } from '@safehouse/core/protocol';

const bad: [string, unknown, string][] = [
  ['host number', { host: 127 }, 'E_USAGE'],
  ['host empty', { host: '' }, 'E_USAGE'],
  ['host with a path', { host: '127.0.0.1/x' }, 'E_USAGE'],
  ['port string', { port: '8090' }, 'E_USAGE'],
  ['port negative', { port: -1 }, 'E_USAGE'],
  ['port too big', { port: 65536 }, 'E_USAGE'],
  ['port fractional', { port: 80.5 }, 'E_USAGE'],
  ['port NaN', { port: Number.NaN }, 'E_USAGE'],
  ['basePath number', { basePath: 42 }, 'E_BASE_PATH_INVALID'],
  ['basePath root', { basePath: '/' }, 'E_BASE_PATH_INVALID'],
  ['basePath dot-dot', { basePath: '/a/..' }, 'E_BASE_PATH_INVALID'],
  ['basePath too long', { basePath: `/${'a'.repeat(300)}` }, 'E_BASE_PATH_INVALID'],
  ['public host without allowPublic', { host: '203.0.113.5' }, 'E_ADDRESS_REFUSED'],
  ['allowPublic as a string', { host: '0.0.0.0', allowPublic: 'yes' }, 'E_ADDRESS_REFUSED'],
  ['origin with a path', { allowedOrigins: ['https://a.example/x'] }, 'E_USAGE'],
  ['origin without scheme', { allowedOrigins: ['a.example'] }, 'E_USAGE'],
  ['frame limit above the protocol', { limits: { maxFrameBytes: LIMITS.maxFrameBytes + 1 } }, 'E_USAGE'],
  ['rate zero', { limits: { ratePerSecond: 0 } }, 'E_USAGE'],
  ['per-address cap negative', { limits: { maxConnectionsPerIp: -1 } }, 'E_USAGE'],
  ['burst string', { limits: { rateBurst: '200' } }, 'E_USAGE'],
  ['buffer below one frame', { limits: { maxBufferedBytes: 1000 } }, 'E_USAGE'],
  ['headers timeout above 10 s', { limits: { headersTimeoutMs: 60_000 } }, 'E_USAGE'],
  ['request timeout below headers timeout', { limits: { headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 } }, 'E_USAGE'],
];

describe('server options', () => {
  it.each(bad)('refuses %s', (_what, options, code) => {
    expect(() => resolveOptions(options as ServerOptions)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/expected|refusing/) }));
  });

  it('fills in the documented defaults', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({ host: '127.0.0.1', port: 8090, trustProxy: false, countLoopback: false, allowedOrigins: [] });
    expect(o.basePath).toMatch(/^\/[A-Za-z0-9_-]{22}$/);
    expect(o.limits).toEqual(DEFAULT_LIMITS);
    expect(DEFAULT_LIMITS).toMatchObject({
      maxFrameBytes: 64 * 1024,
      ratePerSecond: 50,
      rateBurst: 200,
      maxBufferedBytes: 1024 * 1024,
      maxConnectionsPerIp: 256,
      maxConnections: 19_500,
      pingIntervalMs: 20_000,
      pongTimeoutMs: 20_000,
      pendingJoinTtlMs: 120_000,
    });
    expect(DEFAULT_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(10_000);
  });
});
