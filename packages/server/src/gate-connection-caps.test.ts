/**
 * THREATS A.5 and A.7: one address cannot take the relay for itself. Past the per-IP cap (and
 * the total cap) an authorised upgrade is told why (`error E_TOO_MANY_CONNECTIONS`, close 1013);
 * other addresses still get in; a closed connection frees its slot. Raw TCP sockets per address
 * are capped too, and a request whose headers never finish is dropped after headersTimeout
 * (slowloris). These tests play many sources with 127.0.0.N, so they count loopback addresses
 * (`countLoopback`); gate-caps-fit-the-deployment.test.ts covers what is counted where.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, startTestServer, until, within, wsUrl, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function from(s: TestServer, localAddress: string): Promise<TestClient> {
  const c = await TestClient.connect(s, { localAddress });
  clients.push(c);
  return c;
}

/** An authorised upgrade past a cap: accepted, then `error E_TOO_MANY_CONNECTIONS` and close 1013. */
async function refusedBusy(url: string, options: Parameters<typeof TestClient.open>[1] = {}): Promise<void> {
  const c = await TestClient.open(url, options);
  clients.push(c);
  expect((await c.next('error')).header.code).toBe('E_TOO_MANY_CONNECTIONS');
  expect(await within(c.closed, 5_000, 'the close')).toEqual({ code: 1013, reason: 'E_TOO_MANY_CONNECTIONS' });
}

function tcp(port: number, localAddress: string): Promise<Socket> {
  return within(
    new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
      s.on('error', reject);
    }),
    5_000,
    'a TCP connection',
  );
}

describe('connection caps', () => {
  it('per-IP cap: the next upgrade from that address is told E_TOO_MANY_CONNECTIONS; other addresses get in', async () => {
    server = await startTestServer({ maxConnectionsPerIp: 3 }, { countLoopback: true });
    const first = [await from(server, '127.0.0.2'), await from(server, '127.0.0.2'), await from(server, '127.0.0.2')];
    await refusedBusy(wsUrl(server), { localAddress: '127.0.0.2' });
    await from(server, '127.0.0.3');
    first[0]?.close();
    await until(() => server?.stats().connections === 3, 5_000, 'the slot to be freed');
    await from(server, '127.0.0.2');
  });

  it('total cap: past maxConnections every address is told E_TOO_MANY_CONNECTIONS', async () => {
    server = await startTestServer({ maxConnections: 4, maxConnectionsPerIp: 2 }, { countLoopback: true });
    for (const a of ['127.0.0.4', '127.0.0.4', '127.0.0.5', '127.0.0.5']) await from(server, a);
    await refusedBusy(wsUrl(server), { localAddress: '127.0.0.6' });
    expect(server.stats().connections).toBe(4);
  });

  it('raw TCP sockets per address are capped; a stalled request is dropped after headersTimeout', async () => {
    server = await startTestServer({ maxSocketsPerIp: 4, headersTimeoutMs: 300, requestTimeoutMs: 300 }, { countLoopback: true });
    const held: Socket[] = [];
    for (let i = 0; i < 4; i++) held.push(await tcp(server.port, '127.0.0.7'));
    for (const s of held) s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // never finished
    const extra = await tcp(server.port, '127.0.0.7');
    const extraClosed = await within(new Promise<boolean>((r) => extra.once('close', () => r(true))), 5_000, 'the extra socket to be refused');
    expect(extraClosed).toBe(true);
    const other = await tcp(server.port, '127.0.0.8');
    other.destroy();
    // Slowloris: the unfinished requests are cut off by the server.
    await until(() => held.every((s) => s.destroyed || s.readyState === 'closed'), 5_000, 'stalled requests to be dropped');
    const received = held.reduce((n, s) => n + s.bytesRead, 0);
    expect(received).toBe(0); // dropped silently: no Node-specific 408
  });
});

describe('behind a reverse proxy', () => {
  it('with trustProxy, the cap counts the X-Forwarded-For client; without, the header is ignored', async () => {
    server = await startTestServer({ maxConnectionsPerIp: 2 }, { trustProxy: true });
    const via = (addr: string): Promise<TestClient> =>
      TestClient.connect(server as TestServer, { headers: { 'X-Forwarded-For': `203.0.113.9, ${addr}` } }).then((c) => (clients.push(c), c));
    await via('198.51.100.1');
    await via('198.51.100.1');
    await refusedBusy(wsUrl(server), { headers: { 'X-Forwarded-For': '198.51.100.1' } });
    await via('198.51.100.2');
    await via('198.51.100.3');
    await server.close();

    server = await startTestServer({ maxConnectionsPerIp: 2 }, { countLoopback: true });
    const spoof = (addr: string): Promise<TestClient> =>
      TestClient.connect(server as TestServer, { headers: { 'X-Forwarded-For': addr } }).then((c) => (clients.push(c), c));
    await spoof('198.51.100.1');
    await spoof('198.51.100.2');
    await refusedBusy(wsUrl(server), { headers: { 'X-Forwarded-For': '198.51.100.3' } });
  });
});
