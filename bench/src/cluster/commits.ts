/**
 * Commit throughput of one room: how many commits per second a room can order (commit-proc.ts
 * races them), on one relay alone and through the cluster's Lua script, in rounds over the
 * setups (order reversed every other round), a fresh room each run. The same number of racers
 * everywhere, spread evenly over the setup's relays; CPU per commit counts every server process
 * of the setup (relays and Redis) over the measured window.
 */
import { median } from '../relay/throughput.js';
import type { RaceResult } from './commit-proc.js';
import type { Racers } from './procs.js';
import { sample, since, type RunningSetup } from './setup.js';

export type CommitTiming = { warmupMs: number; measureMs: number; rounds: number };
export type CommitRun = RaceResult & { setup: string; round: number; serverCpu: number; cpuUsPerCommit: number };
export type CommitSummary = {
  setup: string;
  relays: number;
  racers: number;
  commitsPerSecond: number;
  /** Median over rounds of this setup's commits/s / the first setup's in the same round. */
  vsAlone: number;
  cpuUsPerCommit: number;
  /** Median over runs of each run's p50 and p99, send → ack, µs. */
  p50: number;
  p99: number;
  /** Every run: exactly one winner per epoch, and the observers agree. */
  ordered: boolean;
  epochs: number;
  winners: number;
  stale: number;
  problems: string[];
};
export type CommitBench = { bytes: number; timing: CommitTiming; setups: CommitSummary[]; runs: CommitRun[] };

async function raceOnce(
  racers: Racers,
  s: RunningSetup,
  total: number,
  bytes: number,
  timing: CommitTiming,
  round: number,
): Promise<CommitRun> {
  racers.send({
    cmd: 'race',
    spec: {
      targets: s.targets,
      racersPerRelay: total / s.setup.relays,
      bytes,
      warmupMs: timing.warmupMs,
      measureMs: timing.measureMs,
    },
  });
  await racers.next('measuring', 30_000);
  const s0 = await sample(s);
  await racers.next('measured', 30_000);
  const d = since(s0, await sample(s));
  const { result } = await racers.next('raced', 30_000);
  const us = d.relayUs + d.redisUs;
  const commits = result.commitsPerSecond * result.seconds;
  return {
    ...result,
    setup: s.setup.name,
    round,
    serverCpu: us / 1e6 / result.seconds,
    cpuUsPerCommit: commits > 0 ? us / commits : NaN,
  };
}

/** `total` racers per run, spread evenly over each setup's relays (so `total` must divide by every relay count). */
export async function commitBench(
  racers: Racers,
  setups: RunningSetup[],
  total: number,
  bytes: number,
  timing: CommitTiming,
): Promise<CommitBench> {
  for (const s of setups)
    if (total % s.setup.relays !== 0)
      throw new RangeError(`${total} racers cannot be spread evenly over ${s.setup.relays} relays`);
  const runs: CommitRun[] = [];
  for (let round = 0; round < timing.rounds; round++) {
    const order = round % 2 === 0 ? setups : [...setups].reverse();
    for (const s of order) runs.push(await raceOnce(racers, s, total, bytes, timing, round));
  }
  const first = setups[0]?.setup.name;
  const summaries = setups.map((s): CommitSummary => {
    const mine = runs.filter((r) => r.setup === s.setup.name);
    const m = (f: (r: CommitRun) => number): number => median(mine.map(f));
    const sum = (f: (r: CommitRun) => number): number => mine.reduce((a, r) => a + f(r), 0);
    return {
      setup: s.setup.name,
      relays: s.setup.relays,
      racers: total,
      commitsPerSecond: m((r) => r.commitsPerSecond),
      vsAlone: median(
        mine.map((r) => {
          const a = runs.find((x) => x.setup === first && x.round === r.round);
          return a ? r.commitsPerSecond / a.commitsPerSecond : NaN;
        }),
      ),
      cpuUsPerCommit: m((r) => r.cpuUsPerCommit),
      p50: m((r) => r.p50),
      p99: m((r) => r.p99),
      ordered: mine.every((r) => r.ordered),
      epochs: sum((r) => r.epochs),
      winners: sum((r) => r.winners),
      stale: sum((r) => r.stale),
      problems: mine.flatMap((r) => (r.problem ? [r.problem] : [])),
    };
  });
  return { bytes, timing, setups: summaries, runs };
}
