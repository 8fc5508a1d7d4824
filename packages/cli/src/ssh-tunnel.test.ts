/**
 * The SSH reverse tunnel's supervisor (ssh-tunnel.ts), without a network: the exact ssh command
 * line (safe options, loopback-only remote bind), target parsing, and that a dying ssh is started
 * again with back-off and stopped for good by `stop()`. A real sshd: test/e2e/deploy-ssh.test.ts.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSshTarget, sshArgs, SshTunnel } from './ssh-tunnel.js';

describe('ssh tunnel', () => {
  it('parses user@host[:port], IPv6 in brackets, and refuses anything else', () => {
    expect(parseSshTarget('tunnel@jump.example')).toEqual({ user: 'tunnel', host: 'jump.example', port: 22 });
    expect(parseSshTarget('t@[::1]:2222')).toEqual({ user: 't', host: '::1', port: 2222 });
    for (const bad of ['jump.example', '@h', 'u@h:0', 'u@h:99999', 'u@h;rm -rf', '-oProxyCommand=x@h', 'u@-oX'])
      expect(() => parseSshTarget(bad), bad).toThrow(/E_USAGE|expects|range/);
  });

  it("runs ssh with safe options and binds the jump host's loopback only", () => {
    const args = sshArgs({
      target: { user: 'u', host: 'h', port: 2200 },
      keyFile: '/k',
      remotePort: 9443,
      localHost: '127.0.0.1',
      localPort: 8090,
      knownHostsFile: '/kh',
    });
    const opts = args.filter((_, i) => args[i - 1] === '-o');
    expect(opts).toEqual(
      expect.arrayContaining([
        'BatchMode=yes',
        'ExitOnForwardFailure=yes',
        'ServerAliveInterval=15',
        'ServerAliveCountMax=3',
        'StrictHostKeyChecking=yes',
        'IdentitiesOnly=yes',
        'UserKnownHostsFile=/kh',
      ]),
    );
    expect(args).toEqual(
      expect.arrayContaining(['-N', '-i', '/k', '-p', '2200', '-R', '127.0.0.1:9443:127.0.0.1:8090']),
    );
    expect(args.at(-1)).toBe('u@h');
  });

  it('starts ssh again with back-off when it exits, and not after stop()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'safehouse-ssh-'));
    try {
      const fake = join(dir, 'ssh');
      writeFileSync(fake, '#!/bin/sh\necho "connection refused" >&2\nexit 255\n');
      chmodSync(fake, 0o755);
      const states: string[] = [];
      const t = new SshTunnel({
        target: { user: 'u', host: 'h', port: 22 },
        remotePort: 9443,
        localHost: '127.0.0.1',
        localPort: 8090,
        sshCommand: fake,
        backoffBaseMs: 20,
        backoffCapMs: 40,
        onState: (s) => states.push(`${s.state}${s.detail ? `:${s.detail}` : ''}`),
      });
      t.start();
      const deadline = Date.now() + 5_000;
      while (states.filter((s) => s.startsWith('down')).length < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      await t.stop();
      const downs = states.filter((s) => s.startsWith('down'));
      expect(downs.length).toBeGreaterThanOrEqual(3);
      expect(downs[0]).toContain('connection refused (exit 255)');
      const after = states.length;
      await new Promise((r) => setTimeout(r, 200));
      expect(states.length).toBe(after);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
