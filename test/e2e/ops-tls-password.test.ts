/**
 * TLS and the password, with real processes (THREATS E.25, E.26, B.12):
 * - `serve --tls-self-signed`: the printed link is https:// and pins the certificate (c=);
 *   openssl sees TLS 1.3 accepted and TLS 1.2 refused;
 * - `--password-file`: a member with the password joins; without it, or with a wrong one, it
 *   never gets in (the server answers its upgrade with the standard 404; the client says
 *   E_NOT_FOUND and gives up);
 * - a man in the middle with another certificate: the pinned member refuses it, never sends it a
 *   byte of application data, and never falls back to plain ws:// (every connection it makes
 *   starts with a TLS handshake record).
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedTls } from '@safehouse/server';
import { startJoin, startServe, type Json, type Member, type Server } from './src/harness.js';
import { inviteOf, ready, TempDir, which } from './src/ops.js';

/** The client was refused (it tries again later). */
const refusal = (e: Json): boolean => e.type === 'connection' && e.state === 'reconnecting';

const tmp = new TempDir();
let server: Server;
let pw = '';
const procs: Member[] = [];

beforeAll(async () => {
  pw = tmp.file('password', 'open sesame, slowly\n');
  server = await startServe(['--tls-self-signed', '--password-file', pw]);
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  server?.kill('SIGTERM');
  await server?.exited;
  tmp.remove();
});

function join(link: string, name: string, args: string[]): Member {
  const m = startJoin(link, name, args);
  procs.push(m);
  return m;
}

function openssl(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
    child.stdin?.end();
  });
}

describe('TLS and password', () => {
  it('the link is https:// and carries the certificate pin', () => {
    const link = inviteOf(server);
    expect(link.startsWith('https://127.0.0.1:')).toBe(true);
    const c = /[#&]c=([A-Za-z0-9_-]{43})/.exec(link)?.[1];
    expect(c).toBeDefined();
    expect(Buffer.from(c!, 'base64url').toString('hex')).toBe(ready(server).tls);
    expect(ready(server).password).toBe(true);
  });

  it.skipIf(!which('openssl'))('openssl s_client: TLS 1.3 accepted, TLS 1.2 refused', async () => {
    const at = `127.0.0.1:${server.port}`;
    const v13 = await openssl(['s_client', '-connect', at, '-tls1_3', '-brief']);
    expect(v13.out).toMatch(/Protocol version: TLSv1\.3/);
    const v12 = await openssl(['s_client', '-connect', at, '-tls1_2', '-brief']);
    expect(v12.out).not.toMatch(/Protocol version: TLSv1\.2/);
    expect(v12.code).not.toBe(0);
  });

  it('a pinned member with the password joins; without it or with a wrong one it never gets in', async () => {
    const link = inviteOf(server);
    const good = join(link, 'alice', ['--password-file', pw]);
    await good.waitFor((e) => e.type === 'joined', 30_000, 'alice joined');
    const none = join(link, 'mallory', []);
    const wrong = join(link, 'trudy', ['--password-file', tmp.file('wrong', 'open sesame\n')]);
    await none.waitFor(refusal, 20_000, 'no password: refused');
    await wrong.waitFor(refusal, 20_000, 'wrong password: refused');
    // The marker: each one's next attempt, refused too (a refusal is a `reconnecting`).
    for (const m of [none, wrong]) await m.waitFor(() => m.events.filter(refusal).length >= 2, 30_000, 'a second refusal');
    for (const m of [none, wrong]) {
      expect(m.events.some((e) => e.type === 'joined' || (e.type === 'connection' && e.state === 'connected'))).toBe(
        false,
      );
    }
    // The client saw the 404 through the pinned TLS connection too: said, then given up (docs/errors.md E_NOT_FOUND).
    for (const m of [none, wrong]) await m.waitFor((e) => e.type === 'fatal' && e.code === 'E_NOT_FOUND', 20_000, 'the give-up');
    server.send('/users');
    const users = await server.waitFor((e) => e.type === 'admin-users', 10_000, '/users');
    expect((users.users as { name: string }[]).map((u) => u.name)).toEqual(['alice']);
  });

  it('a man in the middle with another certificate is refused: no application byte, no plain ws:// fall-back', async () => {
    const fake = await selfSignedTls('127.0.0.1');
    const firstBytes: number[] = [];
    let decrypted = 0;
    const mitm = net.createServer((raw) => {
      raw.once('data', (d: Buffer) => {
        firstBytes.push(d[0] ?? -1);
        raw.pause();
        raw.unshift(d);
        const t = new tls.TLSSocket(raw, { isServer: true, cert: fake.cert, key: fake.key });
        t.on('data', (chunk: Buffer) => (decrypted += chunk.length));
        t.on('error', () => raw.destroy());
        raw.resume();
      });
      raw.on('error', () => undefined);
    });
    await new Promise<void>((r) => mitm.listen(0, '127.0.0.1', r));
    const port = (mitm.address() as net.AddressInfo).port;
    try {
      const link = inviteOf(server).replace(`:${server.port}/`, `:${port}/`);
      const victim = join(link, 'bob', ['--password-file', pw]);
      const ev = await victim.waitFor(
        (e) => e.type === 'connection' && e.state === 'reconnecting',
        40_000,
        'the refusal',
      );
      expect(String(ev.reason)).toMatch(/certificate/);
      // The marker: its next attempt, refused too.
      await victim.waitFor(() => victim.events.filter(refusal).length >= 2, 40_000, 'a second refusal');
      expect(
        victim.events.some((e) => e.type === 'joined' || (e.type === 'connection' && e.state === 'connected')),
      ).toBe(false);
      expect(firstBytes.length).toBeGreaterThan(0);
      expect(firstBytes.every((b) => b === 0x16)).toBe(true); // a TLS handshake record, never "G" of GET
      expect(decrypted).toBe(0);
    } finally {
      mitm.close();
    }
  });
});
