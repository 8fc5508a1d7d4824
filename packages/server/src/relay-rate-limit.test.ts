/**
 * THREATS A.8: a per-connection token bucket. Over the burst, `pub`/`join`/`welcome` are nacked
 * E_RATE_LIMITED (the sender resends later); a sender that keeps flooding is closed with 1008;
 * other connections are not slowed. WebSocket pings from a peer are answered by the connection
 * itself (socket.ts), each charged like a frame: a ping flood ends the same way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, startTestServer, until, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function client(s: TestServer): Promise<TestClient> {
  const c = await TestClient.connect(s);
  clients.push(c);
  return c;
}

describe('rate limit', () => {
  it('frames over the burst are nacked E_RATE_LIMITED, not relayed', async () => {
    server = await startTestServer({ ratePerSecond: 5, rateBurst: 20, abuseAllowance: 1000 });
    const room = randomId();
    const [a, b] = [await client(server), await client(server)];
    await a.sub(room);
    await b.sub(room);
    const ids = Array.from({ length: 40 }, () => randomId());
    for (const id of ids) a.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 });
    const answered = (): number => a.frames.filter((f) => f.header.t === 'ack' || f.header.t === 'nack').length;
    await until(() => answered() === ids.length, 5_000, 'an answer per pub');
    const acks = a.frames.filter((f) => f.header.t === 'ack').length;
    const nacks = a.frames.filter((f) => f.header.t === 'nack' && f.header.code === 'E_RATE_LIMITED').length;
    // `hello` and `sub` took 2 of the 20 tokens; a few more may refill while the frames arrive.
    expect(acks).toBeGreaterThanOrEqual(18);
    expect(acks).toBeLessThanOrEqual(21);
    expect(acks + nacks).toBe(40);
    // Every pub is answered, so the relay is done with them: after a marker, b holds all it relayed.
    await b.sync();
    expect(b.frames.filter((f) => f.header.t === 'msg')).toHaveLength(acks);
    expect(server.stats().rateLimited).toBeGreaterThanOrEqual(nacks);
  });

  it('bytes over the byte bucket are nacked E_RATE_LIMITED, however few the frames', async () => {
    server = await startTestServer({ bytesPerSecond: 64 * 1024, bytesBurst: 128 * 1024, abuseAllowance: 1000 });
    const room = randomId();
    const a = await client(server);
    await a.sub(room);
    const ids = [randomId(), randomId(), randomId()];
    for (const id of ids) a.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 }, new Uint8Array(60 * 1024));
    await until(() => a.frames.filter((f) => f.header.t === 'ack' || f.header.t === 'nack').length === 3, 5_000, 'three answers');
    // Answers are matched by id (in a cluster an ack waits for the bus, a refusal does not).
    const answer = (id: string | undefined) => a.frames.find((f) => (f.header.t === 'ack' || f.header.t === 'nack') && f.header.id === id)?.header;
    expect(answer(ids[0])?.t).toBe('ack');
    expect(answer(ids[1])?.t).toBe('ack');
    expect(answer(ids[2])).toMatchObject({ t: 'nack', code: 'E_RATE_LIMITED' });
  });

  it('a sustained flood closes the connection with error E_RATE_LIMITED and 1008; others keep going', async () => {
    server = await startTestServer({ ratePerSecond: 10, rateBurst: 20, abuseAllowance: 50 });
    const room = randomId();
    const [flooder, other] = [await client(server), await client(server)];
    await flooder.sub(room);
    await other.sub(room);
    for (let i = 0; i < 500 && flooder.ws.readyState === flooder.ws.OPEN; i++)
      flooder.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, new Uint8Array(100));
    expect((await flooder.next('error')).header.code).toBe('E_RATE_LIMITED');
    expect((await flooder.closed).code).toBe(1008);
    expect((await other.next('presence', (h) => h.count === 1)).header.count).toBe(1);
    other.send({ v: 1, t: 'ping' });
    await other.next('pong');
    expect(server.logger.entries.some((e) => e.event === 'rate-abuse')).toBe(true);
  });

  it('a steady sender within the rate is never refused', async () => {
    server = await startTestServer({ ratePerSecond: 100, rateBurst: 10, abuseAllowance: 5 });
    const room = randomId();
    const a = await client(server);
    await a.sub(room);
    for (let i = 0; i < 30; i++) {
      const id = randomId();
      a.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 });
      expect((await a.next('ack')).header.id).toBe(id);
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(server.stats().rateLimited).toBe(0);
  });
});

describe('pings from a peer (RFC 6455 §5.5.2), charged to the same buckets', () => {
  it('are answered with a pong carrying the same bytes', async () => {
    server = await startTestServer();
    const a = await client(server);
    const pongs: Buffer[] = [];
    a.ws.on('pong', (data: Buffer) => pongs.push(data));
    a.ws.ping(Buffer.from('are you there'));
    a.ws.ping(Buffer.alloc(0));
    await until(() => pongs.length === 2, 5_000, 'two pongs');
    expect(pongs.map((p) => p.toString())).toEqual(['are you there', '']);
  });

  it('a ping flood is answered within the burst only, then closed with E_RATE_LIMITED and 1008', async () => {
    server = await startTestServer({ ratePerSecond: 10, rateBurst: 20, abuseAllowance: 50 });
    const [flooder, other] = [await client(server), await client(server)];
    let pongs = 0;
    flooder.ws.on('pong', () => (pongs += 1));
    for (let i = 0; i < 500 && flooder.ws.readyState === flooder.ws.OPEN; i++) flooder.ws.ping(Buffer.alloc(100));
    expect((await flooder.next('error')).header.code).toBe('E_RATE_LIMITED');
    expect((await flooder.closed).code).toBe(1008);
    // The burst (20, less `hello`'s token) plus what refills while the pings arrive; never 500.
    expect(pongs).toBeGreaterThanOrEqual(15);
    expect(pongs).toBeLessThan(40);
    expect(server.stats().rateLimited).toBeGreaterThan(0);
    other.send({ v: 1, t: 'ping' });
    await other.next('pong');
  });

  it('unsolicited pongs are charged too: a pong flood is closed with E_RATE_LIMITED and 1008', async () => {
    server = await startTestServer({ ratePerSecond: 10, rateBurst: 20, abuseAllowance: 50 });
    const flooder = await client(server);
    for (let i = 0; i < 500 && flooder.ws.readyState === flooder.ws.OPEN; i++) flooder.ws.pong(Buffer.alloc(100));
    expect((await flooder.next('error')).header.code).toBe('E_RATE_LIMITED');
    expect((await flooder.closed).code).toBe(1008);
  });
});
