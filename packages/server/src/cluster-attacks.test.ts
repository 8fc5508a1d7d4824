/**
 * Attacks on the cluster (issue 14: several relays share rooms through Redis), each played with
 * real relays on a real Redis (testing/redis.ts), by a client that speaks the raw protocol
 * (harness.ts TestClient). Each test states what must hold; on the attack branch each one fails
 * against the code it was written for.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '@redis/client';
import { randomId } from '@safehouse/core/protocol';
import { startServer, silentLogger, type RunningServer, type ServerLimits } from './index.js';
import { CapturingLogger, TestClient, commitHeader, sleep, subHeader, until, within } from './testing/harness.js';
import { startRedis, type TestRedis } from './testing/redis.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

type Cluster = { redis: TestRedis; relays: RunningServer[]; logger: CapturingLogger };

/** `n` relays on one real Redis, sharing a base path. */
async function cluster(n: number, limits: Partial<ServerLimits> = {}, heartbeatMs = 200): Promise<Cluster> {
  const redis = await startRedis();
  cleanup.push(() => redis.stop());
  const basePath = `/${randomId()}`;
  const logger = new CapturingLogger();
  const relays: RunningServer[] = [];
  for (let i = 0; i < n; i++) {
    const s = await startServer({ port: 0, basePath, logger, limits, cluster: { url: redis.url, heartbeatMs, retryMs: 200 } });
    cleanup.push(() => s.close());
    relays.push(s);
  }
  return { redis, relays, logger };
}

/** Connects to `server` and says hello; `relay` is its instance id. */
async function connect(server: RunningServer): Promise<TestClient & { relay: string }> {
  const c = await TestClient.open(`${server.url.replace(/^http/, 'ws')}ws`);
  cleanup.push(() => c.close());
  c.send({ v: 1, t: 'hello', session: randomId() });
  const hello = (await c.next('hello')).header;
  c.nonce = hello.nonce;
  return Object.assign(c, { relay: hello.relay });
}

/** Runs redis-cli against the test Redis. */
function redisCli(redis: TestRedis, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-s', redis.socketPath, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Bytes Redis holds for every key of room `room` (MEMORY USAGE, summed). */
function roomBytesInRedis(redis: TestRedis, room: string): number {
  const keys = redisCli(redis, '--scan', '--pattern', `sh:{${room}}:*`).split('\n').filter(Boolean);
  let total = 0;
  for (const k of keys) total += Number(redisCli(redis, 'MEMORY', 'USAGE', k, 'SAMPLES', '0').trim()) || 0;
  return total;
}

describe('cluster attacks: join requests and Welcomes', () => {
  it("aLinkHolderOnAnotherRelayCannotStealAJoinersWelcome: reusing the joiner's join id (seen from a rival cohort) redirects the Welcome", async () => {
    const { relays } = await cluster(2);
    const [a, b] = relays as [RunningServer, RunningServer];
    const room = randomId();
    // The room's member is on relay A.
    const member = await connect(a);
    await member.sub(room, 3);
    // A link holder (not a member) on relay A opens a cohort of its own: join requests reach every cohort.
    const thief = await connect(a);
    await thief.sub(room, 0, 'thief');
    // The newcomer clicks the link; its relay is B.
    const joiner = await connect(b);
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, new Uint8Array(1053).fill(7));
    await joiner.next('ack', (h) => h.id === joinId);
    await member.next('join', (h) => h.id === joinId);
    // The thief saw the request's id, and asks under the same id.
    await thief.next('join', (h) => h.id === joinId);
    thief.send({ v: 1, t: 'join', room, id: joinId }, new Uint8Array(1053).fill(9));
    // Refused (E_FORBIDDEN: the id is another client's pending request), or at least not taken over.
    await until(() => thief.frames.some((f) => (f.header.t === 'ack' || f.header.t === 'nack') && f.header.id === joinId), 5_000, "an answer to the thief's join");
    // The member answers the request it saw (the genuine one) with a Welcome.
    const welcomeId = randomId();
    member.send({ v: 1, t: 'welcome', room, id: welcomeId, to: joinId }, new Uint8Array([1, 42]));
    await member.next('ack', (h) => h.id === welcomeId);
    // The Welcome must reach the joiner who asked, and never the thief.
    await sleep(300);
    await thief.sync();
    await joiner.sync();
    expect(thief.frames.some((f) => f.header.t === 'welcome')).toBe(false);
    expect(joiner.frames.some((f) => f.header.t === 'welcome' && f.header.id === welcomeId)).toBe(true);
  });

  it("aLinkHolderCannotStealAJoinersWelcome on one relay either: a second connection's join under a pending join's id takes it over", async () => {
    const s = await startServer({ port: 0, logger: silentLogger });
    cleanup.push(() => s.close());
    const room = randomId();
    const member = await connect(s);
    await member.sub(room, 3);
    const thief = await connect(s);
    await thief.sub(room, 0, 'thief');
    const joiner = await connect(s);
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, new Uint8Array(1053).fill(7));
    await joiner.next('ack', (h) => h.id === joinId);
    await thief.next('join', (h) => h.id === joinId);
    thief.send({ v: 1, t: 'join', room, id: joinId }, new Uint8Array(1053).fill(9));
    await thief.sync();
    const welcomeId = randomId();
    member.send({ v: 1, t: 'welcome', room, id: welcomeId, to: joinId }, new Uint8Array([1, 42]));
    await member.next('ack', (h) => h.id === welcomeId).catch(() => undefined);
    await thief.sync();
    await joiner.sync();
    expect(thief.frames.some((f) => f.header.t === 'welcome')).toBe(false);
    expect(joiner.frames.some((f) => f.header.t === 'welcome' && f.header.id === welcomeId)).toBe(true);
  });
});

