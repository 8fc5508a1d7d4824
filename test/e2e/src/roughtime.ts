/**
 * End-to-end helpers for timed messages: Roughtime servers on 127.0.0.1 port 0 (Safehouse's own
 * UDP server, in this process), members started under a command prefix (`faketime -f -1d`), and
 * the test process's own clock stamped on every event line as it arrives.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRoughtimeServer, type RunningRoughtimeServer } from '@safehouse/server';
import { BIN, Member, type Json } from './harness.js';

export async function startTimeServers(n: number, radiusSeconds = 1): Promise<{ specs: string[]; servers: RunningRoughtimeServer[]; close: () => Promise<void> }> {
  const servers: RunningRoughtimeServer[] = [];
  for (let i = 0; i < n; i++) servers.push(await startRoughtimeServer({ port: 0, radiusSeconds }));
  return { specs: servers.map((s) => s.spec), servers, close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p));

/**
 * A member under libfaketime whose wall clock can be moved while it runs: the offset is read
 * from a file on every clock call (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE), and only the
 * wall clock is faked (FAKETIME_DONT_FAKE_MONOTONIC=1: a monotonic clock jumping a day back would
 * stall Node's timers, which libuv runs on CLOCK_MONOTONIC). Undefined without libfaketime.
 */
export function startJoinFaked(link: string, name: string, extra: string[] = []): { member: Member; shift: (offset: string) => void } | undefined {
  if (LIBFAKETIME === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-faketime-'));
  const file = join(dir, 'offset');
  writeFileSync(file, '+0\n');
  const member = startJoinUnder([], link, name, extra, {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: file,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  member.child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { member, shift: (offset) => writeFileSync(file, `${offset}\n`) };
}

/** `safehouse join --json`, run as `prefix... node BIN join ...` (e.g. under faketime). */
export function startJoinUnder(prefix: string[], link: string, name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Member {
  const cmd = [...prefix, process.execPath, BIN, 'join', link, '--name', name, '--json', ...extra];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return new Member(child);
}

/** Records, for every JSON event line of `m`, the test process's Date.now() when it arrived. */
export function stampArrivals(m: Member): { event: Json; at: number }[] {
  const out: { event: Json; at: number }[] = [];
  let buf = '';
  m.child.stdout?.on('data', (chunk: string | Buffer) => {
    const at = Date.now();
    buf += String(chunk);
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        out.push({ event: JSON.parse(line) as Json, at });
      } catch {
        /* not JSON */
      }
    }
  });
  return out;
}

/** The wall clock a command sees under `faketime -f OFFSET`, minus ours (ms), or undefined without faketime. */
export function faketimeSkewMs(offset: string): number | undefined {
  try {
    const seen = Number(execFileSync('faketime', ['-f', offset, process.execPath, '-e', 'process.stdout.write(String(Date.now()))'], { encoding: 'utf8' }));
    return seen - Date.now();
  } catch {
    return undefined;
  }
}
