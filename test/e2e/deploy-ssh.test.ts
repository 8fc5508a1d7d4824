/**
 * SSH deployments with a real OpenSSH sshd started by the test (docs/deploy.md):
 * - reverse tunnel: `serve --ssh-reverse` keeps `ssh -N -R` to the jump host; the printed link is
 *   the jump host's (127.0.0.1:<remote port>); a member joins through it; when the tunnel's ssh is
 *   killed, Safehouse starts it again and a second member joins through the restored tunnel;
 *   on exit the ssh process is gone.
 * - local forward: the operator's `ssh -N -L` as docs/deploy.md writes it; a member joins through it.
 * Skipped, with the reason, where sshd cannot run (not root, not installed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';
import { freePort, inviteOf, ready, sleep, waitForPort } from './src/ops.js';
import { sshdUnavailable, startSshd, type Sshd } from './src/sshd.js';

const why = sshdUnavailable();
if (why) console.warn(`deploy-ssh: skipped: ${why}`);

let sshd: Sshd;
const procs: (Server | Member)[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!why) sshd = await startSshd();
}, 30_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await sshd?.stop();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(why !== undefined)('SSH', () => {
  it('reverse tunnel: a member joins through the jump host; a killed ssh is restored; ssh stops with the server', async () => {
    const remotePort = await freePort();
    const server = await startServe([
      '--ssh-reverse',
      `${sshd.user}@127.0.0.1:${sshd.port}`,
      '--ssh-key',
      sshd.clientKey,
      '--ssh-remote-port',
      String(remotePort),
      '--ssh-known-hosts',
      sshd.knownHosts,
    ]);
    procs.push(server);
    const link = inviteOf(server);
    expect(link.startsWith(`http://127.0.0.1:${remotePort}/`)).toBe(true);
    await server.waitFor((e) => e.type === 'ssh-tunnel' && e.state === 'up', 20_000, 'tunnel up');
    const alice = startJoin(link, 'alice');
    procs.push(alice);
    await alice.waitFor((e) => e.type === 'joined', 30_000, 'alice joined through the tunnel');

    const first = Number((ready(server).ssh as { pid: number }).pid);
    expect(alive(first)).toBe(true);
    process.kill(first, 'SIGKILL');
    await server.waitFor((e) => e.type === 'ssh-tunnel' && e.state === 'down', 10_000, 'tunnel down');
    await server.waitFor(
      (e) => e.type === 'ssh-tunnel' && e.state === 'up' && Number(e.attempt) >= 2,
      30_000,
      'tunnel restored',
    );
    const bob = startJoin(link, 'bob');
    procs.push(bob);
    await bob.waitFor((e) => e.type === 'joined', 30_000, 'bob joined through the restored tunnel');
    // alice's connection went down with the tunnel and came back through the new one. (What she
    // missed meanwhile is the relay's general limit: it keeps no history.)
    const lost = alice.events.findIndex((e) => e.type === 'connection' && e.state === 'reconnecting');
    expect(lost).toBeGreaterThan(-1);
    await alice.waitFor(
      (e) => e.type === 'connection' && e.state === 'connected' && alice.events.indexOf(e) > lost,
      30_000,
      'alice reconnected',
    );

    const { execFileSync } = await import('node:child_process');
    const sshPids = (): number[] =>
      execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0);
    const running = sshPids();
    expect(running.length).toBe(1);
    server.send('/quit');
    expect(await server.exited).toBe(0);
    await sleep(300);
    expect(running.filter(alive)).toEqual([]);
  });

  it("local forward: `ssh -N -L` from the member's machine, as docs/deploy.md writes it", async () => {
    const server = await startServe([]);
    procs.push(server);
    const localPort = await freePort();
    const ssh = spawn(
      'ssh',
      [
        '-N',
        '-o',
        'BatchMode=yes',
        '-o',
        'ExitOnForwardFailure=yes',
        '-o',
        `UserKnownHostsFile=${sshd.knownHosts}`,
        '-o',
        'IdentitiesOnly=yes',
        '-i',
        sshd.clientKey,
        '-p',
        String(sshd.port),
        '-L',
        `127.0.0.1:${localPort}:127.0.0.1:${server.port}`,
        `${sshd.user}@127.0.0.1`,
      ],
      { stdio: 'ignore' },
    );
    children.push(ssh);
    await waitForPort(localPort, 15_000);
    const link = inviteOf(server).replace(`:${server.port}/`, `:${localPort}/`);
    const alice = startJoin(link, 'alice');
    procs.push(alice);
    await alice.waitFor((e) => e.type === 'joined', 30_000, 'alice joined through the local forward');
    await sleep(1_000); // its `sub` reaches the relay just after `joined`: the relay keeps no history
    server.send('@all over ssh');
    await alice.waitFor((e) => e.type === 'message' && e.text === 'over ssh', 20_000, 'the message');
  });
});
