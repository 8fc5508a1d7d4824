/**
 * The operator's side: `close()` tells every client `closing`, closes with 1001, wipes state
 * and stops listening; the bind refuses non-loopback addresses unless told (THREATS B.14);
 * a port in use and a bad base path are clear errors with stable codes.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { startServer, silentLogger } from './index.js';
import { isLoopbackHost } from './config.js';
import { TestClient, startTestServer, within } from './testing/harness.js';

describe('close()', () => {
  it('sends closing, closes with 1001, wipes state and stops listening', async () => {
    const server = await startTestServer({ closeGraceMs: 300 });
    const room = randomId();
    // b first: it is shut first, so a would see a presence countdown if there were one.
    const b = await TestClient.connect(server);
    const a = await TestClient.connect(server);
    await a.sub(room);
    await b.sub(room);
    await a.next('presence', (h) => h.count === 2);
    b.ws.pause(); // a client that does not read still gets closed
    expect(server.stats()).toMatchObject({ connections: 2, rooms: 1 });
    await within(server.close(), 5_000, 'close()');
    expect((await a.next('closing')).header).toEqual({ v: 1, t: 'closing' });
    expect(a.frames).toEqual([]); // no presence countdown while the others are closed
    expect(await a.closed).toEqual({ code: 1001, reason: 'E_SERVER_CLOSING' });
    b.ws.resume();
    expect([1001, 1006]).toContain((await b.closed).code);
    expect(server.stats()).toMatchObject({ connections: 0, rooms: 0, subscriptions: 0, pendingJoins: 0 });
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: server.port });
      s.on('connect', () => (s.destroy(), resolve('connected')));
      s.on('error', (e: Error & { code?: string }) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await server.close(); // idempotent
    expect(server.logger.entries.map((e) => e.event)).toEqual(['listening', 'closing', 'closed']);
  });
});

describe('binding', () => {
  it('refuses a non-loopback host without allowPublic, with E_ADDRESS_REFUSED and a reason', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1']) {
      await expect(startServer({ host, port: 0, logger: silentLogger }), host).rejects.toMatchObject({
        code: 'E_ADDRESS_REFUSED',
        message: expect.stringMatching(/reachable by anyone on that network.*--public/),
      });
    }
  });

  it('knows loopback when it sees it', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '::ffff:10.0.0.1', '1.2.3.4', 'localhost.example', '127.0.0.1.nip.io', '']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('binds another loopback address, and a public one when allowPublic says so', async () => {
    const a = await startServer({ host: '127.0.0.9', port: 0, logger: silentLogger });
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.9:\d+\/[A-Za-z0-9_-]{22}\/$/);
    await a.close();
    const b = await startServer({ host: '0.0.0.0', port: 0, allowPublic: true, logger: silentLogger });
    expect(b.host).toBe('0.0.0.0');
    await b.close();
  });

  it('a port in use is E_PORT_IN_USE naming the port', async () => {
    const a = await startServer({ port: 0, logger: silentLogger });
    await expect(startServer({ port: a.port, logger: silentLogger })).rejects.toMatchObject({
      code: 'E_PORT_IN_USE',
      message: expect.stringContaining(`port ${a.port} is in use`),
    });
    await a.close();
  });

  it('uses a given base path, ignores one trailing slash, refuses an invalid one without echoing it', async () => {
    const a = await startServer({ port: 0, basePath: '/behind/proxy/', logger: silentLogger });
    expect(a.basePath).toBe('/behind/proxy');
    expect(a.url).toBe(`http://127.0.0.1:${a.port}/behind/proxy/`);
    await a.close();
    for (const basePath of ['/', 'nope', '/a/../b', '/a b', '/%2e', '/secret?x']) {
      const err = await startServer({ port: 0, basePath, logger: silentLogger }).catch((e: unknown) => e);
      expect(err, basePath).toMatchObject({ code: 'E_BASE_PATH_INVALID' });
      expect((err as Error).message).not.toContain(basePath.slice(1) || '\u0000');
    }
  });

  it('the default base path is random: 22 base64url characters, different each time', async () => {
    const [a, b] = [await startServer({ port: 0, logger: silentLogger }), await startServer({ port: 0, logger: silentLogger })];
    expect(a.basePath).toMatch(/^\/[A-Za-z0-9_-]{22}$/);
    expect(a.basePath).not.toBe(b.basePath);
    await a.close();
    await b.close();
  });
});
