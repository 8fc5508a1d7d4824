/**
 * THREATS A.7 and B.12, issue "Membership that holds" item 7: per-address caps must not cap a
 * room. With real sockets, playing the crowd and the attacker:
 * - a crowd behind one loopback address (an SSH tunnel, a reverse proxy without trustProxy, the
 *   machine itself) all get in, whatever the per-address caps: only `maxConnections` holds;
 * - where addresses stand for people (a LAN, played with `countLoopback` and 127.0.0.N), one
 *   address past its cap is told why (`error E_TOO_MANY_CONNECTIONS`, close 1013) while other
 *   addresses and its own members are unaffected; members do not use up the socket cap;
 * - an unauthorised request under load (caps full) still gets the 404, byte for byte;
 * - the total cap holds for every address, counted or not.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  decodeRelayFrame,
  encodeFrame,
  passwordSubprotocol,
  randomId,
  type RelayHeader,
} from '@safehouse/core/protocol';
import { sourceOf } from './gate.js';
import { selfSignedTls } from './tls.js';
import {
  TestClient,
  rawExchange,
  sleep,
  startTestServer,
  until,
  upgradeRequest,
  within,
  withoutDate,
  wsUrl,
  type TestServer,
} from './testing/harness.js';

let server: TestServer | undefined;
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function member(s: TestServer, localAddress?: string, room?: string): Promise<TestClient> {
  const c = await TestClient.connect(s, localAddress ? { localAddress } : {});
  clients.push(c);
  if (room) await c.sub(room);
  return c;
}

/**
 * A WebSocket as a browser or `safehouse join` opens it: with the password's subprotocol if
 * given, from `localAddress`. Says `hello` once open; records the relay's frames and the close.
 */
type Peer = { frames: RelayHeader[]; closed: Promise<{ code: number; reason: string }>; close(): void };
async function peer(url: string, opts: { protocol?: string; localAddress?: string } = {}): Promise<Peer> {
  const ws = new WebSocket(url, opts.protocol ? [opts.protocol] : [], {
    perMessageDeflate: false,
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });
  const frames: RelayHeader[] = [];
  ws.on('message', (data: Buffer) => {
    const d = decodeRelayFrame(new Uint8Array(data));
    if (d.ok) frames.push(d.header);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode ?? 0}`)));
    }),
    5_000,
    'the WebSocket to open',
  );
  ws.send(encodeFrame({ v: 1, t: 'hello', session: randomId() }));
  const p = { frames, closed, close: () => ws.terminate() };
  clients.push(p);
  return p;
}

async function admitted(p: Peer): Promise<void> {
  await until(() => p.frames.some((h) => h.t === 'hello'), 5_000, "the relay's hello");
}

/** Accepted, told why, closed with 1013 — and never let in. */
async function toldTooMany(p: Peer): Promise<void> {
  expect(await within(p.closed, 5_000, 'the close')).toEqual({ code: 1013, reason: 'E_TOO_MANY_CONNECTIONS' });
  expect(p.frames).toEqual([{ v: 1, t: 'error', code: 'E_TOO_MANY_CONNECTIONS' }]);
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

const randomPath = (): string => `/${randomBytes(16).toString('base64url')}`;
const notFound = async (s: TestServer): Promise<string> =>
  withoutDate(
    await rawExchange(s.port, `GET ${randomPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, {
      localAddress: '127.0.250.1',
    }),
  );

describe('the address a connection is counted under', () => {
  const req = (remoteAddress: string, xff?: string): IncomingMessage =>
    ({
      socket: { remoteAddress },
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    }) as unknown as IncomingMessage;
  const direct = { trustProxy: false, countLoopback: false };
  const proxied = { trustProxy: true, countLoopback: false };

  it('loopback peers are not counted (a tunnel, a proxy, this machine); every other address is', () => {
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1'])
      expect(sourceOf(req(a), direct).counted, a).toBe(false);
    for (const a of ['10.0.0.1', '192.168.1.20', '::ffff:10.0.0.1', '2001:db8::1', '203.0.113.5'])
      expect(sourceOf(req(a), direct).counted, a).toBe(true);
    expect(sourceOf(req('127.0.0.2'), { trustProxy: false, countLoopback: true })).toEqual({
      ip: '127.0.0.2',
      counted: true,
    });
  });

  it('without trustProxy, X-Forwarded-For changes nothing; with it, the forwarded client is counted', () => {
    expect(sourceOf(req('127.0.0.1', '198.51.100.7'), direct)).toEqual({ ip: '127.0.0.1', counted: false });
    expect(sourceOf(req('203.0.113.5', '198.51.100.7'), direct)).toEqual({ ip: '203.0.113.5', counted: true });
    expect(sourceOf(req('127.0.0.1', '203.0.113.9, 198.51.100.7'), proxied)).toEqual({
      ip: '198.51.100.7',
      counted: true,
    });
    // No usable forwarded address: the proxy's own, a loopback peer, is not counted.
    expect(sourceOf(req('127.0.0.1'), proxied)).toEqual({ ip: '127.0.0.1', counted: false });
    expect(sourceOf(req('127.0.0.1', 'not-an-address'), proxied)).toEqual({ ip: '127.0.0.1', counted: false });
  });
});

describe('a crowd behind one address', () => {
  it('aCrowdOfFiftyFromOneLoopbackAddressAllGetIn: default limits', async () => {
    server = await startTestServer();
    const room = randomId();
    const crowd = await Promise.all(Array.from({ length: 50 }, () => member(server as TestServer, '127.0.0.1', room)));
    expect(server.stats()).toMatchObject({ connections: 50, subscriptions: 50 });
    crowd[0]?.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, new Uint8Array([1]));
    await Promise.all(crowd.slice(1).map((c) => c.next('msg')));
  });

  it('aCrowdThroughATunnelIsNotCappedPerAddress: per-address caps far below the crowd change nothing on loopback', async () => {
    server = await startTestServer({ maxConnectionsPerIp: 5, maxSocketsPerIp: 4 });
    await Promise.all(Array.from({ length: 50 }, () => member(server as TestServer, '127.0.0.1')));
    expect(server.stats().connections).toBe(50);
  });
});

