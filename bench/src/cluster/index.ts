/**
 * The cluster section of `npm run bench` (issue 14: several relays share rooms through Redis):
 * one relay alone against one, two and three relays sharing one Redis —
 * 1. fan-out at saturation: deliveries/s and CPU per delivery (relays + Redis), 1×100 and 100×10;
 * 2. latency at 500 msg/s into 1×100: receivers on the sender's relay against those on others;
 * 3. commits one room can order (members on two relays racing for each epoch; exactly one
 *    winner per epoch, checked) against one relay alone.
 * Every setup runs at once, idle between its turns, so that rounds can alternate between them.
 */
import os from 'node:os';
import { commitBench, type CommitBench, type CommitTiming } from './commits.js';
import { fanout, type FanoutResult, type Timing } from './fanout.js';
import { hasTaskset, startClusterGenerator, startRacers, type ClusterGenerator, type Racers } from './procs.js';
import { printClusterTables } from './report.js';
import { ALONE, clustered, startSetup, type RunningSetup, type Setup } from './setup.js';

export type ClusterBench = {
  machine: string;
  pinned: boolean;
  /** 1-minute load average before and after: this machine is shared (2 cores). */
  load: { before: number; after: number };
  setups: Setup[];
  saturation: FanoutResult[];
  latency: FanoutResult;
  commits: CommitBench;
  seconds: number;
};

export const WINDOW = 16;
/** Racers per commit run: spread evenly over one or two relays. */
const RACERS = 4;

export async function clusterBench(quick: boolean): Promise<ClusterBench> {
  const t0 = performance.now();
  const saturationTiming: Timing = quick
    ? { warmupMs: 300, measureMs: 700, rounds: 3 }
    : { warmupMs: 500, measureMs: 2_000, rounds: 5 };
  // Many short rounds: a stall of the shared machine then spoils one run, not a setup.
  const latencyTiming: Timing = quick
    ? { warmupMs: 200, measureMs: 400, rounds: 6 }
    : { warmupMs: 300, measureMs: 600, rounds: 12 };
  const commitTiming: CommitTiming = quick
    ? { warmupMs: 300, measureMs: 1_000, rounds: 3 }
    : { warmupMs: 500, measureMs: 2_000, rounds: 5 };
  const shapes = [
    { rooms: 1, members: 100, bytes: 256 },
    { rooms: 100, members: 10, bytes: 256 },
  ];
  const setups = [ALONE, clustered(1), clustered(2), clustered(3)];
  const cpu = os.cpus()[0]?.model ?? '?';
  const loadBefore = os.loadavg()[0] ?? NaN;

  const running: RunningSetup[] = [];
  let gen: ClusterGenerator | undefined;
  let racers: Racers | undefined;
  try {
    for (const s of setups) running.push(await startSetup(s));
    gen = startClusterGenerator();
    const saturation: FanoutResult[] = [];
    for (const sc of shapes) {
      const r = await fanout(gen, running, sc, { mode: 'window', window: WINDOW }, saturationTiming);
      saturation.push(r);
      console.error(
        `  saturation ${sc.rooms}×${sc.members} ${sc.bytes} B: CPU per delivery vs alone ` +
          r.setups.map((s) => `${s.setup} ${s.vsAlone.cpuUsPerDelivery.toFixed(2)}×`).join(', '),
      );
    }
    const latency = await fanout(
      gen,
      running,
      { rooms: 1, members: 100, bytes: 256 },
      { mode: 'rate', rate: 500 },
      latencyTiming,
    );
    gen.send({ cmd: 'exit' });
    await gen.stop();
    gen = undefined;
    // The epoch keys a run may need, made before the first race (about 80 µs each).
    racers = await startRacers(quick ? 4_000 : 8_000);
    const commitSetups = running.filter((s) => RACERS % s.setup.relays === 0 && s.setup.relays <= 2);
    const commits = await commitBench(racers, commitSetups, RACERS, 512, commitTiming);
    const out: ClusterBench = {
      machine: `${os.cpus().length} × ${cpu}, Node ${process.version}`,
      pinned: hasTaskset,
      load: { before: loadBefore, after: os.loadavg()[0] ?? NaN },
      setups,
      saturation,
      latency,
      commits,
      seconds: (performance.now() - t0) / 1000,
    };
    printClusterTables(out);
    return out;
  } finally {
    if (gen) {
      gen.send({ cmd: 'exit' });
      await gen.stop();
    }
    if (racers) {
      racers.send({ cmd: 'exit' });
      await racers.stop();
    }
    await Promise.all(running.map((s) => s.stop()));
  }
}