describe('cluster attacks: what Redis is made to hold', () => {
  it('aLoneClaimCannotMakeRedisHoldMoreLogThanARelayDoes: 64 commits, each after 16 kept proposals of 60 KiB, in a cohort of its own', async () => {
    // Rates relaxed only to keep the test short: at the default 1 MiB/s per connection the same
    // bytes take about 70 s from one connection (or a few seconds from 16).
    const fast = { ratePerSecond: 100_000, rateBurst: 100_000, bytesPerSecond: 1 << 30, bytesBurst: 1 << 30 };
    const { redis, relays } = await cluster(2, fast);
    const [a] = relays as [RunningServer];
    const room = randomId(); // any room id: no link, no membership needed
    const x = await connect(a);
    await x.sub(room, 0, 'x');
    const big = new Uint8Array(60 * 1024).fill(0x5a);
    for (let e = 0; e < 64; e++) {
      const ids: string[] = [];
      for (let p = 0; p < 16; p++) {
        const id = randomId();
        ids.push(id);
        x.send({ v: 1, t: 'pub', room, id, kind: 'proposal', epoch: e }, big);
      }
      for (const id of ids) await x.next('ack', (h) => h.id === id, 10_000);
      const c = randomId();
      x.send(commitHeader(room, c, e, big, 'x'), big);
      await x.next('ack', (h) => h.id === c, 10_000);
    }
    const held = roomBytesInRedis(redis, room);
    // The relay keeps a cohort's log within commitLogBytes (1 MiB); the cluster must not keep more
    // than that (plus the proposals of the current epoch) for one connection's lone claim.
    const limit = 1024 * 1024 + 16 * 64 * 1024 + 256 * 1024;
    expect(held, `Redis holds ${(held / 1048576).toFixed(1)} MiB for one lone claim`).toBeLessThanOrEqual(limit);
  }, 120_000);
});

