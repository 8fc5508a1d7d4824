/**
 * Multi-server measurement (RFC 10049 §8.2) and malfeasance reports (§8.4) against servers
 * built from our responder, with a scripted monotonic clock: honest servers agree, one liar of
 * three is outvoted and named in a report that anyone can check, unreachable servers give no
 * time, signature failures and replays are rejected and never reported, a huge radius is not
 * used. Also checks the RFC's Appendix B example report.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concat, fromBase64 } from './bytes.js';
import { boundsAt } from './bounds.js';
import { chooseServers, measure, type RoughtimeServer } from './chain.js';
import { ed25519SignerFromSeed } from './ed25519.js';
import { buildMalfeasanceReport, chainNonce, checkMalfeasanceReport, type MalfeasanceReport } from './malfeasance.js';
import { hashTruncated } from './merkle.js';
import { parsePacket } from './packet.js';
import { toError } from './result.js';
import { ProvenTimeSource } from './timesource.js';
import { createDelegation, respond } from './server.js';
import { Tag } from './tags.js';
import { RoughtimeVersion } from './versions.js';

const TRUE_START_MS = 1_800_000_000_000; // true Unix time when the monotonic clock reads 0

interface Behaviour {
  offsetMs?: number;
  radiusSeconds?: number;
  /** Return this instead of a fresh reply (replay), or throw (unreachable). */
  replay?: boolean;
  down?: boolean;
  corrupt?: boolean;
}

async function fleet(behaviours: Behaviour[], versions?: RoughtimeVersion[]) {
  let mono = 1_000; // the scripted monotonic clock, ms
  const now = (): number => mono;
  const servers: RoughtimeServer[] = [];
  const handlers = new Map<string, (packet: Uint8Array) => Promise<Uint8Array>>();
  for (const [i, b] of behaviours.entries()) {
    const longTerm = await ed25519SignerFromSeed(new Uint8Array(32).fill(i + 1));
    const online = await ed25519SignerFromSeed(new Uint8Array(32).fill(i + 101));
    const delegation = await createDelegation({
      longTerm,
      onlinePublicKey: online.publicKey,
      minTimeMs: 0,
      maxTimeMs: 4_000_000_000_000,
    });
    const name = `server-${i}`;
    servers.push({ name, publicKey: longTerm.publicKey, ...(versions ? { versions } : {}) });
    let last: Uint8Array | undefined;
    handlers.set(name, async (packet) => {
      if (b.down) throw new Error('timeout');
      mono += 20; // one-way latency
      const midpointMs = TRUE_START_MS + mono + (b.offsetMs ?? 0);
      const [reply] = await respond([packet], { delegation, online, midpointMs, radiusSeconds: b.radiusSeconds ?? 3 });
      mono += 20;
      if (b.replay && last) return last;
      last = reply;
      if (b.corrupt) {
        const bad = reply!.slice();
        bad[bad.length - 40]! ^= 1;
        return bad;
      }
      return reply!;
    });
  }
  const query = (server: RoughtimeServer, packet: Uint8Array): Promise<Uint8Array> =>
    handlers.get(server.name)!(packet);
  return { servers, query, now, advance: (ms: number) => (mono += ms), trueNow: () => TRUE_START_MS + mono };
}

