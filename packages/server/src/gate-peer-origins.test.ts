/**
 * The other relays of a cluster (`peerOrigins`, `serve --also`): a page loaded from one of them
 * that fails over to this relay sends that relay's origin, so the gate accepts it (and still
 * refuses every other foreign origin with the standard 404, THREATS A.11); and this relay's page
 * may connect to them (its `connect-src` names their WebSocket origins, nothing more).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { peerOrigin, resolveOptions, type ServerOptions } from './config.js';
import { startServer, silentLogger, webCsp, type RunningServer } from './index.js';
import { rawExchange, TestClient, startTestServer, wsUrl, type TestServer } from './testing/harness.js';

let server: TestServer | RunningServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('peer origins (the other relays of the cluster)', () => {
  it('acceptsAPageOfAnotherRelayOfTheClusterAndStillRefusesForeignOrigins', async () => {
    server = await startTestServer({}, { peerOrigins: ['http://10.0.0.2:8090', 'https://Relay-C.example:443/'] });
    (await TestClient.connect(server, { origin: 'http://10.0.0.2:8090' })).close();
    // As a browser writes it: lower case, no default port.
    (await TestClient.connect(server, { origin: 'https://relay-c.example' })).close();
    for (const origin of ['http://10.0.0.2:8091', 'https://10.0.0.2:8090', 'http://relay-c.example', 'https://evil.example', 'null'])
      await expect(TestClient.open(wsUrl(server), { origin }), origin).rejects.toThrow(/unexpected response 404/);
  });

  it("namesThePeersWebSocketOriginsInThePagesConnectSrc", async () => {
    expect(webCsp('a.lan:8090', ['http://10.0.0.2:8090', 'https://relay-c.example'])).toContain(
      "connect-src 'self' ws://a.lan:8090 wss://a.lan:8090 ws://10.0.0.2:8090 wss://relay-c.example;",
    );
    expect(webCsp(undefined, [])).toContain("connect-src 'self';");
    const root = mkdtempSync(join(tmpdir(), 'safehouse-web-'));
    dirs.push(root);
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Safehouse</title>');
    const s = await startServer({ port: 0, logger: silentLogger, webRoot: root, peerOrigins: ['https://relay-b.example:8443'] });
    server = s;
    const res = (await rawExchange(s.port, [`GET ${s.basePath}/ HTTP/1.1`, `Host: 127.0.0.1:${s.port}`, 'Connection: close', '', ''].join('\r\n'))).toString('utf8');
    const csp = /\r\nContent-Security-Policy: ([^\r]*)/.exec(res)?.[1] ?? '';
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${s.port} wss://127.0.0.1:${s.port} wss://relay-b.example:8443;`);
  });

  it('normalisesAndDeduplicatesPeerOrigins', () => {
    expect(peerOrigin('HTTPS://Relay.Example:443')).toBe('https://relay.example');
    expect(peerOrigin('http://[::1]:80/')).toBe('http://[::1]');
    expect(resolveOptions({ peerOrigins: ['http://b.lan:8090', 'http://B.LAN:8090/'] }).peerOrigins).toEqual(['http://b.lan:8090']);
    expect(resolveOptions({}).peerOrigins).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['a path', ['https://b.example/x']],
    ['no scheme', ['b.example']],
    ['another scheme', ['ws://b.example']],
    ['a user', ['https://u@b.example']],
    ['a query', ['https://b.example?x']],
    ['a fragment', ['https://b.example#c=x']],
    ['a space', ['https://b .example']],
    ['a number', [42]],
    ['not a list', 'https://b.example'],
    ['too many', Array.from({ length: 65 }, (_, i) => `http://r${i}.lan`)],
  ])('refuses peer origins with %s', (_what, peerOrigins) => {
    expect(() => resolveOptions({ peerOrigins } as ServerOptions)).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringMatching(/expected/) }));
  });
});
