/**
 * Behind a reverse proxy on a hidden path (docs/deploy.md, "Hidden path behind nginx"), with a
 * real nginx started by the test: a member joins through it (with the password); every probe —
 * another path, the hidden path without the password or with a wrong one, an upgrade anywhere —
 * gets nginx's own 404, byte for byte (`Date` aside), the same as for a path the site never had.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordSubprotocol } from '@safehouse/core/protocol';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';
import { startNginx, type Nginx } from './src/nginx.js';
import { freePort, inviteOf, sleep, TempDir, which } from './src/ops.js';

const HAVE_NGINX = which('nginx') !== undefined;
if (!HAVE_NGINX) console.warn('deploy-nginx: skipped: nginx is not installed (apt-get install nginx)');
const hidden = `/blog/assets/${randomBytes(12).toString('base64url')}`;
const PASSWORD = 'behind the proxy';
const tmp = new TempDir();
let server: Server;
let nginx: Nginx;
const members: Member[] = [];

/** One request on a fresh socket; resolves with the whole response (head and Content-Length body). */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    let buf = Buffer.alloc(0);
    const timer = setTimeout(
      () => (s.destroy(), reject(new Error(`no full answer to ${request.split('\r\n')[0]}`))),
      5_000,
    );
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (buf.length >= end + 4 + len) {
        clearTimeout(timer);
        s.destroy();
        resolve(text.slice(0, end + 4 + len));
      }
    });
    s.on('error', reject);
  });
}
const withoutDate = (r: string): string => r.replace(/\r\nDate: [^\r]*/i, '\r\nDate: *');
const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const upgrade = (path: string, extra: string[] = []): string =>
  [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');

beforeAll(async () => {
  if (!HAVE_NGINX) return;
  // The server prints the link as members see it (nginx's address): nginx's port is picked free first.
  const pwFile = tmp.file('pw', `${PASSWORD}\n`);
  const proxyPort = await freePort();
  server = await startServe([
    '--base-path',
    hidden,
    '--trust-proxy',
    '--public-url',
    `http://127.0.0.1:${proxyPort}`,
    '--password-file',
    pwFile,
  ]);
  nginx = await startNginx(hidden, server.port, proxyPort);
}, 30_000);

afterAll(async () => {
  for (const m of members) m.kill('SIGKILL');
  server?.kill('SIGTERM');
  await server?.exited;
  await nginx?.stop();
  tmp.remove();
});

describe.skipIf(!HAVE_NGINX)('hidden path behind nginx', () => {
  it('a member joins through nginx with the password; the admin sees it', async () => {
    const link = inviteOf(server);
    expect(link.startsWith(`http://127.0.0.1:${nginx.port}${hidden}/#`)).toBe(true);
    const m = startJoin(link, 'alice', ['--password-file', tmp.file('pw2', `${PASSWORD}\n`)]);
    members.push(m);
    await m.waitFor((e) => e.type === 'joined', 30_000, 'alice joined through nginx');
    await server.waitFor((e) => e.type === 'member-joined' && e.name === 'alice', 30_000, 'the admin sees alice');
    await sleep(1_000); // its `sub` reaches the relay just after `joined`: the relay keeps no history
    server.send('@all through the proxy');
    await m.waitFor((e) => e.type === 'message' && e.text === 'through the proxy', 20_000, 'a message back');
  });

  it("probes get nginx's own 404, byte-identical to a path the site never had", async () => {
    const expected = withoutDate(await exchange(nginx.port, get(`/${randomBytes(8).toString('hex')}`)));
    expect(expected).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(expected).toMatch(/\r\nServer: nginx\r\n/);
    const wrong = await passwordSubprotocol('not the password', hidden);
    const probes: [string, string][] = [
      ['site root', get('/')],
      ['hidden path without its slash', get(hidden)],
      ['below the hidden path', get(`${hidden}/x`)],
      ['the relay URL without upgrade', get(`${hidden}/ws`)],
      ['upgrade on a random path', upgrade(`/${randomBytes(8).toString('hex')}/ws`)],
      ['upgrade on the relay URL without the password', upgrade(`${hidden}/ws`)],
      ['upgrade on the relay URL with a wrong password', upgrade(`${hidden}/ws`, [`Sec-WebSocket-Protocol: ${wrong}`])],
      ['upgrade on the hidden page', upgrade(`${hidden}/`)],
    ];
    for (const [what, request] of probes) expect(withoutDate(await exchange(nginx.port, request)), what).toBe(expected);
  });

  it('the right password through nginx gets 101 (so the probes above are not vacuous)', async () => {
    const good = await passwordSubprotocol(PASSWORD, hidden);
    const head = await new Promise<string>((resolve, reject) => {
      const s = net.connect(nginx.port, '127.0.0.1', () =>
        s.write(upgrade(`${hidden}/ws`, [`Sec-WebSocket-Protocol: ${good}`])),
      );
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) {
          s.destroy();
          resolve(text);
        }
      });
      s.on('error', reject);
    });
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
  });
});
