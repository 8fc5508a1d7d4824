/**
 * Helpers for the operator tests (admin*, ops-*, deploy-*): the ready line's fields, temporary
 * files, free ports, and whether a real component (nginx, sshd) can run here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from './harness.js';

export function ready(s: Server): Record<string, unknown> {
  const r = s.events.find((e) => e.type === 'ready');
  if (!r) throw new Error('no ready line');
  return r;
}

/** The link `serve` printed (with an admin: the default room's). */
export function inviteOf(s: Server): string {
  return String(ready(s).invite);
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'safehouse-ops-'));
  file(name: string, content: string, mode = 0o600): string {
    const p = join(this.path, name);
    writeFileSync(p, content, { mode });
    return p;
  }
  at(name: string): string {
    return join(this.path, name);
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** A port free on 127.0.0.1 right now (for programs that cannot bind port 0 and report it). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The absolute path of a program, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    try {
      execFileSync('test', ['-x', join(dir, cmd)]);
      return join(dir, cmd);
    } catch {
      /* not there */
    }
  }
  return undefined;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until a TCP connect to 127.0.0.1:port succeeds. */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await sleep(100);
  }
}
