/**
 * `safehouse time` (docs/cli.md): against Safehouse's own Roughtime servers on loopback it prints
 * each verified midpoint and radius and the agreed bounds, and exits 0; one server lying by a day
 * is reported with the §8.4 JSON report; when fewer servers answer than required it exits 3 at
 * once with a sentence, never hangs. (The built-in public list cannot be reached on a machine
 * without internet: that case is the same exit 3.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoughtimeServer, type RunningRoughtimeServer } from '@safehouse/server';
import { run } from './src/harness.js';

const servers: RunningRoughtimeServer[] = [];
beforeAll(async () => {
  for (const offsetMs of [0, 0, 86_400_000]) servers.push(await startRoughtimeServer({ port: 0, offsetMs }));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('safehouse time', () => {
  it('prints every verified time and the agreed bounds, and exits 0', async () => {
    const r = await run(['time', ...servers.slice(0, 2).flatMap((s) => ['--server', s.spec])]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/±3\.000 s \(0x00000001/);
    expect(r.stdout).toMatch(/^Proven time: \S+ \.\. \S+ .*agreed by/m);
  });

  it('reports a server that lies by a day, with the RFC JSON report, and still agrees without it', async () => {
    const r = await run(['time', '--json', ...servers.flatMap((s) => ['--server', s.spec])]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const bounds = lines.find((l) => l.type === 'bounds')!;
    expect(Math.abs(Number(bounds.earliestMs) / 2 + Number(bounds.latestMs) / 2 - Date.now())).toBeLessThan(10_000);
    const m = lines.find((l) => l.type === 'malfeasance')!;
    expect(m.suspects).toEqual([servers[2]!.spec.split(':').slice(0, 2).join(':')]);
    expect((m.report as { responses: unknown[] }).responses.length).toBeGreaterThanOrEqual(2);
  });

  it('exits 3 at once when too few servers answer', async () => {
    const key = Buffer.alloc(32, 7).toString('base64'); // a server that is not there
    const t0 = Date.now();
    const r = await run(['time', '--server', `127.0.0.1:9:${key}`, '--server', servers[0]!.spec]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/fewer than 2 of 2 servers .*\(E_ROUGHTIME_NO_QUORUM\)/);
    const none = await run(['time', '--server', `127.0.0.1:9:${key}`]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/none of the 1 Roughtime servers answered.*\(E_ROUGHTIME_UNREACHABLE\)/);
  });

  it('refuses a malformed server with exit 2', async () => {
    const r = await run(['time', '--server', 'localhost:2002']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--server expected HOST:PORT:BASE64KEY.*\(E_USAGE\)/);
  });
});
