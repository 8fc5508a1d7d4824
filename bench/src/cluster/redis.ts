/**
 * A Redis for one cluster of the bench, adapted from packages/server/src/testing/redis.ts:
 * Debian's `redis-server` on a unix socket in a fresh temporary directory, nothing written to
 * disk (`--save "" --appendonly no`), pinned to the servers' core. Bounded in time: it runs
 * under `timeout --signal=KILL` (in the bench's process group, so Ctrl-C reaches it), so even a
 * bench killed without cleaning up leaves no Redis behind for longer than the children's
 * lifetime; it is also killed when the bench exits. Redis itself is signalled by its pid, never
 * only the `timeout` around it: a SIGKILLed `timeout` would leave its Redis running, unbounded.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIFETIME_MS, pinned, SERVER_CORE } from './procs.js';

export type BenchRedis = {
  /** `unix:///…/redis.sock`, for `startServer({ cluster: { url } })`. */
  readonly url: string;
  /** redis-server's own pid (for its CPU time), as its INFO says. */
  readonly pid: number;
  /** `INFO section` as fields (`cmdstat_evalsha` → `calls=…,usec=…,…`); empty if Redis did not answer in 2 s. */
  info(section: string): Promise<Map<string, string>>;
  stop(): Promise<void>;
};

/** Each Redis started and not yet stopped: its wrapper process, redis-server's pid once known, its directory. */
const running = new Map<ChildProcess, { pid: number | undefined; dir: string }>();
process.once('exit', () => {
  for (const [proc, { pid, dir }] of running) {
    kill(proc, pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

function kill(proc: ChildProcess, pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid !== undefined)
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  proc.kill(signal);
}

function which(name: string): string {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
}

/** Sends one inline command on `path` and resolves with the reply's text ('' when nothing answers). */
function ask(path: string, command: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(got);
    }, 2_000);
    s.once('error', () => {
      clearTimeout(timer);
      resolve('');
    });
    s.once('connect', () => s.write(`${command}\r\n`));
    s.on('data', (d) => {
      got += d.toString('latin1');
      // A status reply (+PONG) or a complete bulk string ($len\r\n...\r\n).
      const bulk = /^\$(\d+)\r\n/.exec(got);
      if (got.startsWith('+') ? got.endsWith('\r\n') : bulk && got.length >= bulk[0].length + Number(bulk[1]) + 2) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
  });
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const bin = which('redis-server');
  if (!bin) throw new Error('redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-bench-redis-'));
  const socketPath = join(dir, 'redis.sock');
  const args = [
    '--port',
    '0',
    '--unixsocket',
    socketPath,
    '--unixsocketperm',
    '700',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const timeout = which('timeout');
  const proc = timeout
    ? pinned(
        SERVER_CORE,
        timeout,
        ['--foreground', '--signal=KILL', `${Math.ceil(LIFETIME_MS / 1000)}`, bin, ...args],
        ['ignore', 'ignore', 'ignore'],
      )
    : pinned(SERVER_CORE, bin, args, ['ignore', 'ignore', 'ignore']);
  running.set(proc, { pid: undefined, dir });
  // Gone on its own: its pid may be reused, so it is no longer signalled.
  proc.once('exit', () => running.delete(proc));
  // Known once Redis answers INFO; until then only the wrapper can be signalled.
  let pid: number | undefined = undefined;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      // Redis shuts down on SIGTERM (`timeout` passes it on too); SIGKILL if not gone within 5 s.
      kill(proc, pid, 'SIGTERM');
      const timer = setTimeout(() => kill(proc, pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await ask(socketPath, 'PING')).startsWith('+PONG')) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      await stop();
      throw new Error(`redis-server did not answer on ${socketPath}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const told = Number(/process_id:(\d+)/.exec(await ask(socketPath, 'INFO server'))?.[1]);
  if (!Number.isSafeInteger(told)) {
    await stop();
    throw new Error('redis-server did not tell its process id');
  }
  pid = told;
  if (running.has(proc)) running.set(proc, { pid, dir });
  const info = async (section: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const line of (await ask(socketPath, `INFO ${section}`)).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
    }
    return out;
  };
  return { url: `unix://${socketPath}`, pid: told, info, stop };
}
