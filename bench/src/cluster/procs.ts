/**
 * The cluster section's child processes: relays (relay-proc.ts), the fan-out generator
 * (load-proc.ts) and the commit racers (commit-proc.ts). Where `taskset` exists the servers —
 * every relay and every Redis — are pinned to core 0 and the clients to core 1: one relay alone
 * and three relays with their Redis get the same single core, so their CPU per delivery and
 * deliveries/s compare like for like. Every child exits when the parent disconnects or after its
 * own deadline; `stop()` ends it at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Child, hasTaskset } from '../relay/procs.js';
import type { ClusterLoadCommand, ClusterLoadEvent } from './load-proc.js';
import type { RaceCommand, RaceEvent } from './commit-proc.js';
import type { RelayCommand, RelayReady } from './relay-proc.js';

export { hasTaskset };
export const SERVER_CORE = 0;
export const CLIENT_CORE = 1;
/** A child's own deadline: it never outlives the bench by more than this. */
export const LIFETIME_MS = 900_000;

/** `command args...` pinned to `core` where taskset exists. */
export function pinned(
  core: number,
  command: string,
  args: string[],
  stdio: ('ignore' | 'inherit' | 'ipc')[],
): ChildProcess {
  return hasTaskset
    ? spawn('taskset', ['-c', String(core), command, ...args], { stdio })
    : spawn(command, args, { stdio });
}

function startScript(script: string, args: string[], core: number): ChildProcess {
  const file = fileURLToPath(new URL(script, import.meta.url));
  return pinned(core, process.execPath, ['--import', 'tsx', file, ...args], ['ignore', 'inherit', 'inherit', 'ipc']);
}

export type ClusterRelay = Child<RelayReady, RelayCommand> & { ready: RelayReady };

/**
 * A relay on the servers' core: alone (the in-memory engine) when `redisUrl` is undefined, else a
 * member of the cluster on that Redis. A cluster's relays must share `basePath`.
 */
export async function startClusterRelay(basePath: string, redisUrl: string | undefined): Promise<ClusterRelay> {
  const child = new Child<RelayReady, RelayCommand>(
    startScript('./relay-proc.ts', [String(LIFETIME_MS), basePath, ...(redisUrl ? [redisUrl] : [])], SERVER_CORE),
  );
  const ready = await child.next('ready', 30_000);
  return Object.assign(child, { ready });
}

export type ClusterGenerator = Child<ClusterLoadEvent, ClusterLoadCommand>;

/** The fan-out generator, on the clients' core. */
export function startClusterGenerator(): ClusterGenerator {
  return new Child<ClusterLoadEvent, ClusterLoadCommand>(
    startScript('./load-proc.ts', [String(LIFETIME_MS)], CLIENT_CORE),
  );
}

export type Racers = Child<RaceEvent, RaceCommand>;

/** The commit racers, on the clients' core; `keys` epoch keys are made before it says `ready`. */
export async function startRacers(keys: number): Promise<Racers> {
  const child = new Child<RaceEvent, RaceCommand>(
    startScript('./commit-proc.ts', [String(LIFETIME_MS), String(keys)], CLIENT_CORE),
  );
  await child.next('ready', 60_000);
  return child;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/**
 * CPU time (user + system, all threads) process `pid` has used, in µs, from /proc/<pid>/stat
 * (fields 14 and 15, in clock ticks: 10 ms resolution). Read by the parent, so that a busy
 * process is not asked (its answer would come late and skew the window). NaN off Linux.
 */
export function cpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/**
 * Read and write system calls process `pid` has made so far (/proc/<pid>/io `syscr`, `syscw`;
 * a socket `writev` counts as one write): how well its writes are batched. NaN off Linux.
 */
export function syscalls(pid: number): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'latin1');
    return { reads: Number(/syscr: (\d+)/.exec(io)?.[1]), writes: Number(/syscw: (\d+)/.exec(io)?.[1]) };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}
