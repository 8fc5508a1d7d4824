/**
 * A cluster of relays sharing rooms through Redis (docs/deploy.md, "A cluster of three relays
 * behind nginx"), with real processes.
 *
 * Behind nginx: one `redis-server`, three `safehouse serve --cluster`, nginx with the
 * configuration the document gives (read from it), four `safehouse join --json` members spread
 * over the relays by nginx.
 * - Members on different relays chat: every message is shown exactly once at every member.
 * - A relay is SIGKILLed mid-conversation: its members reconnect through nginx to the others;
 *   every message sent before, during and after is shown exactly once at every member (what the
 *   others said while they moved reaches them too: every member resends its recent messages
 *   once when the room's presence grows, client.ts).
 * - Redis is SIGKILLed and restarted (empty) mid-conversation: every relay drops its members,
 *   they come back and rebuild the room; every message exactly once.
 * - With every relay down, the hidden path is still nginx's own 404, and nginx wrote nothing of
 *   the hidden path to its error log.
 * A link that names the three relays (`serve --also`), no proxy: two members on one relay, one
 * on each other; the first relay is SIGKILLed; its members move to a relay the link names at
 * once; every message exactly once.
 * On separate hosts (network namespaces on a bridge, root only): Redis on one, reached over TLS
 * with a password; two relays on two others; members join each relay by its address and chat.
 *
 * Counting is by the sender's message id (and by text); absence of duplicates is asserted only
 * after each member's last message (the marker) reached every other member.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInvite, parseInvite } from '@safehouse/core/protocol';
import { startRedis, type TestRedis } from '../../packages/server/src/testing/redis.js';
import {
  Conversation,
  clusterNginxFromDoc,
  connectionsTo,
  describeDelivery,
  notOnce,
  startRedisIn,
  until,
  type NetRedis,
  testCertificates,
  type TlsFiles,
} from './src/cluster.js';
import { run, startJoin, startServe, type Json, type Member, type Server } from './src/harness.js';
import { startNginxWith, type Nginx } from './src/nginx.js';
import { netnsUnavailable, Lan } from './src/netns.js';
import { freePort, TempDir, which } from './src/ops.js';

const missing = ['redis-server', 'nginx', 'ss'].filter((c) => which(c) === undefined);
if (missing.length > 0)
  console.warn(`cluster: skipped: ${missing.join(', ')} not installed (apt-get install redis-server nginx iproute2)`);
const noHosts = missing.length > 0 ? 'see above' : netnsUnavailable();
if (noHosts) console.warn(`cluster: relays on separate hosts skipped: ${noHosts}`);

const NAMES = ['alice', 'bob', 'carol', 'dave'] as const;

/** Events of `m` from index `from` on. */
const since = (m: Member, from: number): Json[] => m.events.slice(from);

/** alice opens a room at `bare`; the others join it with her link (`linkFor` rewrites it per member). */
async function room(
  names: readonly string[],
  bare: string,
  extra: string[],
  linkFor: (link: string, name: string) => string = (l) => l,
): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  const [first, ...rest] = names;
  const opener = startJoin(bare, first!, extra);
  members.set(first!, opener);
  const link = String((await opener.waitFor((e) => e.type === 'invite', 40_000, `${first}'s invite`)).link);
  for (const name of rest) members.set(name, startJoin(linkFor(link, name), name, extra));
  await Promise.all([...members].map(([name, m]) => m.waitFor((e) => e.type === 'joined', 40_000, `${name} joined`)));
  return members;
}

