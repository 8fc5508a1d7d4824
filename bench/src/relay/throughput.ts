/**
 * Fan-out throughput and latency, ours against the baseline, run alternately (A B A B ...) by
 * one generator, both relays pinned to the same core. For each run: deliveries per second, the
 * relay's CPU µs per delivery (process.cpuUsage in the relay process over the measured window),
 * latency percentiles, loss, and whether the generator was the bottleneck (≥ 95 % of a core).
 */
import type { Generator, Relay } from './procs.js';
import { relayCpuUs } from './procs.js';
import type { Protocol, RunResult } from './load-proc.js';
import { Histogram } from './histogram.js';

export type Scenario = { rooms: number; members: number; bytes: number };
export type Mode = { mode: 'window'; window: number } | { mode: 'rate'; rate: number };
export type Timing = { warmupMs: number; measureMs: number; pairs: number };

export type Run = RunResult & {
  relay: Protocol;
  /** The relay's CPU time over the window, as a fraction of one core. */
  serverCpu: number;
  cpuUsPerDelivery: number;
  generatorBound: boolean;
  /** Saturation run in which neither the relay (< 80 % of its core) nor the generator was the
   *  limit: time went to other processes on this shared machine. Its rate understates. */
  contended: boolean;
};
export type PairedResult = Scenario & {
  mode: Mode;
  runs: Run[];
  ours: Summary;
  baseline: Summary;
  /** The median over pairs of ours/baseline: deliveries per second (saturation), or each run's p99
   *  (latency: a stall of the shared machine then spoils one pair, not the whole comparison). */
  ratio: number;
  generatorBound: boolean;
  /** Runs (of 2 × pairs) that were contended (see Run). */
  contended: number;
};
export type Summary = {
  perSecond: number;
  cpuUsPerDelivery: number;
  p50: number;
  p99: number;
  p999: number;
  loss: number;
};

export const GENERATOR_BOUND = 0.95;
export const CONTENDED = 0.8;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

/**
 * Rates and CPU: the median over runs. Latency: the percentiles of all runs' deliveries merged,
 * so that a stall of the shared machine weighs on a relay by how long it lasted, not by which
 * run it fell in. (The pair's ratio, `paired`, is the other reading: the median over pairs.)
 */
function summarise(runs: Run[]): Summary {
  const m = (f: (r: Run) => number): number => median(runs.map(f));
  const merged = new Histogram();
  for (const r of runs) merged.merge(r.hist);
  return {
    perSecond: m((r) => r.perSecond),
    cpuUsPerDelivery: m((r) => r.cpuUsPerDelivery),
    p50: merged.quantile(0.5),
    p99: merged.quantile(0.99),
    p999: merged.quantile(0.999),
    loss: Math.max(...runs.map((r) => r.loss)),
  };
}

async function runOnce(gen: Generator, relay: Relay, tag: string, mode: Mode, timing: Timing): Promise<Run> {
  gen.send({
    cmd: 'run',
    spec: {
      tag,
      mode: mode.mode,
      window: mode.mode === 'window' ? mode.window : 0,
      rate: mode.mode === 'rate' ? mode.rate : 0,
      warmupMs: timing.warmupMs,
      measureMs: timing.measureMs,
    },
  });
  await gen.next('measuring');
  const cpu0 = await relayCpuUs(relay);
  const { result } = await gen.next('measured');
  const cpu1 = await relayCpuUs(relay);
  const { loss, closed } = await gen.next('drained');
  const cpuUs = cpu1 - cpu0;
  return {
    ...result,
    loss,
    closed,
    relay: relay.kind,
    serverCpu: cpuUs / 1e6 / result.seconds,
    cpuUsPerDelivery: result.deliveries > 0 ? cpuUs / result.deliveries : NaN,
    generatorBound: result.genCpu >= GENERATOR_BOUND,
    contended: mode.mode === 'window' && cpuUs / 1e6 / result.seconds < CONTENDED && result.genCpu < GENERATOR_BOUND,
  };
}

/** Connects one client set per relay, then runs `timing.pairs` pairs, alternating which goes first. */
export async function paired(
  gen: Generator,
  ours: Relay,
  base: Relay,
  sc: Scenario,
  mode: Mode,
  timing: Timing,
): Promise<PairedResult> {
  const tag = `${sc.rooms}x${sc.members}-${sc.bytes}-${mode.mode}`;
  const relays = [ours, base];
  for (const relay of relays) {
    gen.send({
      cmd: 'connect',
      spec: {
        tag: `${tag}-${relay.kind}`,
        protocol: relay.kind,
        target: relay.ready,
        rooms: sc.rooms,
        members: sc.members,
        bytes: sc.bytes,
        perAddress: 64,
      },
    });
    await gen.next('connected');
  }
  const runs: Run[] = [];
  const ratios: number[] = [];
  for (let p = 0; p < timing.pairs; p++) {
    const order = p % 2 === 0 ? relays : [...relays].reverse();
    const pair: Run[] = [];
    for (const relay of order) pair.push(await runOnce(gen, relay, `${tag}-${relay.kind}`, mode, timing));
    runs.push(...pair);
    const a = pair.find((r) => r.relay === 'ours') as Run;
    const b = pair.find((r) => r.relay === 'baseline') as Run;
    ratios.push(mode.mode === 'window' ? a.perSecond / b.perSecond : a.p99 / b.p99);
  }
  for (const relay of relays) gen.send({ cmd: 'drop', tag: `${tag}-${relay.kind}` });
  const ours_ = summarise(runs.filter((r) => r.relay === 'ours'));
  const base_ = summarise(runs.filter((r) => r.relay === 'baseline'));
  for (const r of runs) r.hist = []; // merged above; not kept in the JSON
  return {
    ...sc,
    mode,
    runs,
    ours: ours_,
    baseline: base_,
    ratio: median(ratios),
    generatorBound: runs.some((r) => r.generatorBound),
    contended: runs.filter((r) => r.contended).length,
  };
}
