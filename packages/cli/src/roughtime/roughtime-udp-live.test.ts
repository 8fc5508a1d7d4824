/**
 * Live Roughtime over real UDP on loopback: Safehouse's own server (packages/server, bound to
 * 127.0.0.1 port 0) answered by the real UDP client, three at a time. One server that lies by a
 * day is reported (RFC 10049 §8.4 malfeasance report, checked) and excluded by the quorum;
 * unreachable servers give no time, fast, and timed messages stay hidden.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ExpiryKeeper, createManualClock, type ClientEvent } from '@safehouse/core/client';
import { checkMalfeasanceReport, measure, parseServerSpec, type RoughtimeServer } from '@safehouse/core/roughtime';
import { startRoughtimeServer, type RunningRoughtimeServer } from '@safehouse/server';
import { until } from '../testing/members.js';
import { udpTimeSource } from './servers.js';
import { udpQuery } from './udp.js';

const DAY = 86_400_000;
const running: RunningRoughtimeServer[] = [];

async function servers(offsets: number[]): Promise<RoughtimeServer[]> {
  const out: RoughtimeServer[] = [];
  for (const offsetMs of offsets) {
    const s = await startRoughtimeServer({ port: 0, offsetMs });
    running.push(s);
    const r = parseServerSpec(s.spec);
    if (!r.ok) throw new Error(r.message);
    out.push({ ...r.server, name: offsetMs === 0 ? `honest-${out.length}` : `liar-${out.length}` });
  }
  return out;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe('Roughtime over UDP against our own server', () => {
  it('threeHonestServersAgreeOnTheTime', async () => {
    const list = await servers([0, 0, 0]);
    const before = Date.now();
    const res = await measure(list, { query: udpQuery(), rounds: 2 });
    const after = Date.now();
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.malfeasance).toBeUndefined();
    expect(new Set(res.agreeing.map((i) => res.links[i]!.server.name)).size).toBe(3);
    // The servers sign seconds with RADI 3: the proven interval holds the true time.
    const { earliestMs, latestMs } = res.bounds;
    expect(earliestMs).toBeLessThanOrEqual(after);
    expect(latestMs).toBeGreaterThanOrEqual(before);
    for (const s of running) expect(s.stats()).toMatchObject({ requests: 2, replies: 2, dropped: 0 });
  });

  for (const lie of [DAY, -DAY]) {
    it(`oneOfThreeLyingBy${lie > 0 ? 'ADayAhead' : 'ADayBehind'}IsReportedAndExcluded`, async () => {
      const list = await servers([0, lie, 0]);
      const res = await measure(list, { query: udpQuery(), rounds: 2 });
      expect(res.ok).toBe(true);
      if (!res.ok) return;
      const agreeing = new Set(res.agreeing.map((i) => res.links[i]!.server.name));
      expect([...agreeing].sort()).toEqual(['honest-0', 'honest-2']);
      expect(Math.abs((res.bounds.earliestMs + res.bounds.latestMs) / 2 - Date.now())).toBeLessThan(5_000);
      expect(res.malfeasance?.suspectServers).toEqual(['liar-1']);
      const checked = await checkMalfeasanceReport(res.malfeasance!.report);
      expect(checked.ok).toBe(true);
    });
  }

  it('allUnreachable: no time, fast, and timed messages stay hidden', async () => {
    const list = await servers([0, 0, 0]);
    await Promise.all(running.splice(0).map((s) => s.close())); // their ports are now closed
    const source = udpTimeSource(list);
    const t0 = performance.now();
    const r = await source.refresh();
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(r).toMatchObject({ ok: false, code: 'E_ROUGHTIME_NO_QUORUM' });
    expect(r.links.every((l) => l.outcome.kind === 'unreachable')).toBe(true);
    expect(source.current()).toEqual({ kind: 'none' });

    // The marker: the keeper's own measurement, answered (refused), after which it decides.
    const refresh = source.refresh.bind(source);
    let measured = 0;
    source.refresh = async () => {
      const result = await refresh();
      measured++;
      return result;
    };
    const events: ClientEvent[] = [];
    const keeper = new ExpiryKeeper({ source, clock: createManualClock(0), emit: (e) => events.push(e) });
    keeper.offer({ type: 'message', id: 'm', room: 'r', roomName: 'lobby', from: 'bob', fingerprint: 'f', text: 'secret', ts: 0, direct: false, expiresAt: Date.now() + 60_000 });
    await until(() => measured > 0, "the keeper's measurement", 5_000);
    expect(events.some((e) => e.type === 'message')).toBe(false);
    expect(events.find((e) => e.type === 'time')).toMatchObject({ state: 'unproven' });
    keeper.stop();
  });

  it('theServerIgnoresShortRequests (no amplification)', async () => {
    await servers([0]);
    const s = running[0]!;
    const dgram = await import('node:dgram');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.send(Buffer.alloc(100), s.port, '127.0.0.1', () => res()));
    await new Promise((res) => setTimeout(res, 200));
    sock.close();
    expect(s.stats()).toMatchObject({ requests: 1, replies: 0, dropped: 1 });
  });

  it('refusesANonLoopbackAddressWithoutPublic', async () => {
    await expect(startRoughtimeServer({ host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'E_ADDRESS_REFUSED' });
  });
});