describe.skipIf(missing.length > 0)('a cluster of three relays behind nginx (docs/deploy.md section 8)', () => {
  const hidden = `/blog/${randomBytes(12).toString('base64url')}`;
  // Made by beforeAll: a describe skipped (by -t) runs neither hook, and must leave nothing behind.
  let tmp: TempDir | undefined;
  let redis: TestRedis | undefined;
  let nginx: Nginx | undefined;
  let relays: Server[] = [];
  let members = new Map<string, Member>();
  let chat: Conversation;

  beforeAll(async () => {
    redis = await startRedis();
    tmp = new TempDir();
    const pw = tmp.file('pw', `${randomBytes(16).toString('base64url')}\n`);
    const proxyPort = await freePort();
    relays = await Promise.all(
      [0, 1, 2].map(() =>
        startServe([
          '--no-admin',
          '--cluster',
          redis!.url,
          '--base-path',
          hidden,
          '--public-url',
          `http://127.0.0.1:${proxyPort}`,
          '--trust-proxy',
          '--password-file',
          pw,
        ]),
      ),
    );
    nginx = await startNginxWith(
      clusterNginxFromDoc(
        hidden,
        relays.map((r) => r.port),
      ),
      proxyPort,
    );
    // Every member goes through nginx: alice opens the room with the printed (nginx's) link.
    const bare = relays[0]!.url;
    expect(bare.startsWith(`http://127.0.0.1:${proxyPort}${hidden}/`)).toBe(true);
    members = await room(NAMES, bare, ['--password-file', pw]);
    chat = new Conversation(members);
    await chat.connected(20_000);
  }, 90_000);

  afterAll(async () => {
    for (const m of members.values()) m.kill('SIGKILL');
    for (const r of relays) r.kill('SIGKILL');
    await Promise.all(relays.map((r) => r.exited));
    await nginx?.stop();
    await redis?.stop();
    tmp?.remove();
  });

  it('members spread over the relays see every message exactly once', async () => {
    const spread = connectionsTo(relays.map((r) => r.port));
    // nginx took each member to a relay in turn: the room spans relays, or this proves nothing.
    expect(spread.reduce((a, b) => a + b, 0)).toBe(NAMES.length);
    expect(spread.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    await chat.round('hello', 2);
    await chat.allShown((from) => `hello-${from}-1`, 20_000, 'the last hello of each');
    expect(chat.anomalies((s) => s.text.startsWith('hello-'))).toEqual([]);
  });

  it('a relay SIGKILLed mid-conversation: its members carry on through nginx; nothing lost or shown twice', async () => {
    const ports = relays.map((r) => r.port);
    const before = connectionsTo(ports);
    const victim = before.indexOf(Math.max(...before));
    expect(before[victim]).toBeGreaterThan(0);
    expect(before.some((n, i) => i !== victim && n > 0)).toBe(true);
    const mark = new Map([...members].map(([name, m]) => [name, m.events.length]));

    await chat.round('kill-before', 3, 20);
    relays[victim]!.kill('SIGKILL');
    await relays[victim]!.exited;
    await chat.round('kill-during', 3, 20);

    // Its members were dropped, and are back (through nginx, on a live relay); the others stayed.
    const dropped = (): string[] =>
      [...members]
        .filter(([name, m]) =>
          since(m, mark.get(name)!).some((e) => e.type === 'connection' && e.state === 'reconnecting'),
        )
        .map(([name]) => name);
    await until(
      () => dropped().length >= before[victim]!,
      10_000,
      'the members of the killed relay dropped',
      () => dropped().join(', '),
    );
    const moved = dropped();
    expect(moved.length).toBe(before[victim]);
    await until(
      () =>
        moved.every((name) =>
          since(members.get(name)!, mark.get(name)!).some((e) => e.type === 'connection' && e.state === 'connected'),
        ),
      30_000,
      'the dropped members reconnected',
    );
    expect(connectionsTo(ports)[victim]).toBe(0);
    // "After": once every member hears every other again (the moved ones' `sub` lands after they reconnected).
    await chat.connected(20_000, 'back');
    await chat.round('kill-after', 3, 20);
    await chat.round('kill-end', 1, 0);
    await chat.allShown((from) => `kill-end-${from}-0`, 30_000, "every member's marker at every other");

    const wrong = chat.deliveries((s) => s.text.startsWith('kill-')).filter(notOnce);
    expect(wrong.map(describeDelivery)).toEqual([]);
  });

  it('Redis SIGKILLed and restarted mid-conversation: the room is rebuilt; nothing lost or shown twice', async () => {
    const mark = new Map([...members].map(([name, m]) => [name, m.events.length]));
    await chat.round('redis-before', 3, 20);
    await redis!.kill();
    await chat.round('redis-during', 3, 100);
    await redis!.restart();
    // Every relay dropped every member (it cannot serve without the bus), and came back under a new id.
    await until(
      () =>
        [...members].every(([name, m]) =>
          since(m, mark.get(name)!).some(
            (e) => e.type === 'connection' && e.state === 'connected' && e.restarted === true,
          ),
        ),
      30_000,
      'every member reconnected to a relay that restarted',
    );
    await chat.round('redis-after', 3, 20);
    await chat.round('redis-end', 1, 0);
    await chat.allShown((from) => `redis-end-${from}-0`, 30_000, "every member's marker at every other");
    expect(chat.anomalies((s) => s.text.startsWith('redis-'))).toEqual([]);
  });

  it("with every relay down the hidden path is nginx's own 404, and nginx logged nothing of it", async () => {
    for (const r of relays) r.kill('SIGKILL');
    await Promise.all(relays.map((r) => r.exited));
    const probe = (path: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = net.connect(nginx!.port, '127.0.0.1', () =>
          s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
        );
        let text = '';
        s.setEncoding('latin1').on('data', (d: string) => (text += d));
        s.on('end', () => resolve(text.replace(/\r\nDate: [^\r]*/i, '\r\nDate: *')));
        s.on('error', reject);
        s.setTimeout(5_000, () => (s.destroy(), reject(new Error(`no answer for ${path}`))));
      });
    const expected = await probe(`/${randomBytes(8).toString('hex')}`);
    expect(expected).toMatch(/^HTTP\/1\.1 404 /);
    expect(await probe(`${hidden}/`)).toBe(expected);
    expect(await probe(`${hidden}/ws`)).toBe(expected);
    expect(readFileSync(nginx!.dir.at('error.log'), 'utf8')).not.toContain(hidden);
  });
});


