/**
 * Child process: one relay under test, `ours` (the real `startServer` from @safehouse/server,
 * built), `baseline` (plain `ws`, one send per peer) or `uws` (uWebSockets.js, its pub/sub). It tells the parent where it listens,
 * then answers `usage` with its CPU time and memory (after a GC if asked), and stops on `stop`,
 * when the parent goes away, or after a hard deadline: it never outlives the bench.
 */
import { startServer, silentLogger, type ServerLimits } from '@safehouse/server';
import { startBaseline } from './baseline.js';
import { startUws } from './uws.js';
import { SERVER_KINDS } from './kinds.js';

export type { ServerKind } from './kinds.js';
export type ServerReady = { type: 'ready'; port: number; path: string; pid: number };
export type ServerUsage = {
  type: 'usage';
  cpuUs: number;
  userUs: number;
  systemUs: number;
  heapUsed: number;
  rss: number;
  connections: number;
};
export type ServerCommand = { cmd: 'usage'; gc?: boolean } | { cmd: 'stop' };

/** Limits raised so that the bench measures fan-out, not the per-connection flood guards. */
export const BENCH_LIMITS: Partial<ServerLimits> = {
  ratePerSecond: 1_000_000,
  rateBurst: 10_000_000,
  bytesPerSecond: 1 << 30,
  bytesBurst: 1 << 30,
  abuseAllowance: 10_000_000,
  maxConnectionsPerIp: 1_000_000,
  maxSocketsPerIp: 1_000_000,
};

const kind = process.argv[2];
const lifetimeMs = Number(process.argv[3] ?? 900_000);
const defaults = process.argv.includes('--default-limits');

function send(msg: ServerReady | ServerUsage): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  let close: () => Promise<void>;
  let connections: () => number;
  if (kind === 'ours') {
    const server = await startServer({ port: 0, logger: silentLogger, ...(defaults ? {} : { limits: BENCH_LIMITS }) });
    close = () => server.close();
    connections = () => server.stats().connections;
    send({ type: 'ready', port: server.port, path: `${server.basePath}/ws`, pid: process.pid });
  } else if (kind === 'uws') {
    const u = await startUws();
    close = () => Promise.resolve(u.close());
    connections = () => u.connections();
    send({ type: 'ready', port: u.port, path: '/room/', pid: process.pid });
  } else if (kind === 'baseline') {
    const b = await startBaseline();
    let n = 0;
    b.server.on('upgrade', (_req, socket: NodeJS.EventEmitter) => {
      n += 1;
      socket.once('close', () => (n -= 1));
    });
    close = () => b.close();
    connections = () => n;
    send({ type: 'ready', port: b.port, path: '/room/', pid: process.pid });
  } else throw new Error(`relay kind expected one of ${SERVER_KINDS.join(', ')}, got ${String(kind)}`);
  const stop = (): void => {
    void close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.on('message', (m: ServerCommand) => {
    if (m.cmd === 'stop') return stop();
    if (m.gc) for (let i = 0; i < 3; i++) globalThis.gc?.();
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    send({
      type: 'usage',
      cpuUs: cpu.user + cpu.system,
      userUs: cpu.user,
      systemUs: cpu.system,
      heapUsed: mem.heapUsed,
      rss: mem.rss,
      connections: connections(),
    });
  });
  process.on('disconnect', stop);
  setTimeout(stop, lifetimeMs).unref();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