describe('where addresses stand for people (a LAN)', () => {
  it('aLanAddressPastItsCapIsToldWhy: the 6th from one address gets E_TOO_MANY_CONNECTIONS and 1013; others are unaffected', async () => {
    server = await startTestServer({ maxConnectionsPerIp: 5 }, { countLoopback: true });
    const room = randomId();
    const office = await Promise.all(Array.from({ length: 5 }, () => member(server as TestServer, '127.0.0.2', room)));
    await toldTooMany(await peer(wsUrl(server), { localAddress: '127.0.0.2' }));
    await toldTooMany(await peer(wsUrl(server), { localAddress: '127.0.0.2' }));
    const others = await Promise.all(
      ['127.0.0.3', '127.0.0.4', '127.0.0.4'].map((a) => member(server as TestServer, a, room)),
    );
    expect(server.stats().connections).toBe(8);
    // The office's members are still there and still hear the room.
    others[0]?.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, new Uint8Array([1]));
    await Promise.all(office.map((c) => c.next('msg')));
    // One leaves: the next one from that address gets in.
    office[0]?.close();
    await until(() => server?.stats().connections === 7, 5_000, 'the slot to be freed');
    await admitted(await peer(wsUrl(server), { localAddress: '127.0.0.2' }));
  });

  it('aZeroPerAddressCapMeansNone: 0 lets one counted address in as often as the total allows', async () => {
    server = await startTestServer({ maxConnectionsPerIp: 0, maxConnections: 40 }, { countLoopback: true });
    await Promise.all(Array.from({ length: 40 }, () => member(server as TestServer, '127.0.0.5')));
    await toldTooMany(await peer(wsUrl(server), { localAddress: '127.0.0.5' }));
  });

  it('membersDoNotUseUpTheSocketCap: more members than maxSocketsPerIp; sockets that are not members are still capped', async () => {
    server = await startTestServer(
      { maxSocketsPerIp: 4, maxConnectionsPerIp: 10, headersTimeoutMs: 300, requestTimeoutMs: 300 },
      { countLoopback: true },
    );
    for (let i = 0; i < 8; i++) await member(server, '127.0.0.6');
    const held: Socket[] = [];
    for (let i = 0; i < 4; i++) held.push(await tcp(server.port, '127.0.0.6'));
    for (const s of held) s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // never finished
    const extra = await tcp(server.port, '127.0.0.6');
    await within(
      new Promise<void>((r) => extra.once('close', () => r())),
      5_000,
      'the 5th pending socket to be refused',
    );
    // The stalled requests are dropped (slowloris); members come in again.
    await until(
      () => held.every((s) => s.destroyed || s.readyState === 'closed'),
      5_000,
      'stalled requests to be dropped',
    );
    await member(server, '127.0.0.6');
    expect(server.stats().connections).toBe(9);
  });

  it('membersDoNotUseUpTheSocketCapOverTls: the same with the socket under TLS', async () => {
    const tls = await selfSignedTls('127.0.0.1');
    server = await startTestServer(
      { maxSocketsPerIp: 2, maxConnectionsPerIp: 10, headersTimeoutMs: 300, requestTimeoutMs: 300 },
      { countLoopback: true, tls: { cert: tls.cert, key: tls.key } },
    );
    const over = { localAddress: '127.0.0.12', rejectUnauthorized: false };
    const first = [];
    for (let i = 0; i < 5; i++) first.push(await TestClient.connect(server, over).then((c) => (clients.push(c), c)));
    for (const c of first) c.close();
    await until(() => server?.stats().connections === 0, 5_000, 'the members to be gone');
    await sleep(100); // the TLS and TCP sockets' close events
    // Gone members no longer widen the socket cap: the third bare socket is refused...
    const held = [await tcp(server.port, '127.0.0.12'), await tcp(server.port, '127.0.0.12')];
    const extra = await tcp(server.port, '127.0.0.12');
    await within(
      new Promise<void>((r) => extra.once('close', () => r())),
      5_000,
      'the 3rd pending socket to be refused',
    );
    for (const h of held) h.destroy();
    await sleep(100);
    // ...and five members come in again.
    for (let i = 0; i < 5; i++) clients.push(await TestClient.connect(server, over));
    expect(server.stats().connections).toBe(5);
  });

  it('behindTrustProxyTheForwardedClientIsCounted: a loopback proxy without a forwarded address is not', async () => {
    server = await startTestServer({ maxConnectionsPerIp: 1 }, { trustProxy: true });
    const url = wsUrl(server);
    await admitted(await peer(url));
    await admitted(await peer(url));
    const forwarded = (): Promise<TestClient> =>
      TestClient.open(url, { headers: { 'X-Forwarded-For': '198.51.100.7' } }).then((c) => (clients.push(c), c));
    const first = await forwarded();
    first.send({ v: 1, t: 'hello', session: randomId() });
    await first.next('hello');
    const second = await forwarded();
    expect((await second.next('error')).header.code).toBe('E_TOO_MANY_CONNECTIONS');
    expect(await within(second.closed, 5_000, 'the close')).toEqual({ code: 1013, reason: 'E_TOO_MANY_CONNECTIONS' });
  });
});

