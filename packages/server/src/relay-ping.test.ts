/**
 * WebSocket pings from a peer (RFC 6455 §5.5.2): the connection answers them itself (socket.ts),
 * each one charged to the peer's flood guard like a frame (THREATS A.8). A ping flood is answered
 * only within the burst and then closed with `error E_RATE_LIMITED` and 1008, like a frame flood.
 */
import { afterEach, describe, expect, it } from 'vitest';
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

describe('pings from a peer', () => {
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
});
