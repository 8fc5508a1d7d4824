/**
 * Child process: one relay of the cluster section — the real `startServer` from
 * @safehouse/server (built), alone with its in-memory engine, or sharing rooms through the Redis
 * named in its arguments (`cluster: { url }`). It tells the parent where it listens and its pid
 * (the parent reads its CPU time from /proc), and stops on `stop`, when the parent goes away, or
 * after a hard deadline: it never outlives the bench.
 *
 * argv: lifetimeMs basePath [redisUrl]
 */
import { startServer, silentLogger, type ServerLimits } from '@safehouse/server';

export type RelayReady = { type: 'ready'; port: number; path: string; pid: number };
export type RelayCommand = { cmd: 'stop' };

/**
 * The relay section's limits (bench/src/relay/server-proc.ts BENCH_LIMITS), raised so that the
 * bench measures fan-out and ordering, not the per-connection flood guards.
 */
const LIMITS: Partial<ServerLimits> = {
  ratePerSecond: 1_000_000,
  rateBurst: 10_000_000,
  bytesPerSecond: 1 << 30,
  bytesBurst: 1 << 30,
  abuseAllowance: 10_000_000,
  maxConnectionsPerIp: 1_000_000,
  maxSocketsPerIp: 1_000_000,
};

const lifetimeMs = Number(process.argv[2] ?? 900_000);
const basePath = process.argv[3];
const redisUrl = process.argv[4];

async function main(): Promise<void> {
  if (!basePath) throw new Error('relay-proc expects: lifetimeMs basePath [redisUrl]');
  const server = await startServer({
    port: 0,
    basePath,
    logger: silentLogger,
    limits: LIMITS,
    ...(redisUrl ? { cluster: { url: redisUrl } } : {}),
  });
  const ready: RelayReady = { type: 'ready', port: server.port, path: `${server.basePath}/ws`, pid: process.pid };
  process.send?.(ready);
  const stop = (): void => {
    void server.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.on('message', (m: RelayCommand) => {
    if (m.cmd === 'stop') stop();
  });
  process.on('disconnect', stop);
  setTimeout(stop, lifetimeMs).unref();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
