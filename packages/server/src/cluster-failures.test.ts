/**
 * A cluster when something fails (docs/protocol.md "Cluster"), with a real Redis and a relay in
 * a process of its own:
 * - a relay that dies (SIGKILL) stops counting: the members it served leave the presence of the
 *   others within the heartbeat window, and its join requests are dropped;
 * - a relay that loses Redis tells its clients `closing`, closes them, refuses new ones with
 *   `error E_UNAVAILABLE` and 1013, and serves again under a new relay id once Redis is back
 *   (clients then resend what the lost bus may not have carried); members on two relays chat again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { startServer, silentLogger, type RunningServer } from './index.js';
import { TestClient, within } from './testing/harness.js';
import { startRedis, type TestRedis } from './testing/redis.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function relay(redis: TestRedis, basePath: string): Promise<RunningServer> {
  const s = await startServer({ port: 0, basePath, logger: silentLogger, cluster: { url: redis.url, heartbeatMs: 200, retryMs: 200 } });
  cleanup.push(() => s.close());
  return s;
}

/** A relay in a child process (testing/relay-proc.ts), and the URL of its base path. */
async function relayProcess(redis: TestRedis, basePath: string): Promise<{ proc: ChildProcess; url: string }> {
  const script = fileURLToPath(new URL('./testing/relay-proc.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, redis.url, basePath], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanup.push(() => proc.kill('SIGKILL'));
  const line = await within(
    new Promise<string>((resolve) => createInterface({ input: proc.stdout }).once('line', resolve)),
    20_000,
    'the relay process to listen',
  );
  const { port } = JSON.parse(line) as { port: number };
  return { proc, url: `http://127.0.0.1:${port}${basePath}/` };
}

/** Connects and says hello; `relay` is the relay's instance id from its `hello`. */
async function connect(url: string): Promise<TestClient & { relay: string }> {
  const c = await TestClient.open(`${url.replace(/^http/, 'ws')}ws`);
  cleanup.push(() => c.close());
  c.send({ v: 1, t: 'hello', session: randomId() });
  const hello = (await c.next('hello')).header;
  c.nonce = hello.nonce;
  return Object.assign(c, { relay: hello.relay });
}

/** Connects once the relay serves again (it refuses with E_UNAVAILABLE until its Redis is back). */
async function connectOnceBack(url: string, ms: number): Promise<TestClient & { relay: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await connect(url);
    } catch {
      if (Date.now() > deadline) throw new Error(`the relay at ${url} did not serve again within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('a cluster when something fails', () => {
  it('a relay that dies stops counting: its members leave the others\' presence, its join requests go', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const basePath = `/${randomId()}`;
    const a = await relay(redis, basePath);
    const b = await relayProcess(redis, basePath);
    const room = randomId();
    const alice = await connect(a.url);
    await alice.sub(room);
    const bob = await connect(b.url);
    bob.send(bob.subHeader(room));
    expect((await alice.next('presence', (h) => h.count === 2)).header.count).toBe(2);
    // A joiner on the doomed relay asks to join: alice hears the request.
    const joinId = randomId();
    const joiner = await connect(b.url);
    joiner.send({ v: 1, t: 'join', room, id: joinId }, new Uint8Array([1, 2, 3]));
    expect((await alice.next('join')).header.id).toBe(joinId);
    b.proc.kill('SIGKILL');
    // Within the heartbeat window (4 × 200 ms) and a sweep: bob no longer counts.
    expect((await alice.next('presence', (h) => h.count === 1, 5_000)).header.count).toBe(1);
    // The dead relay's join request is gone: a Welcome for it is refused.
    alice.send({ v: 1, t: 'welcome', room, id: randomId(), to: joinId }, new Uint8Array([1]));
    expect((await alice.next('nack')).header.code).toBe('E_NO_SUCH_JOINER');
  });

  it('a relay that loses Redis closes its clients, refuses new ones (E_UNAVAILABLE), and serves again once Redis is back', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const basePath = `/${randomId()}`;
    const a = await relay(redis, basePath);
    const b = await relay(redis, basePath);
    const room = randomId();
    const alice = await connect(a.url);
    await alice.sub(room);
    const bob = await connect(b.url);
    await bob.sub(room);

    await redis.kill();
    // Told, then closed (1001 going away, as at a shutdown).
    expect((await alice.next('closing', () => true, 10_000)).header.t).toBe('closing');
    expect((await alice.closed).code).toBe(1001);
    await bob.closed;
    // While Redis is down, a newcomer is refused with a reason it can say, and 1013 (try again later).
    const refused = await TestClient.open(`${a.url.replace(/^http/, 'ws')}ws`);
    cleanup.push(() => refused.close());
    expect((await refused.next('error')).header.code).toBe('E_UNAVAILABLE');
    expect((await refused.closed).code).toBe(1013);

    await redis.restart();
    // Back: a new relay id (clients resend what the lost bus may not have carried), and the rooms work across relays again.
    const alice2 = await connectOnceBack(a.url, 10_000);
    expect(alice2.relay).not.toBe(alice.relay);
    await alice2.sub(room);
    const bob2 = await connectOnceBack(b.url, 10_000);
    bob2.send(bob2.subHeader(room));
    await alice2.next('presence', (h) => h.count === 2);
    const id = randomId();
    alice2.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 }, new Uint8Array([9]));
    expect((await bob2.next('msg')).header.id).toBe(id);
    expect((await alice2.next('ack')).header.id).toBe(id);
    // Nothing reached the disk: Redis as Safehouse runs it (--save "" --appendonly no) wrote no snapshot and no log, even when shut down.
    await redis.shutdown();
    expect(redis.written()).toEqual([]);
  });

  it('a relay refuses a Redis that writes to disk (a snapshot rule, or the append-only file): rooms would outlive the relays', async () => {
    const redis = await startRedis({ persist: true });
    cleanup.push(() => redis.stop());
    await expect(startServer({ port: 0, basePath: '/p', logger: silentLogger, cluster: { url: redis.url } })).rejects.toThrow(
      expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining('--save "" --appendonly no') }),
    );
    const plain = await startRedis();
    // Killed, not shut down: a Redis just switched to appendonly may take long to stop.
    cleanup.push(() => plain.kill().then(() => plain.stop()));
    const raw = createConnection(plain.socketPath);
    cleanup.push(() => raw.destroy());
    raw.write('CONFIG SET appendonly yes\r\n');
    await within(new Promise((resolve) => raw.once('data', resolve)), 5_000, 'CONFIG SET');
    await expect(startServer({ port: 0, basePath: '/p', logger: silentLogger, cluster: { url: plain.url } })).rejects.toThrow(
      expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining('appendonly yes') }),
    );
  });

  it('a commit being ordered when Redis goes is refused with E_UNAVAILABLE (retryable), before the relay says closing', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.stop());
    const a = await relay(redis, `/${randomId()}`);
    const room = randomId();
    const alice = await connect(a.url);
    await alice.sub(room, 0);
    // Redis stops executing commands (the script waits in its queue), then dies.
    const raw = createConnection(redis.socketPath);
    cleanup.push(() => raw.destroy());
    raw.write('CLIENT PAUSE 10000 ALL\r\n');
    await within(new Promise((resolve) => raw.once('data', resolve)), 5_000, 'CLIENT PAUSE');
    const id = randomId();
    alice.commit(room, id, 0, new Uint8Array([1]));
    // Time for the commit to reach the relay and its script to wait in the paused Redis.
    await new Promise((r) => setTimeout(r, 400));
    await redis.kill();
    expect((await alice.next('nack', (h) => h.id === id, 10_000)).header).toMatchObject({ id, code: 'E_UNAVAILABLE' });
    await alice.next('closing', () => true, 5_000);
    // The refusal came first.
    const order = alice.frames.map((f) => f.header.t);
    expect(order.includes('ack')).toBe(false);
  });
});
