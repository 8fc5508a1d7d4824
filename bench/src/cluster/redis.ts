/**
 * A Redis for one cluster of the bench, adapted from packages/server/src/testing/redis.ts:
 * Debian's `redis-server` on a unix socket in a fresh temporary directory, nothing written to
 * disk (`--save "" --appendonly no`), pinned to the servers' core. Bounded in time: it runs
 * under `timeout --signal=KILL`, so even a bench killed without cleaning up leaves no Redis
 * behind for longer than the children's lifetime; it is also killed when the bench exits.
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

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

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
        ['--signal=KILL', `${Math.ceil(LIFETIME_MS / 1000)}`, bin, ...args],
        ['ignore', 'ignore', 'ignore'],
      )
    : pinned(SERVER_CORE, bin, args, ['ignore', 'ignore', 'ignore']);
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      // SIGTERM to `timeout` is passed on to Redis; SIGKILL if it has not gone within 5 s.
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
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
  const pid = Number(/process_id:(\d+)/.exec(await ask(socketPath, 'INFO server'))?.[1]);
  if (!Number.isSafeInteger(pid)) {
    await stop();
    throw new Error('redis-server did not tell its process id');
  }
  const info = async (section: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const line of (await ask(socketPath, `INFO ${section}`)).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
    }
    return out;
  };
  return { url: `unix://${socketPath}`, pid, info, stop };
}
