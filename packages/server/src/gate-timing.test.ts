/**
 * THREATS B.13, as a smoke test: the refusal classes a prober can produce take about the same
 * time. Requests are interleaved round-robin so that machine noise hits every class alike, and
 * medians are compared with a generous margin: this catches a class that does real extra work
 * (a lookup, an await, a slow comparison), not nanosecond differences — those are excluded by
 * construction (HMAC + timingSafeEqual, gate-path-matcher.test.ts).
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, startTestServer, upgradeRequest, type TestServer } from './testing/harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

describe('refusal timing', () => {
  it('random path, near-miss path, wrong method and foreign Origin take alike', async () => {
    const base = server.basePath;
    const nearMiss = `${base.slice(0, -1)}${base.endsWith('A') ? 'B' : 'A'}/`;
    const classes: Record<string, () => string> = {
      random: () => `GET /${randomBytes(16).toString('base64url')}/ HTTP/1.1\r\nHost: x\r\n\r\n`,
      nearMiss: () => `GET ${nearMiss} HTTP/1.1\r\nHost: x\r\n\r\n`,
      wrongMethod: () => `POST ${base}/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      foreignOrigin: () => upgradeRequest(`${base}/ws`, ['Origin: http://evil.example']),
      randomUpgrade: () => upgradeRequest(`/${randomBytes(16).toString('base64url')}/ws`),
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(classes).map((k) => [k, []]));
    for (let round = 0; round < 150; round++) {
      for (const [name, make] of Object.entries(classes)) {
        const t0 = performance.now();
        const res = await rawExchange(server.port, make());
        times[name]?.push(performance.now() - t0);
        expect(res.subarray(0, 22).toString('latin1')).toBe('HTTP/1.1 404 Not Found');
      }
    }
    const ref = median(times.random ?? []);
    for (const [name, xs] of Object.entries(times)) expect(median(xs), `${name} vs random (${ref.toFixed(3)} ms)`).toBeLessThan(ref * 2 + 1);
    for (const [name, xs] of Object.entries(times)) expect(ref, `random vs ${name}`).toBeLessThan(median(xs) * 2 + 1);
  });
});