describe('cluster attacks: losing the bus on purpose', () => {
  // Known gap (docs/security.md "Known gaps"): not defended yet; skipped so the suite says so, not counted as passing.
  it.skip('aFloodWithinTheRateLimitsInCohortsOfItsOwnDoesNotDisconnectEveryClient: 40 connections per relay, each alone in a claim of its own', async () => {
    // Production timing (a heartbeat every 1 s, a relay silent 4 s is gone) and default limits.
    const { relays, logger } = await cluster(2, {}, 1_000);
    const [a, b] = relays as [RunningServer, RunningServer];
    // Two members of some other room, one on each relay.
    const victims = randomId();
    const alice = await connect(a);
    await alice.sub(victims);
    const bob = await connect(b);
    await bob.sub(victims);
    let aliceClosed = false;
    let bobClosed = false;
    void alice.closed.then(() => (aliceClosed = true));
    void bob.closed.then(() => (bobClosed = true));
    // Anyone past the gate (no link needed: any room id): connections on both relays, each in a
    // cohort of its own (a claim with its own key), so nobody receives their frames; both relays
    // follow the rooms, so every frame also crosses Redis to the other relay. Two rooms: a room
    // takes 64 cohorts at most (maxCohortsPerRoom).
    const rooms = [randomId(), randomId()];
    const flooders: { x: TestClient; room: string }[] = [];
    for (const [relay, side] of [[a, 'a'], [b, 'b']] as const)
      for (let i = 0; i < Number(process.env.FLOOD_K ?? 40); i++) {
        const room = rooms[i % 2] as string;
        const x = await connect(relay);
        await x.sub(room, 0, `${side}${i}`);
        flooders.push({ x, room });
      }
    // Each sends 60 KiB every 60 ms: ~1 MiB/s, within the default byte rate (1 MiB/s, burst 4 MiB).
    const body = new Uint8Array(60 * 1024);
    let stop = false;
    const pump = (async () => {
      while (!stop) {
        for (const { x, room } of flooders) if (x.ws.readyState === 1 && x.ws.bufferedAmount < 1 << 20) x.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, body);
        for (const { x } of flooders) x.frames.length = 0;
        await sleep(60);
      }
    })();
    try {
      await sleep(12_000);
    } finally {
      stop = true;
      await pump;
    }
    const rateLimited = a.stats().rateLimited + b.stats().rateLimited;
    expect(rateLimited, 'the flood stayed within the rate limits').toBe(0);
    // Single relay, the same flood (80 connections): nobody is disconnected. A cluster must not
    // lose its bus over it, and with it every client of every room.
    expect(logger.entries.filter((e) => e.event === 'bus-lost'), 'relays that lost their bus').toHaveLength(0);
    expect({ aliceClosed, bobClosed }).toEqual({ aliceClosed: false, bobClosed: false });
    const id = randomId();
    alice.send({ v: 1, t: 'pub', room: victims, id, kind: 'app', epoch: 0 }, new Uint8Array([1]));
    expect((await bob.next('msg', (h) => h.id === id, 5_000)).header.id).toBe(id);
  }, 60_000);

  it("aBurstWithinEachConnectionsAllowanceDoesNotCutEveryRelayOffTheBus: 16 connections, 4 MiB each at once (Redis's pubsub output limit is 32 MiB)", async () => {
    const { relays, logger } = await cluster(2, {}, 1_000);
    const [a, b] = relays as [RunningServer, RunningServer];
    const victims = randomId();
    const alice = await connect(a);
    await alice.sub(victims);
    const bob = await connect(b);
    await bob.sub(victims);
    let closed = 0;
    void alice.closed.then(() => closed++);
    void bob.closed.then(() => closed++);
    // Any room id; one connection on relay B so that B follows the room too.
    const room = randomId();
    const y = await connect(b);
    await y.sub(room, 0, 'y');
    const xs: TestClient[] = [];
    for (let i = 0; i < 16; i++) {
      const x = await connect(a);
      await x.sub(room, 0, `x${i}`);
      xs.push(x);
    }
    // Each connection's whole byte burst (bytesBurst 4 MiB: 66 frames of 60 KiB), all at once.
    const body = new Uint8Array(60 * 1024);
    for (let j = 0; j < 66; j++) for (const x of xs) x.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, body);
    await sleep(5_000);
    expect(a.stats().rateLimited, 'every frame was within the limits').toBe(0);
    expect(logger.entries.filter((e) => e.event === 'bus-lost'), 'relays cut off the bus').toHaveLength(0);
    expect(closed, 'members of another room disconnected').toBe(0);
  }, 60_000);
});

