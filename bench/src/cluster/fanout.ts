/**
 * Fan-out across a cluster: the same load (rooms × members, window or fixed rate) on each setup,
 * run in rounds by one generator, the setups' order reversed every other round, so that a stall
 * of this shared machine is as likely to hit any of them. For each run: deliveries per second,
 * and the CPU every server process of the setup used per delivery (its relays' and its Redis's,
 * from /proc over the measured window); latency for receivers on the publisher's relay and on
 * the others. Ratios to the first setup (one relay alone) are taken within each round.
 */
import { Histogram } from '../relay/histogram.js';
import { CONTENDED, GENERATOR_BOUND, median } from '../relay/throughput.js';
import type { ClusterRunResult, Latency } from './load-proc.js';
import type { ClusterGenerator } from './procs.js';
import { sample, since, type RunningSetup } from './setup.js';

export type Scenario = { rooms: number; members: number; bytes: number };
export type Mode = { mode: 'window'; window: number } | { mode: 'rate'; rate: number };
export type Timing = { warmupMs: number; measureMs: number; rounds: number };

type LatencySummary = Omit<Latency, 'hist'>;
export type FanoutRun = Omit<ClusterRunResult, 'local' | 'remote'> & {
  setup: string;
  round: number;
  local: LatencySummary;
  remote: LatencySummary;
  loss: number;
  closed: number;
  /** CPU over the window as a fraction of one core: the relays together, and Redis. */
  relayCpu: number;
  redisCpu: number;
  /** (relays' + Redis's CPU) / deliveries, and Redis's share of it. */
  cpuUsPerDelivery: number;
  redisUsPerDelivery: number;
  /** The relays' write and read system calls per message published (each to members − 1 receivers). */
  writesPerMessage: number;
  readsPerMessage: number;
  /** Messages per Redis script call (the engine batches a room's frames per relay per turn), and Redis's µs per call. */
  messagesPerBusCall: number;
  busUsPerCall: number;
  generatorBound: boolean;
  /** A window run in which the servers had < 80 % of their core and the generator was not the limit. */
  contended: boolean;
};
export type SetupSummary = {
  setup: string;
  relays: number;
  perSecond: number;
  cpuUsPerDelivery: number;
  redisUsPerDelivery: number;
  writesPerMessage: number;
  messagesPerBusCall: number;
  /** Medians over rounds of this setup's value / the first setup's in the same round. */
  vsAlone: { perSecond: number; cpuUsPerDelivery: number };
  local: LatencySummary;
  remote: LatencySummary;
  loss: number;
  generatorBound: boolean;
  contended: number;
};
export type FanoutResult = Scenario & { mode: Mode; timing: Timing; setups: SetupSummary[]; runs: FanoutRun[] };

async function runOnce(
  gen: ClusterGenerator,
  s: RunningSetup,
  tag: string,
  mode: Mode,
  timing: Timing,
  round: number,
): Promise<FanoutRun & { hists: [number[], number[]] }> {
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
  const s0 = await sample(s);
  const { result } = await gen.next('measured');
  const d = since(s0, await sample(s));
  const { loss, closed } = await gen.next('drained');
  const relayUs = d.relayUs;
  const redisUs = d.redisUs;
  const messages = result.messagesPerSecond * result.seconds;
  const serverCores = (relayUs + redisUs) / 1e6 / result.seconds;
  const { hist: localHist, ...local } = result.local;
  const { hist: remoteHist, ...remote } = result.remote;
  return {
    ...result,
    local,
    remote,
    hists: [localHist, remoteHist],
    setup: s.setup.name,
    round,
    loss,
    closed,
    relayCpu: relayUs / 1e6 / result.seconds,
    redisCpu: redisUs / 1e6 / result.seconds,
    cpuUsPerDelivery: result.deliveries > 0 ? (relayUs + redisUs) / result.deliveries : NaN,
    redisUsPerDelivery: result.deliveries > 0 ? redisUs / result.deliveries : NaN,
    writesPerMessage: messages > 0 ? d.relayWrites / messages : NaN,
    readsPerMessage: messages > 0 ? d.relayReads / messages : NaN,
    messagesPerBusCall: d.busCalls > 0 ? messages / d.busCalls : NaN,
    busUsPerCall: d.busCalls > 0 ? d.busUs / d.busCalls : NaN,
    generatorBound: result.genCpu >= GENERATOR_BOUND,
    contended: mode.mode === 'window' && serverCores < CONTENDED && result.genCpu < GENERATOR_BOUND,
  };
}

function merged(hists: number[][]): LatencySummary {
  const h = new Histogram();
  for (const counts of hists) h.merge(counts);
  return { deliveries: h.total, p50: h.quantile(0.5), p99: h.quantile(0.99), p999: h.quantile(0.999) };
}

/** Connects one client set per setup, then runs `timing.rounds` rounds over all setups. */
export async function fanout(
  gen: ClusterGenerator,
  setups: RunningSetup[],
  sc: Scenario,
  mode: Mode,
  timing: Timing,
): Promise<FanoutResult> {
  const tag = (s: RunningSetup): string => `${sc.rooms}x${sc.members}-${sc.bytes}-${mode.mode}-${s.setup.name}`;
  for (const s of setups) {
    gen.send({
      cmd: 'connect',
      spec: { tag: tag(s), targets: s.targets, rooms: sc.rooms, members: sc.members, bytes: sc.bytes, perAddress: 64 },
    });
    await gen.next('connected', 120_000);
  }
  const runs: (FanoutRun & { hists: [number[], number[]] })[] = [];
  for (let round = 0; round < timing.rounds; round++) {
    const order = round % 2 === 0 ? setups : [...setups].reverse();
    for (const s of order) runs.push(await runOnce(gen, s, tag(s), mode, timing, round));
  }
  for (const s of setups) gen.send({ cmd: 'drop', tag: tag(s) });
  const first = setups[0]?.setup.name;
  const of = (name: string | undefined, round: number) => runs.find((r) => r.setup === name && r.round === round);
  const summaries = setups.map((s): SetupSummary => {
    const mine = runs.filter((r) => r.setup === s.setup.name);
    const m = (f: (r: FanoutRun) => number): number => median(mine.map(f));
    const vs = (f: (r: FanoutRun) => number): number =>
      median(
        mine.map((r) => {
          const a = of(first, r.round);
          return a ? f(r) / f(a) : NaN;
        }),
      );
    return {
      setup: s.setup.name,
      relays: s.setup.relays,
      perSecond: m((r) => r.perSecond),
      cpuUsPerDelivery: m((r) => r.cpuUsPerDelivery),
      redisUsPerDelivery: m((r) => r.redisUsPerDelivery),
      writesPerMessage: m((r) => r.writesPerMessage),
      messagesPerBusCall: m((r) => r.messagesPerBusCall),
      vsAlone: { perSecond: vs((r) => r.perSecond), cpuUsPerDelivery: vs((r) => r.cpuUsPerDelivery) },
      local: merged(mine.map((r) => r.hists[0])),
      remote: merged(mine.map((r) => r.hists[1])),
      loss: Math.max(...mine.map((r) => r.loss)),
      generatorBound: mine.some((r) => r.generatorBound),
      contended: mine.filter((r) => r.contended).length,
    };
  });
  // The histograms are merged above; not kept in the JSON.
  return { ...sc, mode, timing, setups: summaries, runs: runs.map(({ hists: _hists, ...r }) => r) };
}