describe('the attacker', () => {
  it('unauthorisedRequestsUnderLoadGetThe404: with every cap full, only the password holder learns why', async () => {
    const password = 'under load';
    server = await startTestServer({ maxConnectionsPerIp: 2, maxConnections: 3 }, { countLoopback: true, password });
    const good = await passwordSubprotocol(password, server.basePath);
    const url = wsUrl(server);
    const ws = `${server.basePath}/ws`;
    const expected = await notFound(server);
    for (let i = 0; i < 2; i++) await admitted(await peer(url, { protocol: good, localAddress: '127.0.0.7' }));
    // That address is full. Unauthorised requests from it: the 404, byte for byte.
    const probes: [string, string][] = [
      ['no password', upgradeRequest(ws)],
      ['wrong password', upgradeRequest(ws, ['Sec-WebSocket-Protocol: safehouse.wrong'])],
      ['wrong path, right password', upgradeRequest(`${randomPath()}/ws`, [`Sec-WebSocket-Protocol: ${good}`])],
      ['the page', `GET ${randomPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`],
    ];
    for (const [what, request] of probes)
      expect(
        withoutDate(await rawExchange(server.port, request, { localAddress: '127.0.0.7' })),
        `full address: ${what}`,
      ).toBe(expected);
    await toldTooMany(await peer(url, { protocol: good, localAddress: '127.0.0.7' }));
    // The relay is full.
    await admitted(await peer(url, { protocol: good, localAddress: '127.0.0.8' }));
    for (const [what, request] of probes)
      expect(
        withoutDate(await rawExchange(server.port, request, { localAddress: '127.0.0.9' })),
        `full relay: ${what}`,
      ).toBe(expected);
    await toldTooMany(await peer(url, { protocol: good, localAddress: '127.0.0.9' }));
    expect(server.stats().connections).toBe(3);
  });

  it('theTotalCapHoldsForUncountedAddresses: loopback is not capped per address, but maxConnections is', async () => {
    server = await startTestServer({ maxConnections: 6, maxConnectionsPerIp: 1 });
    const crowd = await Promise.all(Array.from({ length: 6 }, () => member(server as TestServer, '127.0.0.1')));
    await toldTooMany(await peer(wsUrl(server)));
    await toldTooMany(await peer(wsUrl(server), { localAddress: '127.0.0.10' }));
    expect(server.stats().connections).toBe(6);
    crowd[0]?.close();
    await until(() => server?.stats().connections === 5, 5_000, 'the slot to be freed');
    await admitted(await peer(wsUrl(server)));
  });
});
