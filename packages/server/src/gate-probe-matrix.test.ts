/**
 * THREATS B.12: a prober learns nothing. Every request that is not exactly for the base path —
 * paths × methods × upgrade headers — gets the bytes of a 404 for a random path, `Date` aside.
 * Responses are read raw with node:net, so nothing is normalised on the way.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, rawWebSocket, startTestServer, upgradeRequest, withoutDate, type TestServer } from './testing/harness.js';

let server: TestServer;
let base: string;
const randomPath = (): string => `/${randomBytes(16).toString('base64url')}`;

beforeAll(async () => {
  server = await startTestServer();
  base = server.basePath;
});
afterAll(async () => {
  await server.close();
});

function plain(method: string, path: string, extra: string[] = []): string {
  const body = method === 'POST' || method === 'PUT' ? 'hello' : '';
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...extra];
  if (body) lines.push(`Content-Length: ${body.length}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

async function baseline(method: string): Promise<string> {
  return withoutDate(await rawExchange(server.port, plain(method, randomPath())));
}

/** Paths that are not the base path, or are it with something wrong. */
function probePaths(): string[] {
  const b = base;
  const swap = b.replace(/[a-z]/i, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
  const first = b.charCodeAt(1).toString(16).toUpperCase();
  return [
    randomPath(),
    '/',
    `${b}x`,
    `${b}/x`,
    `${b}/ws/`,
    `${b}/ws?x=1`,
    `${b}/?a=1`,
    `${b}//`,
    `${b}/.`,
    `${b}.`,
    `${b.slice(0, -1)}/`,
    `${b.slice(0, -1)}`,
    `/..${b}/`,
    `/x/..${b}/`,
    `${b}/../${b.slice(1)}/`,
    `${b}/./`,
    `${b}/%2e%2e/`,
    `${b.toUpperCase()}/`,
    `${swap}/`,
    `${swap}/ws`,
    `/%${first}${b.slice(2)}/`,
    `${b}%2F`,
    `${b}/%77s`,
    `${b}/ws%00`,
    `/${b}/`,
    `http://127.0.0.1${b}/`,
    '*',
  ];
}

const METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT'] as const;

describe('probe matrix', () => {
  it('the 404 looks like a generic web server: no Server, no X-Powered-By, nothing about Safehouse', async () => {
    const raw = (await rawExchange(server.port, plain('GET', randomPath()))).toString('latin1');
    const [head, body] = raw.split('\r\n\r\n');
    expect(head?.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
    const names = (head ?? '').split('\r\n').slice(1).map((l) => l.split(':')[0]?.toLowerCase());
    expect(names.sort()).toEqual(['connection', 'content-length', 'content-type', 'date']);
    expect(raw).not.toMatch(/safehouse|server:|x-powered-by|node|express|ws/i);
    expect(Number(/Content-Length: (\d+)/.exec(head ?? '')?.[1])).toBe(Buffer.byteLength(body ?? '', 'latin1'));
  });

  it('paths × methods without upgrade headers: byte-identical to a random-path 404', async () => {
    let checked = 0;
    for (const method of METHODS) {
      const expected = await baseline(method);
      for (const path of probePaths()) {
        const got = withoutDate(await rawExchange(server.port, plain(method, path)));
        expect(got, `${method} ${path}`).toBe(expected);
        checked++;
      }
      // The base path itself, with every method but the one it serves.
      if (method !== 'GET') {
        for (const path of [base, `${base}/`]) expect(withoutDate(await rawExchange(server.port, plain(method, path))), `${method} ${path}`).toBe(expected);
      }
      // The relay URL without an upgrade, with any method.
      expect(withoutDate(await rawExchange(server.port, plain(method, `${base}/ws`))), `${method} ws`).toBe(expected);
    }
    expect(checked).toBe(METHODS.length * probePaths().length);
  });

  it('paths × methods with a WebSocket upgrade on a wrong path: byte-identical', async () => {
    for (const method of METHODS) {
      const expected = await baseline(method);
      for (const path of [...probePaths(), base, `${base}/`]) {
        const got = withoutDate(await rawExchange(server.port, upgradeRequest(path, [], method)));
        expect(got, `${method} upgrade ${path}`).toBe(expected);
      }
      if (method !== 'GET') {
        const got = withoutDate(await rawExchange(server.port, upgradeRequest(`${base}/ws`, [], method)));
        expect(got, `${method} upgrade on the relay URL`).toBe(expected);
      }
    }
  });

  it('the relay URL with a foreign Origin, or a malformed handshake: byte-identical', async () => {
    const expected = await baseline('GET');
    const ws = `${base}/ws`;
    const own = `http://127.0.0.1:${server.port}`;
    const variants: [string, string][] = [
      ['foreign origin', upgradeRequest(ws, ['Origin: http://evil.example'])],
      ['null origin', upgradeRequest(ws, ['Origin: null'])],
      ['own origin on another port', upgradeRequest(ws, [`Origin: http://127.0.0.1:${server.port + 1}`])],
      ['own origin over https', upgradeRequest(ws, [`Origin: https://127.0.0.1:${server.port}`])],
      ['own origin with a path', upgradeRequest(ws, [`Origin: ${own}/`])],
      ['two origins', upgradeRequest(ws, [`Origin: ${own}`, 'Origin: http://evil.example'])],
      ['subprotocol', upgradeRequest(ws, ['Sec-WebSocket-Protocol: chat'])],
      ['version 8', upgradeRequest(ws).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8')],
      ['no version', upgradeRequest(ws).replace('Sec-WebSocket-Version: 13\r\n', '')],
      ['bad key', upgradeRequest(ws).replace(/Sec-WebSocket-Key: [^\r]*/, 'Sec-WebSocket-Key: short')],
      ['no key', upgradeRequest(ws).replace(/Sec-WebSocket-Key: [^\r]*\r\n/, '')],
      ['h2c upgrade', upgradeRequest(ws).replace('Upgrade: websocket', 'Upgrade: h2c')],
      ['HTTP/1.0', upgradeRequest(ws).replace('HTTP/1.1', 'HTTP/1.0')],
    ];
    for (const [what, request] of variants) {
      expect(withoutDate(await rawExchange(server.port, request)), what).toBe(expected);
    }
  });

  it('requests that do not parse, CONNECT, and odd requests: byte-identical', async () => {
    const expected = await baseline('GET');
    const odd = [
      'HELLO\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      `GET ${base}/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
      `GET ${base}/ HTTP/1.1\r\nBad Header\r\n\r\n`,
      'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n',
      `GET ${randomPath()} HTTP/1.0\r\n\r\n`,
      `GET ${randomPath()} HTTP/1.1\r\nExpect: 100-continue\r\n\r\n`,
      `POST ${base}/ HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 0\r\n\r\n`,
      `GET ${base}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET ${base}/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`,
      `GET ${base}/\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n`,
    ];
    for (const request of odd) {
      expect(withoutDate(await rawExchange(server.port, request)), JSON.stringify(request)).toBe(expected);
    }
  });

  it('every refusal was counted, and the logger heard nothing of the base path', () => {
    expect(server.stats().refusedRequests).toBeGreaterThan(300);
    expect(server.logger.text()).not.toContain(base.slice(1));
  });

  it('the authorised routes do answer (so the matrix above is not vacuous)', async () => {
    const page = (await rawExchange(server.port, plain('GET', `${base}/`, ['Connection: close']))).toString('utf8');
    expect(page.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(page).toContain("Content-Security-Policy: default-src 'none'");
    expect(page).toContain('Referrer-Policy: no-referrer');
    expect(page).toContain('Cache-Control: no-store');
    expect(page).toContain('X-Content-Type-Options: nosniff');
    expect(page).toContain('<title>Safehouse</title>');
    expect(page).toContain('safehouse join &lt;link&gt;');
    expect(page).not.toMatch(/^X-Powered-By|^Server:/im);
    const redirect = (await rawExchange(server.port, plain('GET', base, ['Connection: close']))).toString('latin1');
    expect(redirect.split('\r\n')[0]).toBe('HTTP/1.1 308 Permanent Redirect');
    expect(redirect).toContain(`Location: ${base}/\r\n`);
    const { socket, head } = await rawWebSocket(server.port, `${base}/ws`);
    socket.destroy();
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    const own = await rawWebSocket(server.port, `${base}/ws`, [`Origin: http://127.0.0.1:${server.port}`]);
    own.socket.destroy();
    expect(own.head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
  });
});