describe('measure', () => {
  it('three honest servers: proven bounds contain the true time, now and later', async () => {
    const f = await fleet([{}, {}, {}]);
    const res = await measure(f.servers, { query: f.query, now: f.now });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.agreeing).toEqual([0, 1, 2]);
    expect(res.malfeasance).toBeUndefined();
    for (const wait of [0, 1_000, 60_000]) {
      f.advance(wait);
      const b = boundsAt(res.bounds, f.now());
      expect(b.earliestMs).toBeLessThanOrEqual(f.trueNow());
      expect(b.latestMs).toBeGreaterThanOrEqual(f.trueNow());
      expect(b.latestMs - b.earliestMs).toBeLessThan(8_000);
    }
  });

  it('a relay that delays replies only widens the bounds; they still hold the true time', async () => {
    const f = await fleet([{}, {}, {}]);
    const slow = async (server: RoughtimeServer, packet: Uint8Array): Promise<Uint8Array> => {
      f.advance(4_000); // held 4 s before forwarding
      const reply = await f.query(server, packet);
      f.advance(4_000); // and 4 s on the way back
      return reply;
    };
    const fast = await measure(f.servers, { query: f.query, now: f.now });
    const delayed = await measure(f.servers, { query: slow, now: f.now });
    expect(fast.ok && delayed.ok).toBe(true);
    if (!fast.ok || !delayed.ok) return;
    const b = boundsAt(delayed.bounds, f.now());
    expect(b.earliestMs).toBeLessThanOrEqual(f.trueNow());
    expect(b.latestMs).toBeGreaterThanOrEqual(f.trueNow());
    const a = boundsAt(fast.bounds, f.now());
    expect(b.latestMs - b.earliestMs).toBeGreaterThanOrEqual(a.latestMs - a.earliestMs);
  });

  it('chains nonces: each request nonce is H(previous reply || rand)', async () => {
    const f = await fleet([{}, {}, {}]);
    const res = await measure(f.servers, { query: f.query, now: f.now });
    for (let i = 1; i < res.links.length; i++) {
      const prev = res.links[i - 1]!;
      const link = res.links[i]!;
      expect(link.rand?.length).toBe(32);
      expect(link.request.nonce).toEqual(await chainNonce(prev.reply!, link.rand!, 32));
      expect(link.request.nonce).toEqual(await hashTruncated(concat(prev.reply!, link.rand!), 32));
    }
    expect(res.links[0]!.rand).toBeUndefined();
  });

  it('one of three lies (an hour behind, queried last): outvoted, named, and the report checks out', async () => {
    const f = await fleet([{}, {}, { offsetMs: -3_600_000 }]);
    const res = await measure(f.servers, { query: f.query, now: f.now });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.agreeing).toEqual([0, 1]);
    expect(res.malfeasance?.code).toBe('E_ROUGHTIME_INCONSISTENT');
    expect(res.malfeasance?.suspects).toEqual([2]);
    expect(res.malfeasance?.suspectServers).toEqual(['server-2']);
    expect(res.malfeasance?.violations).toEqual([
      [0, 2],
      [1, 2],
    ]);
    const report = JSON.parse(JSON.stringify(res.malfeasance!.report)) as MalfeasanceReport;
    expect(report.responses.length).toBe(3);
    expect(Object.keys(report.responses[0]!)).toEqual(['publicKey', 'request', 'response']);
    expect(Object.keys(report.responses[1]!)).toEqual(['publicKey', 'rand', 'request', 'response']);
    const checked = await checkMalfeasanceReport(report);
    expect(checked.ok && checked.suspects).toEqual([2]);
  });

  it('a liar ahead of time queried last is caught only when the sequence is queried twice (§8.2)', async () => {
    const once = await fleet([{}, {}, { offsetMs: 3_600_000 }]);
    const r1 = await measure(once.servers, { query: once.query, now: once.now });
    expect(r1.ok && r1.agreeing).toEqual([0, 1]);
    expect(r1.malfeasance).toBeUndefined();
    const twice = await fleet([{}, {}, { offsetMs: 3_600_000 }]);
    const r2 = await measure(twice.servers, { query: twice.query, now: twice.now, rounds: 2 });
    expect(r2.ok && r2.agreeing).toEqual([0, 1, 3, 4]);
    expect(r2.malfeasance?.suspectServers).toEqual(['server-2']);
    expect((await checkMalfeasanceReport(r2.malfeasance!.report)).ok).toBe(true);
  });

  it('a liar ahead of time queried first is caught in one round', async () => {
    const f = await fleet([{ offsetMs: 3_600_000 }, {}, {}]);
    const res = await measure(f.servers, { query: f.query, now: f.now });
    expect(res.ok && res.agreeing).toEqual([1, 2]);
    expect(res.malfeasance?.suspectServers).toEqual(['server-0']);
  });

  it('the quorum counts servers, not replies: a liar queried twice does not outvote one honest server', async () => {
    const f = await fleet([{ offsetMs: -3_600_000 }, {}]);
    const res = await measure(f.servers, { query: f.query, now: f.now, rounds: 2, quorum: 2 });
    expect(res.ok ? 'ok' : res.code).toBe('E_ROUGHTIME_NO_QUORUM');
    expect(res.malfeasance?.code).toBe('E_ROUGHTIME_INCONSISTENT');
    await expect(measure([f.servers[0]!, { ...f.servers[0]!, name: 'again' }], { query: f.query })).rejects.toThrow(
      /twice/,
    );
  });

  it('all servers unreachable: no time', async () => {
    const f = await fleet([{ down: true }, { down: true }, { down: true }]);
    const res = await measure(f.servers, { query: f.query, now: f.now });
    expect(res.ok ? 'ok' : res.code).toBe('E_ROUGHTIME_NO_QUORUM');
    expect(res.links.map((l) => (l.outcome.kind === 'unreachable' ? l.outcome.code : 'reply'))).toEqual(
      Array(3).fill('E_ROUGHTIME_UNREACHABLE'),
    );
    expect(toError(res.ok ? { code: 'E_USAGE', detail: '' } : res)).toMatchObject({
      name: 'TransportError',
      code: 'E_ROUGHTIME_NO_QUORUM',
      kind: 'transport',
    });
  });

  it('a bad signature is rejected and never reported as malfeasance (§8.4.2)', async () => {
    const f = await fleet([{}, { corrupt: true }, {}]);
    const res = await measure(f.servers, { query: f.query, now: f.now });
    expect(res.ok && res.agreeing).toEqual([0, 2]);
    const o = res.links[1]!.outcome;
    expect(o.kind === 'reply' && !o.result.ok && o.result.code).toMatch(
      /^E_ROUGHTIME_(RESPONSE_SIGNATURE|DELEGATION_SIGNATURE|MERKLE|MALFORMED)$/,
    );
    expect(res.malfeasance).toBeUndefined();
    // The chain skips the invalid reply: link 2's nonce comes from link 0's reply.
    expect(res.links[2]!.request.nonce).toEqual(await chainNonce(res.links[0]!.reply!, res.links[2]!.rand!, 32));
  });

  it('a replayed reply is rejected (its nonce is not ours)', async () => {
    const f = await fleet([{ replay: true }, {}, {}]);
    await measure(f.servers, { query: f.query, now: f.now });
    const res = await measure(f.servers, { query: f.query, now: f.now });
    const o = res.links[0]!.outcome;
    expect(o.kind === 'reply' && !o.result.ok && o.result.code).toBe('E_ROUGHTIME_NONCE_MISMATCH');
    expect(res.ok && res.agreeing).toEqual([1, 2]);
  });

  it('a huge radius is valid but never used for time', async () => {
    const f = await fleet([{ radiusSeconds: 0xffffffff }, { radiusSeconds: 0xffffffff }, {}]);
    const res = await measure(f.servers, { query: f.query, now: f.now });
    expect(res.ok ? 'ok' : res.code).toBe('E_ROUGHTIME_NO_QUORUM');
    const o = res.links[0]!.outcome;
    expect(o.kind === 'reply' && o.result.ok && o.result.kind === 'unusable' && o.result.code).toBe(
      'E_ROUGHTIME_RADIUS_TOO_LARGE',
    );
    const withQuorumOne = await measure(f.servers, { query: f.query, now: f.now, quorum: 1 });
    expect(withQuorumOne.ok && withQuorumOne.agreeing).toEqual([2]);
  });

  it('works across wire versions in one chain (Google, draft 08, RFC)', async () => {
    const f = await fleet([{}, {}, {}]);
    const servers = [
      { ...f.servers[0]!, versions: [RoughtimeVersion.GOOGLE] },
      { ...f.servers[1]!, versions: [RoughtimeVersion.DRAFT_08, RoughtimeVersion.DRAFT_11] },
      f.servers[2]!,
    ];
    const res = await measure(servers, { query: f.query, now: f.now });
    expect(res.ok && res.agreeing).toEqual([0, 1, 2]);
    expect(
      res.links.map((l) => (l.outcome.kind === 'reply' && l.outcome.result.ok ? l.outcome.result.reply.version : -1)),
    ).toEqual([RoughtimeVersion.GOOGLE, RoughtimeVersion.DRAFT_11, RoughtimeVersion.RFC]);
    expect(res.links[1]!.request.nonce).toEqual(await chainNonce(res.links[0]!.reply!, res.links[1]!.rand!, 32));
    expect(res.links[0]!.request.nonce.length).toBe(64);
  });
});