describe('cluster attacks: one sub that stalls Redis', () => {
  it('aRelayStartingToFollowAStuffedRoomDoesNotStallRedisForEveryone: 10 claims of 68 MiB of log each, then one sub on another relay', async () => {
    // Rates relaxed only to fill Redis quickly: at the default limits 80 connections do it in ~9 s.
    const fast = { ratePerSecond: 100_000, rateBurst: 100_000, bytesPerSecond: 1 << 30, bytesBurst: 1 << 30 };
    const { redis, relays, logger } = await cluster(2, fast, 1_000);
    const [a, b] = relays as [RunningServer, RunningServer];
    const room = randomId();
    const big = new Uint8Array(60 * 1024).fill(0x5a);
    await Promise.all(
      Array.from({ length: 10 }, async (_, k) => {
        const x = await connect(a);
        await x.sub(room, 0, `x${k}`);
        for (let e = 0; e < 64; e++) {
          const ids = Array.from({ length: 16 }, () => randomId());
          for (const id of ids) x.send({ v: 1, t: 'pub', room, id, kind: 'proposal', epoch: e }, big);
          // Sent again until acked: a relay whose bus has too much on its way refuses (E_UNAVAILABLE).
          for (const id of ids)
            for (;;) {
              await until(() => x.frames.some((f) => (f.header.t === 'ack' || f.header.t === 'nack') && f.header.id === id), 30_000, 'an answer');
              if (x.frames.some((f) => f.header.t === 'ack' && f.header.id === id)) break;
              x.frames.splice(x.frames.findIndex((f) => f.header.t === 'nack' && f.header.id === id), 1);
              x.send({ v: 1, t: 'pub', room, id, kind: 'proposal', epoch: e }, big);
            }
          const c = randomId();
          x.send(commitHeader(room, c, e, big, `x${k}`), big);
          await x.next('ack', (h) => h.id === c, 30_000);
          x.frames.length = 0;
        }
      }),
    );
    // Members of another room, one on each relay.
    const victims = randomId();
    const alice = await connect(a);
    await alice.sub(victims);
    const bob = await connect(b);
    await bob.sub(victims);
    let closed = 0;
    void alice.closed.then(() => closed++);
    void bob.closed.then(() => closed++);
    // How long Redis does not answer anyone: a PING every 50 ms from a client of its own.
    const probe = createClient({ socket: { path: redis.socketPath, reconnectStrategy: false } });
    probe.on('error', () => undefined);
    await probe.connect();
    cleanup.push(() => probe.destroy());
    let stalled = 0;
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const t = Date.now();
        await probe.ping().catch(() => undefined);
        stalled = Math.max(stalled, Date.now() - t);
        await sleep(50);
      }
    })();
    // One `sub` to the stuffed room on relay B, which does not follow it yet: B loads its snapshot.
    const y = await connect(b);
    y.send(subHeader(y.nonce, room, 0, 'y'));
    await y.next('presence', () => true, 20_000).catch(() => undefined);
    await sleep(1_000);
    probing = false;
    await prober;
    expect(stalled, 'the longest Redis did not answer anyone (ms)').toBeLessThan(1_000);
    expect(logger.entries.filter((e) => e.event === 'bus-lost'), 'relays that lost their bus').toHaveLength(0);
    expect(closed, 'members of another room disconnected').toBe(0);
  }, 180_000);
});

