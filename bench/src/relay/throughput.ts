/**
 * Fan-out throughput and latency, ours against the rival relays (the plain ws baseline and
 * uWebSockets.js), run in turn by one generator (`roundOrder`), every relay pinned to the same core. For each run: deliveries per second, the
 * relay's CPU µs per delivery (process.cpuUsage in the relay process over the measured window),
 * latency percentiles, loss, and whether the generator was the bottleneck (≥ 95 % of a core).
 */
import type { Generator, Relay } from './procs.js';
import type { ServerKind } from './kinds.js';
import { relayCpu } from './procs.js';
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
  /** The part of it spent in the kernel (system calls: writing to and reading from sockets). */
  kernelUsPerDelivery: number;
  generatorBound: boolean;
  /** Saturation run in which neither the relay (< 80 % of its core) nor the generator was the
   *  limit: time went to other processes on this shared machine. Its rate understates. */
  contended: boolean;
};
/** A rival relay's side of a comparison. */
export type Versus = Summary & {
  kind: ServerKind;
  /** The median over rounds of ours/this rival: deliveries per second (saturation), or each
   *  run's p99 (latency: a stall of the shared machine then spoils one round, not the whole
   *  comparison). */
  ratio: number;
};
export type PairedResult = Scenario & {
  mode: Mode;
  runs: Run[];
  ours: Summary;
  /** One per rival relay (the plain ws baseline, uWebSockets.js), in the order given. */
  rivals: Versus[];
  generatorBound: boolean;
  /** Runs (of relays × rounds) that were contended (see Run). */
  contended: number;
};
export type Summary = {
  perSecond: number;
  cpuUsPerDelivery: number;
  kernelUsPerDelivery: number;
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
 * run it fell in. (The ratios, `paired`, are the other reading: the median over rounds.)
 */
function summarise(runs: Run[]): Summary {
  const m = (f: (r: Run) => number): number => median(runs.map(f));
  const merged = new Histogram();
  for (const r of runs) merged.merge(r.hist);
  return {
    perSecond: m((r) => r.perSecond),
    cpuUsPerDelivery: m((r) => r.cpuUsPerDelivery),
    kernelUsPerDelivery: m((r) => r.kernelUsPerDelivery),
    p50: merged.quantile(0.5),
    p99: merged.quantile(0.99),
    p999: merged.quantile(0.999),
    loss: Math.max(...runs.map((r) => r.loss)),
  };
}

export async function runOnce(gen: Generator, relay: Relay, tag: string, mode: Mode, timing: Timing): Promise<Run> {
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
  const cpu0 = await relayCpu(relay);
  const { result } = await gen.next('measured');
  const cpu1 = await relayCpu(relay);
  const { loss, closed } = await gen.next('drained');
  const kernelUs = cpu1.system - cpu0.system;
  const cpuUs = cpu1.user - cpu0.user + kernelUs;
  return {
    ...result,
    loss,
    closed,
    relay: relay.kind,
    serverCpu: cpuUs / 1e6 / result.seconds,
    cpuUsPerDelivery: result.deliveries > 0 ? cpuUs / result.deliveries : NaN,
    kernelUsPerDelivery: result.deliveries > 0 ? kernelUs / result.deliveries : NaN,
    generatorBound: result.genCpu >= GENERATOR_BOUND,
    contended: mode.mode === 'window' && cpuUs / 1e6 / result.seconds < CONTENDED && result.genCpu < GENERATOR_BOUND,
  };
}

/**
 * The order of one round: ours in the middle, the rivals on either side of it, every other round
 * mirrored ([ws, ours, uws], then [uws, ours, ws]). Each ratio then compares two runs next to each
 * other in time (the machine is shared; its load drifts), ours runs before a rival in half the
 * rounds and after it in the other half, and over two rounds every relay's mean position is the
 * same, so a steady drift of the machine's load cancels out of every comparison. (A rotation,
 * [a, b, c] [b, c, a] [c, a, b], puts ours two runs away from one rival in two rounds of three
 * and, over an odd number of rounds, first more often than last.) With one rival it is the
 * plain A B, B A alternation.
 */
export function roundOrder<T>(ours: T, rivals: readonly T[], round: number): T[] {
  const half = Math.floor(rivals.length / 2);
  const order = [...rivals.slice(0, half), ours, ...rivals.slice(half)];
  return round % 2 === 0 ? order : order.reverse();
}

/**
 * Connects one client set per relay, then runs `timing.pairs` rounds (`roundOrder`): one run of
 * each relay per round, the ratios of ours to each rival taken within the round.
 */
export async function paired(
  gen: Generator,
  ours: Relay,
  rivals: readonly Relay[],
  sc: Scenario,
  mode: Mode,
  timing: Timing,
): Promise<PairedResult> {
  if (ours.kind !== 'ours' || rivals.length === 0 || rivals.some((r) => r.kind === 'ours'))
    throw new Error(`paired expects ours and at least one rival, got ${ours.kind} and [${rivals.map((r) => r.kind).join(', ')}]`);
  const tag = `${sc.rooms}x${sc.members}-${sc.bytes}-${mode.mode}`;
  const relays = [ours, ...rivals];
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
  const ratios = new Map<ServerKind, number[]>(rivals.map((r) => [r.kind, []]));
  for (let p = 0; p < timing.pairs; p++) {
    const round: Run[] = [];
    for (const relay of roundOrder(ours, rivals, p)) round.push(await runOnce(gen, relay, `${tag}-${relay.kind}`, mode, timing));
    runs.push(...round);
    const a = round.find((r) => r.relay === 'ours') as Run;
    for (const rival of rivals) {
      const b = round.find((r) => r.relay === rival.kind) as Run;
      ratios.get(rival.kind)?.push(mode.mode === 'window' ? a.perSecond / b.perSecond : a.p99 / b.p99);
    }
  }
  for (const relay of relays) gen.send({ cmd: 'drop', tag: `${tag}-${relay.kind}` });
  const oursSummary = summarise(runs.filter((r) => r.relay === 'ours'));
  const versus = rivals.map((rival) => ({
    ...summarise(runs.filter((r) => r.relay === rival.kind)),
    kind: rival.kind,
    ratio: median(ratios.get(rival.kind) ?? []),
  }));
  for (const r of runs) r.hist = []; // merged above; not kept in the JSON
  return {
    ...sc,
    mode,
    runs,
    ours: oursSummary,
    rivals: versus,
    generatorBound: runs.some((r) => r.generatorBound),
    contended: runs.filter((r) => r.contended).length,
  };
}

/** `kind`'s side of a comparison; throws if it was not run (a bench bug, not a result). */
export function versus(r: PairedResult, kind: ServerKind): Versus {
  const v = r.rivals.find((x) => x.kind === kind);
  if (!v) throw new Error(`no ${kind} runs in ${r.rooms}×${r.members} ${r.bytes} B`);
  return v;
}
