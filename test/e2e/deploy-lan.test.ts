/**
 * LAN with TLS (docs/deploy.md, "On a LAN, with TLS"), with a second host made of a network
 * namespace and a veth pair created by the test (root only):
 * - `serve --host <LAN address>` without --public is refused (E_ADDRESS_REFUSED, exit 2);
 * - with `--public --tls-self-signed --password-file`, a member on the other host joins with the
 *   printed link (https, pinned) and the password;
 * - the same member cannot reach a server left on the default loopback bind (THREATS B.14).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Member, run, startServe, type Server } from './src/harness.js';
import { inviteOf, isRoot, sleep, TempDir, which } from './src/ops.js';

/** Why a second host cannot be made here, or undefined if it can (tried once, then removed). */
function unavailable(): string | undefined {
  if (!isRoot) return 'network namespaces need root';
  if (!which('ip')) return 'ip (iproute2) is not installed';
  const probe = `shprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'this machine does not let us create a network namespace (ip netns add failed)';
  }
}
const why = unavailable();
if (why) console.warn(`deploy-lan: skipped: ${why}`);

const ns = `sh${randomBytes(3).toString('hex')}`;
const hostIf = `v${ns}a`;
const peerIf = `v${ns}b`;
const subnet = 10 + Math.floor(Math.random() * 200);
const HOST = `10.${subnet}.77.1`;
const PEER = `10.${subnet}.77.2`;
const tmp = new TempDir();
const procs: (Server | Member)[] = [];

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

beforeAll(() => {
  if (why) return;
  ip('netns', 'add', ns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
  ip('link', 'set', peerIf, 'netns', ns);
  ip('addr', 'add', `${HOST}/24`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${PEER}/24`, 'dev', peerIf);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', peerIf, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await sleep(200);
  if (!why) {
    try {
      ip('link', 'del', hostIf);
    } catch {
      /* gone with the namespace */
    }
    ip('netns', 'del', ns);
  }
  tmp.remove();
});

/** `safehouse join --json` run on the other host (inside the namespace). */
function joinFromPeer(link: string, name: string, extra: string[] = []): Member {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, process.execPath, BIN, 'join', link, '--name', name, '--json', ...extra],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const m = new Member(child);
  procs.push(m);
  return m;
}

describe.skipIf(why !== undefined)('LAN with TLS (a second host in a network namespace)', () => {
  it('binding a LAN address without --public is refused', async () => {
    const r = await run(['serve', '--host', HOST, '--port', '0', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('E_ADDRESS_REFUSED');
  });

  it('a member on the other host joins over pinned TLS with the password', async () => {
    const pw = tmp.file('pw', 'lan secret\n');
    const server = await startServe(['--host', HOST, '--public', '--tls-self-signed', '--password-file', pw]);
    procs.push(server);
    const link = inviteOf(server);
    expect(link.startsWith(`https://${HOST}:`)).toBe(true);
    expect(link).toMatch(/[#&]c=/);
    const alice = joinFromPeer(link, 'alice', ['--password-file', pw]);
    await alice.waitFor((e) => e.type === 'joined', 40_000, 'alice joined from the other host');
    await sleep(1_000);
    server.send('@all across the LAN');
    await alice.waitFor((e) => e.type === 'message' && e.text === 'across the LAN', 20_000, 'the message');
  });

  it('a server on the default bind (loopback) is unreachable from the other host', async () => {
    const server = await startServe([]);
    procs.push(server);
    const link = inviteOf(server).replace('127.0.0.1', HOST);
    const bob = joinFromPeer(link, 'bob');
    await bob.waitFor((e) => e.type === 'connection' && e.state === 'reconnecting', 20_000, 'refused');
    expect(bob.events.some((e) => e.type === 'joined')).toBe(false);
  });
});
