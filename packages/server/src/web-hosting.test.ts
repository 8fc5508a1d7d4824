/**
 * Static hosting of the web client (web.ts): index.html and the build's assets under the base
 * path, with strict headers, and nothing else — every other path, method or trick is the
 * standard 404, byte for byte (THREATS B.12). Also: the page's own origin reached under another
 * Host (localhost, an SSH tunnel's port) may open the relay WebSocket; foreign origins may not.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathMatcher } from './gate.js';
import { loadWebBundle, startServer, silentLogger, webCsp, type RunningServer } from './index.js';
import { rawExchange, withoutDate } from './testing/harness.js';

const INDEX = '<!doctype html><title>Safehouse</title><script type="module" src="./assets/app-1.js"></script>';
const JS = 'console.log(1)';

function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'safehouse-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), INDEX);
  writeFileSync(join(root, 'assets', 'app-1.js'), JS);
  writeFileSync(join(root, 'assets', 'style-1.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'notes.map'), 'not served: not an asset type');
  return root;
}

const get = (path: string, extra: string[] = [], method = 'GET', host = '127.0.0.1'): string =>
  [`${method} ${path} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...extra, '', ''].join('\r\n');

const upgrade = (path: string, host: string, origin: string): string =>
  [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    `Origin: ${origin}`,
    '',
    '',
  ].join('\r\n');

/** The status line of the server's first answer (the socket may stay open: an upgrade). */
function statusLine(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(request));
    socket.once('data', (c: Buffer) => {
      socket.destroy();
      resolve(c.toString('latin1').split('\r\n')[0] ?? '');
    });
    socket.once('error', reject);
  });
}

describe('web client hosting under the base path', () => {
  let root: string;
  let server: RunningServer;
  let base: string;
  let notFound: string;

  beforeAll(async () => {
    root = fixture();
    server = await startServer({ port: 0, logger: silentLogger, webRoot: root });
    base = server.basePath;
    notFound = withoutDate(await rawExchange(server.port, get('/no-such-path')));
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at <base>/ with a strict policy naming the relay’s ws origin', async () => {
    const res = (await rawExchange(server.port, get(`${base}/`, [], 'GET', `127.0.0.1:${server.port}`))).toString('utf8');
    expect(res.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(res.endsWith(INDEX)).toBe(true);
    const csp = /\r\nContent-Security-Policy: ([^\r]*)/.exec(res)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port} wss://127.0.0.1:${server.port}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-|data:|blob:|\*/);
    for (const h of ['Referrer-Policy: no-referrer', 'Cache-Control: no-store', 'X-Content-Type-Options: nosniff', 'X-Frame-Options: DENY'])
      expect(res).toContain(`\r\n${h}\r\n`);
    expect(server.webSha256).toBe(createHash('sha256').update(INDEX).digest('hex'));
  });

  it('never repeats a Host header that could smuggle a directive into the policy', async () => {
    expect(webCsp(undefined)).toContain("connect-src 'self';");
    const res = (await rawExchange(server.port, get(`${base}/`, [], 'GET', "x; script-src 'unsafe-inline'"))).toString('utf8');
    expect(res).not.toContain('unsafe-inline');
    expect(res).toContain("connect-src 'self';");
  });

  it('serves the build’s assets, with their type', async () => {
    const js = (await rawExchange(server.port, get(`${base}/assets/app-1.js`))).toString('utf8');
    expect(js.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(js).toContain('\r\nContent-Type: text/javascript; charset=utf-8\r\n');
    expect(js).toContain('\r\nCache-Control: no-store\r\n');
    expect(js.endsWith(JS)).toBe(true);
    const css = (await rawExchange(server.port, get(`${base}/assets/style-1.css`))).toString('utf8');
    expect(css).toContain('\r\nContent-Type: text/css; charset=utf-8\r\n');
  });

  it('answers anything else with the standard 404, byte for byte', async () => {
    const probes = [
      get(`${base}/index.html`),
      get(`${base}/assets/`),
      get(`${base}/assets/notes.map`),
      get(`${base}/assets/app-2.js`),
      get(`${base}/assets/app-1.js?v=1`),
      get(`${base}/assets/%61pp-1.js`),
      get(`${base}/assets/../index.html`),
      get(`${base}//assets/app-1.js`),
      get('/assets/app-1.js'),
      get(`${base}/assets/app-1.js`, [], 'POST'),
      get(`${base}/`, [], 'DELETE'),
    ];
    for (const p of probes) expect(withoutDate(await rawExchange(server.port, p)), p.split('\r\n')[0]).toBe(notFound);
  });

  it('admits the page’s own origin under another Host (localhost, a tunnel’s port), refuses others', async () => {
    await expect(statusLine(server.port, upgrade(`${base}/ws`, 'localhost:9999', 'http://localhost:9999'))).resolves.toBe('HTTP/1.1 101 Switching Protocols');
    for (const [host, origin] of [
      ['localhost:9999', 'https://localhost:9999'],
      ['localhost:9999', 'http://localhost:9998'],
      ['evil.example', 'http://other.example'],
      ["bad host'", "http://bad host'"],
    ] as const) {
      const res = withoutDate(await rawExchange(server.port, upgrade(`${base}/ws`, host, origin)));
      expect(res, `${host} ${origin}`).toBe(notFound);
    }
  });

  it('matches each asset path exactly, by index, and nothing near it', () => {
    const m = new PathMatcher('/b', ['assets/a.js', 'assets/b.css']);
    expect(m.lookup('/b/assets/a.js')).toEqual({ route: 'asset', asset: 0 });
    expect(m.lookup('/b/assets/b.css')).toEqual({ route: 'asset', asset: 1 });
    expect(m.lookup('/b/')).toEqual({ route: 'page', asset: -1 });
    for (const t of ['/b/assets/a.js/', '/b/assets/A.js', '/assets/a.js', '/b/assets/', '/b/assets/a.js?x', '/b/assets/c.js'])
      expect(m.lookup(t).route, t).toBe('none');
  });

  it('refuses a bundle that is not plain files', () => {
    const bad = fixture();
    symlinkSync('/etc/passwd', join(bad, 'assets', 'evil.js'));
    try {
      expect(() => loadWebBundle(bad)).toThrow(/plain file/);
      expect(() => loadWebBundle(join(bad, 'nowhere'))).toThrow(/no web client/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