describe.skipIf(missing.length > 0)('a cluster named in the link (serve --also), no proxy', () => {
  let redis: TestRedis | undefined;
  let relays: Server[] = [];
  let members = new Map<string, Member>();

  afterAll(async () => {
    for (const m of members.values()) m.kill('SIGKILL');
    for (const r of relays) r.kill('SIGKILL');
    await Promise.all(relays.map((r) => r.exited));
    await redis?.stop();
  });

  it('a relay SIGKILLed mid-conversation: its members move to another relay the link names; nothing lost or shown twice', async () => {
    redis = await startRedis();
    const basePath = `/${randomBytes(12).toString('base64url')}`;
    const ports = [await freePort(), await freePort(), await freePort()];
    const origin = (port: number): string => `http://127.0.0.1:${port}`;
    relays = await Promise.all(
      ports.map((port) =>
        startServe([
          '--no-admin',
          '--port',
          String(port),
          '--cluster',
          redis!.url,
          '--base-path',
          basePath,
          ...ports.flatMap((p) => ['--also', origin(p)]),
        ]),
      ),
    );
    // Each relay's link names itself first and the other two in `a` (it leaves itself out of the list).
    const bare = String(relays[0]!.events.find((e) => e.type === 'ready')?.invite);
    expect(bare).toMatch(/#a=/);
    // alice and bob on relay 0 (the room's link as alice made it); carol and dave on relays 1 and 2
    // (the same room, with that relay first in the link and the others in `a`).
    const linkOn = (link: string, i: number): string => {
      const p = parseInvite(link);
      if (!p.ok || !p.invite.room) throw new Error(`not a room link: ${p.ok ? 'no room' : p.message}`);
      const base = `${origin(ports[i]!)}${basePath}/`;
      return formatInvite(base, p.invite.room, { also: ports.filter((_, j) => j !== i).map((q) => ({ base: `${origin(q)}${basePath}/` })) });
    };
    members = await room(NAMES, bare, [], (link, name) => (name === 'carol' ? linkOn(link, 1) : name === 'dave' ? linkOn(link, 2) : link));
    const chat = new Conversation(members);
    await chat.connected(20_000);
    expect(connectionsTo(ports)).toEqual([2, 1, 1]);
    await chat.round('also-before', 2, 20);
    const mark = new Map([...members].map(([name, m]) => [name, m.events.length]));
    relays[0]!.kill('SIGKILL');
    await relays[0]!.exited;
    await chat.round('also-during', 2, 20);
    // alice and bob were dropped, and are back on relays the link names; carol and dave stayed.
    await until(
      () =>
        ['alice', 'bob'].every((name) =>
          since(members.get(name)!, mark.get(name)!).some((e) => e.type === 'connection' && e.state === 'connected'),
        ),
      30_000,
      'alice and bob to reconnect to another relay',
      () => JSON.stringify(since(members.get('alice')!, mark.get('alice')!).filter((e) => e.type === 'connection' || e.type === 'error' || e.type === 'info')),
    );
    expect(connectionsTo(ports)[0]).toBe(0);
    expect(connectionsTo(ports).reduce((a, b) => a + b, 0)).toBe(4);
    await chat.connected(20_000, 'back');
    await chat.round('also-after', 2, 20);
    await chat.round('also-end', 1, 0);
    await chat.allShown((from) => `also-end-${from}-0`, 30_000, "every member's marker at every other");
    expect(chat.deliveries((x) => x.text.startsWith('also-')).filter(notOnce).map(describeDelivery)).toEqual([]);
  }, 120_000);
});

describe.skipIf(noHosts !== undefined)(
  'relays on separate hosts, Redis on another over TLS with a password (network namespaces)',
  () => {
    const base = `/${randomBytes(12).toString('base64url')}`;
    let tmp: TempDir | undefined;
    let lan: Lan | undefined;
    let redis: NetRedis | undefined;
    let relays: Server[] = [];
    let members = new Map<string, Member>();
    let redisUrl = '';
    let pwFile = '';
    let tlsFiles: TlsFiles = { ca: '', cert: '', key: '' };

    beforeAll(async () => {
      lan = new Lan();
      const redisHost = lan.host(2);
      const hosts = [lan.host(11), lan.host(12)];
      const password = randomBytes(24).toString('base64url');
      const dir = (tmp = new TempDir());
      pwFile = dir.file('cluster-pw', `${password}\n`);
      tlsFiles = testCertificates(dir.path, redisHost.address);
      redis = await startRedisIn(redisHost.ns, redisHost.address, password, tlsFiles, dir.path);
      redisUrl = redis.url;
      const cluster = ['--cluster', redisUrl, '--cluster-ca', tlsFiles.ca, '--cluster-password-file', pwFile];
      relays = await Promise.all(
        hosts.map((h) =>
          startServe(['--host', h.address, '--public', '--no-admin', '--base-path', base, ...cluster], { netns: h.ns }),
        ),
      );
    }, 60_000);

    afterAll(async () => {
      for (const m of members.values()) m.kill('SIGKILL');
      for (const r of relays) r.kill('SIGKILL');
      await Promise.all([...relays.map((r) => r.exited), ...[...members.values()].map((m) => m.exited)]);
      await redis?.stop();
      lan?.remove();
      tmp?.remove();
    });

    /** `serve` here (on the LAN, beside the members) against the cluster's Redis, with `cluster` options: it should fail at once. */
    const serveOnce = (cluster: string[]) =>
      run(['serve', '--json', '--port', '0', '--no-admin', '--base-path', base, '--cluster', redisUrl, ...cluster]);

    it('a relay with a wrong cluster password is refused by Redis, and does not print it', async () => {
      const wrong = randomBytes(24).toString('base64url');
      const r = await serveOnce([
        '--cluster-ca',
        tlsFiles.ca,
        '--cluster-password-file',
        tmp!.file('wrong', `${wrong}\n`),
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toMatch(/"code":"E_CONNECT".*WRONGPASS/);
      expect(r.stdout + r.stderr).not.toContain(wrong);
    });

    it("a relay that does not trust Redis's certificate (no --cluster-ca) does not connect", async () => {
      const r = await serveOnce(['--cluster-password-file', pwFile]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toMatch(/"code":"E_CONNECT".*certificate/);
    });

    it('members joining two relays by their addresses chat: every message exactly once', async () => {
      const [one, two] = relays as [Server, Server];
      const origin = (s: Server): string => new URL(s.url).origin;
      expect(origin(one)).not.toBe(origin(two));
      members = await room(['alice', 'bob'], one.url, [], (link) => {
        expect(link.startsWith(`${origin(one)}${base}/#`)).toBe(true);
        return origin(two) + link.slice(origin(one).length);
      });
      const chat = new Conversation(members);
      await chat.connected(20_000);
      await chat.round('lan', 3, 20);
      await chat.allShown((from) => `lan-${from}-2`, 20_000, 'the last message of each');
      expect(chat.anomalies((s) => s.text.startsWith('lan-'))).toEqual([]);
    });
  },
);