describe('cluster attacks: the log kept for members away', () => {
  it("aStrangerOnAnotherRelayCannotEraseTheLogKeptForAMemberAway: the room's log outlives its last subscriber for emptyRoomKeepMs, as on one relay", async () => {
    const { relays } = await cluster(2);
    const [a, b] = relays as [RunningServer, RunningServer];
    const room = randomId();
    // alice and bob (relay A) are members at epoch 0; carol, a member too, is away.
    const alice = await connect(a);
    await alice.sub(room, 0);
    const bob = await connect(a);
    await bob.sub(room, 0);
    const commits = [randomId(), randomId()];
    for (const [e, id] of commits.entries()) {
      alice.commit(room, id, e, new Uint8Array([e]));
      await alice.next('ack', (h) => h.id === id);
    }
    // Everyone online leaves: the log stays for members away (emptyRoomKeepMs, 10 min).
    alice.close();
    bob.close();
    await sleep(2_500); // relay A lets the idle room go (its shared state stays in Redis)
    // A stranger (any room id will do: no link, no membership) touches the room on relay B.
    const stranger = await connect(b);
    await stranger.sub(room, 0, 'stranger');
    stranger.close();
    await sleep(6_000); // a sweep or two
    // carol comes back with her epoch 0 proof: she must get the commits she missed.
    const carol = await connect(a);
    carol.send(carol.subHeader(room, 0));
    const answer = await Promise.race([
      carol.next('nack', (h) => h.id === room).then((f) => `nack ${f.header.code} ${f.header.epoch ?? ''}`),
      carol.next('presence', (h) => h.room === room).then((f) => `presence ${f.header.count} (a cohort of her own: no log)`),
    ]);
    expect(answer).toBe('nack E_STALE_EPOCH 2');
    expect(carol.frames.filter((f) => f.header.t === 'msg').map((f) => f.header.t === 'msg' && f.header.id)).toEqual(commits);
  }, 30_000);
});

