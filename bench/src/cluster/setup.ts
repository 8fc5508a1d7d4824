/**
 * What the cluster section compares: one relay alone (the in-memory engine, the default), and
 * one, two or three relays sharing rooms through one Redis of their own. A running setup knows
 * its relays' addresses and the pids whose CPU time counts (every relay, and its Redis).
 */
import { randomId } from '@safehouse/core/protocol';
import type { Target } from '../relay/rawclient.js';
import { cpuUs, startClusterRelay, syscalls, type ClusterRelay } from './procs.js';
import { startBenchRedis, type BenchRedis } from './redis.js';

export type Setup = { name: string; engine: 'memory' | 'redis'; relays: number };

export const ALONE: Setup = { name: '1 relay alone', engine: 'memory', relays: 1 };
export const clustered = (relays: number): Setup => ({
  name: `${relays} relay${relays > 1 ? 's' : ''} + Redis`,
  engine: 'redis',
  relays,
});

export type RunningSetup = {
  setup: Setup;
  targets: Target[];
  relays: ClusterRelay[];
  redis: BenchRedis | undefined;
  stop(): Promise<void>;
};

/** Counters of a setup's server processes, so far; a run takes their difference. */
export type ServerSample = {
  /** CPU time in µs: the relays' together, and Redis's (0 without one). */
  relayUs: number;
  redisUs: number;
  /** The relays' read and write system calls together. */
  relayReads: number;
  relayWrites: number;
  /** Scripts Redis ran (EVALSHA: one per room per relay per turn for frames) and the µs it spent in them. */
  busCalls: number;
  busUs: number;
};

export async function sample(s: RunningSetup): Promise<ServerSample> {
  const stats = s.redis ? await s.redis.info('commandstats') : undefined;
  const evalsha = stats?.get('cmdstat_evalsha') ?? '';
  const field = (name: string): number => Number(new RegExp(`${name}=(\\d+)`).exec(evalsha)?.[1] ?? 0);
  const io = s.relays.map((r) => syscalls(r.ready.pid));
  return {
    relayUs: s.relays.reduce((a, r) => a + cpuUs(r.ready.pid), 0),
    redisUs: s.redis ? cpuUs(s.redis.pid) : 0,
    relayReads: io.reduce((a, x) => a + x.reads, 0),
    relayWrites: io.reduce((a, x) => a + x.writes, 0),
    busCalls: field('calls'),
    busUs: field('usec'),
  };
}

/** `b` − `a`, field by field. */
export function since(a: ServerSample, b: ServerSample): ServerSample {
  return {
    relayUs: b.relayUs - a.relayUs,
    redisUs: b.redisUs - a.redisUs,
    relayReads: b.relayReads - a.relayReads,
    relayWrites: b.relayWrites - a.relayWrites,
    busCalls: b.busCalls - a.busCalls,
    busUs: b.busUs - a.busUs,
  };
}

export async function startSetup(setup: Setup): Promise<RunningSetup> {
  const relays: ClusterRelay[] = [];
  let redis: BenchRedis | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all(relays.map((r) => r.stop()));
    await redis?.stop();
  };
  try {
    redis = setup.engine === 'redis' ? await startBenchRedis() : undefined;
    // One base path for all relays of a cluster: a room's link must work on each of them.
    const basePath = `/${randomId()}`;
    for (let i = 0; i < setup.relays; i++) relays.push(await startClusterRelay(basePath, redis?.url));
  } catch (err) {
    await stop();
    throw err;
  }
  return { setup, targets: relays.map((r) => ({ port: r.ready.port, path: r.ready.path })), relays, redis, stop };
}
