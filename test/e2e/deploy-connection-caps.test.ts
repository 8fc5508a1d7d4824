/**
 * Connection caps that fit the deployment (docs/deploy.md "Connection caps"; issue "Membership
 * that holds", item 7), with the real CLI:
 * - on loopback (everyone through an SSH tunnel or a local proxy has the same address) the
 *   per-address cap does not apply: `--max-connections-per-ip 1` still lets two members in;
 * - on a LAN (a second host made of a network namespace and a veth pair, root only), one address
 *   past `--max-connections-per-ip` is told why: the member's client prints `E_TOO_MANY_CONNECTIONS`
 *   once, keeps retrying with back-off, and gets in when a slot frees; a member on another
 *   address (the server's host, from its LAN address) is not affected;
 * - a bad value is a usage error (exit 2).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Member, run, startJoin, startServe, type Json, type Server } from './src/harness.js';
import { inviteOf, isRoot, sleep, which } from './src/ops.js';

const procs: (Server | Member)[] = [];
const connected = (e: Json): boolean => e.type === 'connection' && e.state === 'connected';
const tooMany = (e: Json): boolean => e.type === 'error' && e.code === 'E_TOO_MANY_CONNECTIONS';

function join(link: string, name: string): Member {
  const m = startJoin(link, name);
  procs.push(m);
  return m;
}

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
if (why) console.warn(`deploy-connection-caps: the LAN part is skipped: ${why}`);

const ns = `sc${randomBytes(3).toString('hex')}`;
const hostIf = `v${ns}a`;
const peerIf = `v${ns}b`;
const subnet = 10 + Math.floor(Math.random() * 200);
const HOST = `10.${subnet}.78.1`;
const PEER = `10.${subnet}.78.2`;
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
});

/** `safehouse join --json` run on the other host (inside the namespace): one LAN address for all. */
function joinFromPeer(link: string, name: string): Member {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, 'join', link, '--name', name, '--json'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const m = new Member(child);
  procs.push(m);
  return m;
}

describe('--max-connections-per-ip', () => {
  it('a bad value is a usage error', async () => {
    for (const bad of ['-1', 'lots', '1.5', '1000001']) {
      const r = await run(['serve', '--port', '0', '--json', '--no-admin', '--max-connections-per-ip', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stdout + r.stderr, bad).toContain('--max-connections-per-ip expects');
    }
  });

  it('on loopback (a tunnel, a local proxy) the address is not counted: a cap of 1 still lets two members in', async () => {
    const server = await startServe(['--no-admin', '--max-connections-per-ip', '1']);
    procs.push(server);
    const link = inviteOf(server);
    const [a, b] = [join(link, 'alice'), join(link, 'bob')];
    await a.waitFor(connected, 30_000, 'alice connected');
    await b.waitFor(connected, 30_000, 'bob connected');
    expect([...a.events, ...b.events].filter(tooMany)).toEqual([]);
  });
});

describe.skipIf(why !== undefined)('on a LAN (a second host in a network namespace)', () => {
  it('the third member from one address is told why, keeps trying, and gets in when a slot frees', async () => {
    const server = await startServe(['--host', HOST, '--public', '--no-admin', '--max-connections-per-ip', '2']);
    procs.push(server);
    const link = inviteOf(server);
    expect(link.startsWith(`http://${HOST}:`)).toBe(true);
    const alice = joinFromPeer(link, 'alice');
    const bob = joinFromPeer(link, 'bob');
    await alice.waitFor(connected, 40_000, 'alice connected');
    await bob.waitFor(connected, 40_000, 'bob connected');
    const carol = joinFromPeer(link, 'carol');
    const told = await carol.waitFor(tooMany, 40_000, 'carol told E_TOO_MANY_CONNECTIONS');
    expect(String(told.message)).toContain('E_TOO_MANY_CONNECTIONS');
    const retry = await carol.waitFor(
      (e) => e.type === 'connection' && e.state === 'reconnecting',
      10_000,
      'carol retrying',
    );
    expect(String(retry.reason)).toMatch(/connection limit.*E_TOO_MANY_CONNECTIONS/);
    // Another address (the server's host, connecting from its LAN address) is not affected.
    const dave = join(link, 'dave');
    await dave.waitFor(connected, 30_000, 'dave connected from another address');
    // Carol retries with back-off, told once; a slot frees and she gets in by herself.
    const retries = (): number =>
      carol.events.filter((e) => e.type === 'connection' && e.state === 'reconnecting').length;
    for (let waited = 0; retries() < 2; waited += 100) {
      if (waited > 20_000) throw new Error('carol did not retry');
      await sleep(100);
    }
    alice.kill('SIGKILL');
    await carol.waitFor(connected, 40_000, 'carol connected once alice left');
    expect(carol.events.filter(tooMany)).toHaveLength(1);
    expect(
      carol.events.filter((e) => e.type === 'connection' && e.state === 'reconnecting').length,
    ).toBeGreaterThanOrEqual(2);
    expect(bob.events.filter((e) => e.type === 'connection' && e.state === 'reconnecting')).toEqual([]);
  });
});