/** A relay in a child process (testing/relay-proc.ts), to be SIGKILLed as a crash would. */
async function relayProcess(redis: TestRedis, basePath: string): Promise<{ kill: () => void; server: RunningServer }> {
  const script = fileURLToPath(new URL('./testing/relay-proc.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, redis.url, basePath], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanup.push(() => proc.kill('SIGKILL'));
  const line = await within(new Promise<string>((resolve) => createInterface({ input: proc.stdout }).once('line', resolve)), 20_000, 'the relay process');
  const { port } = JSON.parse(line) as { port: number };
  return { kill: () => proc.kill('SIGKILL'), server: { url: `http://127.0.0.1:${port}${basePath}/` } as RunningServer };
}

describe('cluster attacks: what a dead relay leaves behind', () => {
  // Known gap (docs/security.md "Known gaps"): bounded by the room's expiry; skipped, not counted as passing.
  it.skip("aRelayThatDiesLeavesNoJoinRequestsInRedis: its joiners' requests (64 KiB each) are not kept for as long as the room is in use", async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const basePath = `/${randomId()}`;
    // Relay B keeps the room in use (its member); its shared state would expire 10 s after last use.
    const b = await startServer({ port: 0, basePath, logger: silentLogger, limits: { emptyRoomKeepMs: 0 }, cluster: { url: redis.url, heartbeatMs: 200 } });
    cleanup.push(() => b.close());
    const doomed = await relayProcess(redis, basePath);
    const room = randomId();
    const member = await connect(b);
    await member.sub(room);
    // Join requests on the relay that will die (a relay that loses its bus, which a flood does,
    // comes back under a new id and leaves the same behind): 8 per connection, bodies of 60 KiB.
    for (let c = 0; c < 4; c++) {
      const joiner = await connect(doomed.server);
      for (let i = 0; i < 8; i++) {
        const id = randomId();
        joiner.send({ v: 1, t: 'join', room, id }, new Uint8Array(60 * 1024));
        await joiner.next('ack', (h) => h.id === id);
      }
    }
    expect(Number(redisCli(redis, 'HLEN', `sh:{${room}}:j`).trim())).toBe(32);
    doomed.kill();
    // Long past the dead relay's last heartbeat and the room's TTL, with the room in use.
    await sleep(15_000);
    const left = Number(redisCli(redis, 'HLEN', `sh:{${room}}:j`).trim());
    const bytes = Number(redisCli(redis, 'MEMORY', 'USAGE', `sh:{${room}}:j`, 'SAMPLES', '0').trim()) || 0;
    expect(left, `join requests of the dead relay still in Redis (${(bytes / 1048576).toFixed(1)} MiB)`).toBe(0);
  }, 60_000);
});

/** A relay with production timing in a child process; `rssMiB()` reads its resident memory. */
async function relayWithMemory(redis: TestRedis, basePath: string): Promise<{ server: RunningServer; rssMiB: () => number; kill: () => void }> {
  const script = fileURLToPath(new URL('./testing/attack-relay-proc.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, redis.url, basePath, '1000'], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanup.push(() => proc.kill('SIGKILL'));
  const line = await within(new Promise<string>((resolve) => createInterface({ input: proc.stdout }).once('line', resolve)), 20_000, 'the relay process');
  const { port, pid } = JSON.parse(line) as { port: number; pid: number };
  const rssMiB = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  return { server: { url: `http://127.0.0.1:${port}${basePath}/` } as RunningServer, rssMiB, kill: () => proc.kill('SIGKILL') };
}

describe('cluster attacks: frames that wait for a room to load', () => {
  it('framesHeldWhileARoomLoadsAreStillChargedAndBounded: one connection, its first sub waiting on a slow Redis, cannot make the relay buffer 200 MiB', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const pid = Number(/process_id:(\d+)/.exec(redisCli(redis, 'INFO', 'server'))?.[1]);
    const relay = await relayWithMemory(redis, `/${randomId()}`);
    const c = await connect(relay.server);
    await sleep(500);
    const before = relay.rssMiB();
    // Redis is slow for 2.5 s (less than a relay's 4 s: nobody loses the bus). A stuffed room's
    // snapshot does this (see above), as does a backlog on the bus; here SIGSTOP stands in for it.
    process.kill(pid, 'SIGSTOP');
    let peak = before;
    try {
      // The connection's first `sub` to a room this relay does not follow waits for its shared
      // state; every frame behind it waits too, uncharged (relay.ts onMessage: `conn.held`).
      const room = randomId();
      c.send(subHeader(c.nonce, room, 0, 'x'));
      const body = new Uint8Array(60 * 1024);
      for (let i = 0; i < 3_500; i++) {
        c.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, body);
        if (i % 50 === 0) {
          await sleep(1);
          peak = Math.max(peak, relay.rssMiB());
        }
      }
      while (c.ws.bufferedAmount > 0 && c.ws.readyState === 1) await sleep(10);
      await sleep(200);
      peak = Math.max(peak, relay.rssMiB());
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The byte bucket lets one connection through with 4 MiB at once (bytesBurst); the rest is
    // refused or closes the connection, whether or not a room is loading.
    expect(peak - before, `the relay's memory grew by ${(peak - before).toFixed(0)} MiB for one connection`).toBeLessThan(64);
  }, 60_000);
});

describe('cluster attacks: presence of the dead', () => {
  it('aRelayThatStartsJustAfterAnotherDiedDoesNotCountItsMembersForever: a rolling restart', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const basePath = `/${randomId()}`;
    // Production timing: a heartbeat every 1 s, a relay silent for 4 s is gone.
    const old = await relayWithMemory(redis, basePath);
    const room = randomId();
    const alice = await connect(old.server);
    await alice.sub(room);
    await sleep(500); // alice has been there a moment: her relay told the others (and Redis) she counts
    // The operator restarts that relay: it dies, and a new one starts at once.
    old.kill();
    const fresh = await startServer({ port: 0, basePath, logger: silentLogger, cluster: { url: redis.url, heartbeatMs: 1_000 } });
    cleanup.push(() => fresh.close());
    // alice comes back through the new relay.
    const back = await connect(fresh);
    back.send(back.subHeader(room));
    const first = (await back.next('presence', (h) => h.room === room)).header;
    if (process.env.DEBUG_GHOST) console.log('first presence', JSON.stringify(first));
    // Well past the dead relay's last heartbeat, the new relay counts the room's members.
    await sleep(8_000);
    const bob = await connect(fresh);
    bob.send(bob.subHeader(room));
    const seen = (await bob.next('presence', (h) => h.room === room)).header;
    expect(seen.count, 'members counted (alice back, and bob; the dead relay counted alice too)').toBe(2);
  }, 30_000);
});

describe('cluster attacks: rooms a relay never lets go', () => {
  it('aSubWhoseConnectionClosesWhileItsCohortOpensDoesNotKeepTheRoomForever: 100 rooms, one frame and a close each', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const s = await startServer({ port: 0, basePath: `/${randomId()}`, logger: silentLogger, limits: { emptyRoomKeepMs: 0 }, cluster: { url: redis.url, heartbeatMs: 200 } });
    cleanup.push(() => s.close());
    const rooms: string[] = [];
    for (let i = 0; i < 100; i++) {
      const room = randomId();
      rooms.push(room);
      // The room is followed already (the attacker's first connection is in it)...
      const first = await connect(s);
      await first.sub(room, 0, `first${i}`);
      // ...so a second connection's claim goes straight to the cohort's opening: it sends the
      // `sub` and closes at once, while the cohort is being opened.
      const second = await connect(s);
      second.send(subHeader(second.nonce, room, 0, `second${i}`));
      second.ws.close();
      await second.closed;
      first.close();
    }
    // Everybody is gone; a cluster's relay lets an idle room go 2 s after (relay.ts LINGER_MS),
    // and Redis forgets it 10 s after its last use (roomTtlMs, with emptyRoomKeepMs 0).
    // The sweep (every 5 s) finds each room idle and lets it go 2 s later; Redis then forgets it 10 s after.
    await sleep(22_000);
    const left = rooms.filter((r) => redisCli(redis, 'EXISTS', `sh:{${r}}:m`).trim() === '1').length;
    expect({ followed: s.stats().rooms, inRedis: left }).toEqual({ followed: 0, inRedis: 0 });
  }, 60_000);
});