describe('malfeasance reports', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('./testdata/rfc-appendix-b-malfeasance.json', import.meta.url), 'utf8'),
  ) as {
    report: MalfeasanceReport;
  };

  it('RFC Appendix B: valid chain; the signed times put the first server (FnDyLV...) against the other two', async () => {
    // The appendix prose names the third server, but its data shows the first response one day
    // ahead of the other two (MIDP 1773685571 vs 1773599171, RADI 3): see testdata's "source".
    const res = await checkMalfeasanceReport(fixture.report);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.replies.map((r) => [r.version, r.midpoint, r.radius])).toEqual([
      [1, 1773685571n, 3],
      [1, 1773599171n, 3],
      [1, 1773599171n, 3],
    ]);
    expect(res.violations).toEqual([
      [0, 1],
      [0, 2],
    ]);
    expect(res.suspects).toEqual([0]);
    expect(fixture.report.responses[0]!.publicKey).toBe('FnDyLV/68ephhLdFJbdEGCdkVvpXDaVe5PYvRDdlOOY=');
  });

  it('RFC Appendix B requests are what our builder makes (VER 1, SRV, NONC, TYPE, ZZZZ)', async () => {
    const { buildRequest } = await import('./request.js');
    for (const e of fixture.report.responses) {
      const packet = fromBase64(e.request)!;
      const p = parsePacket(packet, true);
      if (!p.ok) throw new Error(p.detail);
      // This client pads the message (not the packet) to 1,024 bytes: §5.1 allows either reading.
      const ours = await buildRequest({
        versions: [RoughtimeVersion.RFC],
        nonce: p.message.get(Tag.NONC)!,
        publicKey: fromBase64(e.publicKey)!,
        size: 1036,
      });
      expect(ours.packet).toEqual(packet);
    }
  });

  it('a report survives JSON and round-trips through buildMalfeasanceReport', async () => {
    const links = fixture.report.responses.map((e) => ({
      publicKey: fromBase64(e.publicKey)!,
      ...(e.rand ? { rand: fromBase64(e.rand)! } : {}),
      request: fromBase64(e.request)!,
      response: fromBase64(e.response)!,
    }));
    expect(buildMalfeasanceReport(links)).toEqual(fixture.report);
    expect((await checkMalfeasanceReport(JSON.stringify(fixture.report))).ok).toBe(true);
  });

  it('rejects a report whose chain is broken, reordered or tampered', async () => {
    const r = fixture.report;
    const code = async (x: unknown): Promise<string> => {
      const c = await checkMalfeasanceReport(x);
      return c.ok ? 'ok' : c.code;
    };
    const badRand = { responses: r.responses.map((e, i) => (i === 1 ? { ...e, rand: r.responses[2]!.rand } : e)) };
    expect(await code(badRand)).toBe('E_ROUGHTIME_NONCE_MISMATCH');
    expect(await code({ responses: [r.responses[0]!, r.responses[2]!, r.responses[1]!] })).toBe(
      'E_ROUGHTIME_NONCE_MISMATCH',
    );
    const swappedKey = {
      responses: r.responses.map((e, i) => (i === 0 ? { ...e, publicKey: r.responses[1]!.publicKey } : e)),
    };
    expect(await code(swappedKey)).toBe('E_ROUGHTIME_DELEGATION_SIGNATURE');
    const noRand = {
      responses: r.responses.map((e, i) =>
        i === 1 ? { publicKey: e.publicKey, request: e.request, response: e.response } : e,
      ),
    };
    expect(await code(noRand)).toBe('E_ROUGHTIME_MALFORMED');
    for (const junk of [null, 1, 'x', '{}', { responses: [] }, { responses: [{}] }, { responses: 'x' }])
      expect(await code(junk)).toBe('E_ROUGHTIME_MALFORMED');
  });
});

