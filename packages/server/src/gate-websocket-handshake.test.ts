/**
 * The relay URL's handshake: compression is never negotiated (THREATS A.10: no compression
 * bombs), CLI clients (no Origin) and pages of the server's own origin get in (A.11), and an
 * operator can allow the origin of a reverse proxy in front.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TestClient, rawWebSocket, startTestServer, within, wsUrl, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('WebSocket handshake', () => {
  it('does not accept permessage-deflate, even when offered', async () => {
    server = await startTestServer();
    const { socket, head } = await rawWebSocket(server.port, `${server.basePath}/ws`, [
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
    ]);
    socket.destroy();
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head.toLowerCase()).not.toContain('sec-websocket-extensions');
    expect(head.toLowerCase()).not.toContain('server:');

    const ws = new WebSocket(wsUrl(server), { perMessageDeflate: true });
    await within(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))), 5_000, 'open');
    expect(ws.extensions).toBe('');
    ws.terminate();
  });

  it('accepts no Origin and the server’s own origin; refuses others with a 404', async () => {
    server = await startTestServer();
    (await TestClient.connect(server)).close();
    (await TestClient.connect(server, { origin: `http://127.0.0.1:${server.port}` })).close();
    await expect(TestClient.open(wsUrl(server), { origin: 'http://localhost:1' })).rejects.toThrow(/unexpected response 404/);
  });

  it('accepts an origin the operator allowed (a TLS reverse proxy in front)', async () => {
    server = await startTestServer({}, { allowedOrigins: ['https://chat.example'] });
    (await TestClient.connect(server, { origin: 'https://chat.example' })).close();
    await expect(TestClient.open(wsUrl(server), { origin: 'https://evil.example' })).rejects.toThrow(/unexpected response 404/);
  });
});