describe('cluster attacks: rooms Redis keeps for nobody', () => {
  // Known gap (docs/security.md "Known gaps"): bounded by the room's expiry; skipped, not counted as passing.
  it.skip('aLoneClaimLeavesNothingInRedisOnceItsRelayLetsItGo: 200 room ids, a claim and an unsub each, within the rate limits', async () => {
    const { redis, relays } = await cluster(1);
    const [a] = relays as [RunningServer];
    const memory = (): number => Number(/used_memory:(\d+)/.exec(redisCli(redis, 'INFO', 'memory'))?.[1] ?? 0);
    const before = memory();
    const c = await connect(a);
    const rooms: string[] = [];
    for (let i = 0; i < 200; i++) {
      const room = randomId();
      rooms.push(room);
      await c.sub(room, 0, `lone${i}`);
      c.send({ v: 1, t: 'unsub', room });
      await sleep(40); // 50 frames per second at most: within the default rate
    }
    expect(a.stats().rateLimited).toBe(0);
    // One relay alone forgets such a room at once (relay-membership-authority.test.ts
    // aLoneClaimKeepsNoLogOnceEmpty); a cluster's relay lets it go 2 s after.
    await sleep(4_000);
    expect(a.stats().rooms).toBe(0);
    const kept = rooms.filter((r) => redisCli(redis, 'EXISTS', `sh:{${r}}:m`).trim() === '1').length;
    const grown = memory() - before;
    // Today each stays for roomTtlMs (10 min): ~20 rooms per second per connection, 256
    // connections per address, kept 10 minutes.
    expect(kept, `rooms Redis keeps for nobody (${grown} bytes more; PTTL ${redisCli(redis, 'PTTL', `sh:{${rooms[0]}}:m`).trim()} ms)`).toBe(0);
  }, 60_000);
});
