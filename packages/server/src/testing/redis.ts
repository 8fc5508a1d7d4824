/**
 * A real Redis for tests (Debian's `redis-server`, installed by `.ci/run`): one process per call,
 * on a unix socket in a fresh temporary directory (no port to collide on), with nothing written
 * to disk (`--save "" --appendonly no`), killed when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TestRedis = {
  /** `unix:///…/redis.sock`, for `RedisEngine` and `safehouse serve --cluster`. */
  readonly url: string;
  readonly socketPath: string;
  /** Its working directory: where Redis would write a snapshot or an append-only file (it must not). */
  readonly dir: string;
  /** The files Redis left in `dir` (its socket aside): none, when it runs as Safehouse runs it. */
  written(): string[];
  /** SIGKILLs it (as a crash would) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same socket (empty: it kept nothing). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  shutdown(): Promise<void>;
};

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export function redisServerPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)');
  return found;
}

/** Resolves once something answers PING on `path`. */
async function answers(path: string, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection(path);
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startRedis(): Promise<TestRedis> {
  const bin = redisServerPath();
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-redis-'));
  const socketPath = join(dir, 'redis.sock');
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const p = spawn(bin, ['--port', '0', '--unixsocket', socketPath, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    running.add(p);
    p.once('exit', () => running.delete(p));
    proc = p;
    await answers(socketPath, Date.now() + 10_000);
  };
  const gone = async (sig: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(sig);
    await exited;
  };
  await launch();
  return {
    url: `unix://${socketPath}`,
    socketPath,
    dir,
    written: () => readdirSync(dir).filter((f) => f !== 'redis.sock'),
    kill: () => gone('SIGKILL'),
    restart: launch,
    stop: async () => {
      await gone('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    /** Stops it as an operator would (SHUTDOWN: Redis then saves if any save point is set) and keeps `dir`. */
    shutdown: () => gone('SIGTERM'),
  };
}