describe('chooseServers (§8.2: a random choice of servers)', () => {
  it('picks distinct servers from the list, each position uniformly', () => {
    const list = ['a', 'b', 'c', 'd', 'e'];
    const counts = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const pick = chooseServers(list, 3);
      expect(new Set(pick).size).toBe(3);
      for (const p of pick) expect(list).toContain(p);
      counts.set(pick[0]!, (counts.get(pick[0]!) ?? 0) + 1);
    }
    for (const s of list) expect(counts.get(s)).toBeGreaterThan(800); // expected 1000 each
  });

  it('is deterministic for a given randomness source and refuses impossible counts', () => {
    const zeros = (n: number): Uint8Array => new Uint8Array(n);
    expect(chooseServers(['a', 'b', 'c'], 3, zeros)).toEqual(['a', 'b', 'c']);
    expect(() => chooseServers(['a'], 2)).toThrow(/count/);
  });
});

describe('ProvenTimeSource', () => {
  it('refreshes from a random three, answers from proven bounds, reports malfeasance', async () => {
    const f = await fleet([{}, {}, {}, { offsetMs: -3_600_000 }]);
    const seen: string[][] = [];
    const source = new ProvenTimeSource({
      servers: f.servers,
      query: f.query,
      now: f.now,
      count: 4,
      onMalfeasance: (m) => seen.push([...m.suspectServers]),
    });
    expect(source.current()).toEqual({ kind: 'none' });
    expect(source.compare(0)).toBe('unknown');
    const [a, b] = [source.refresh(), source.refresh()];
    expect(a).toBe(b); // one measurement at a time
    const res = await a;
    expect(res.ok).toBe(true);
    const now = source.current();
    expect(now.kind === 'bounds' && now.earliestMs <= f.trueNow() && f.trueNow() <= now.latestMs).toBe(true);
    expect(source.compare(f.trueNow() - 60_000)).toBe('past');
    expect(source.compare(f.trueNow() + 60_000)).toBe('future');
    // The liar is caught in one round only when queried after an honest server (random order
    // here); when caught, it alone is named, since the quorum tells which side of a violation lied.
    if (res.ok) expect(res.agreeing.every((i) => res.links[i]!.server.name !== 'server-3')).toBe(true);
    if (res.malfeasance) expect(seen).toEqual([['server-3']]);
    expect(source.retryDelayMs()).toBe(0);
  });

  it('backs off after failed measurements (§5) and keeps nothing unproven', async () => {
    const f = await fleet([{ down: true }, { down: true }, { down: true }]);
    const source = new ProvenTimeSource({ servers: f.servers, query: f.query, now: f.now });
    await source.refresh();
    expect(source.retryDelayMs()).toBe(1_000);
    await source.refresh();
    expect(source.retryDelayMs()).toBe(1_500);
    expect(source.current()).toEqual({ kind: 'none' });
    expect(() => new ProvenTimeSource({ servers: [], query: f.query })).toThrow(/servers/);
  });
});
