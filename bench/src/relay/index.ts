/**
 * The relay section of `npm run bench`: saturation (a window of 16 messages in flight per room)
 * and latency (a fixed offered rate) for ours against two rivals, the plain ws baseline and
 * uWebSockets.js, side by side; then idle memory, accept rate and the connection hold. Returns everything for the JSON file and prints a table.
 */
import os from 'node:os';
import { hasTaskset, startGenerator, startRelay } from './procs.js';
import { paired, type PairedResult, type Scenario, type Timing } from './throughput.js';
import { idle, type HoldResult, type IdleResult } from './idle.js';
import { printRelayTables } from './report.js';
import { KIND_NAMES } from './kinds.js';

export type RelayBench = {
  pinned: boolean;
  /** 1-minute load average before and after: this machine is shared (2 cores). */
  load: { before: number; after: number };
  window: number;
  timing: Timing;
  saturation: PairedResult[];
  latency: PairedResult[];
  idle: IdleResult[];
  hold?: HoldResult;
};

export const WINDOW = 16;

export async function relayBench(quick: boolean): Promise<RelayBench> {
  const timing: Timing = quick
    ? { warmupMs: 300, measureMs: 700, pairs: 3 }
    : { warmupMs: 500, measureMs: 2_000, pairs: 5 };
  const shapes = [
    { rooms: 1, members: 10 },
    { rooms: 1, members: 100 },
    { rooms: 1, members: 1000 },
    { rooms: 1000, members: 5 },
  ];
  const sizes = quick ? [256] : [256, 4096];
  const scenarios: Scenario[] = sizes.flatMap((bytes) => shapes.map((s) => ({ ...s, bytes })));

  const loadBefore = os.loadavg()[0] ?? NaN;
  const gen = startGenerator();
  const ours = await startRelay('ours');
  const base = await startRelay('baseline');
  const uws = await startRelay('uws');
  const rivals = [base, uws];
  const stopAll = (): Promise<unknown> => Promise.all([ours.stop(), base.stop(), uws.stop()]);
  const saturation: PairedResult[] = [];
  const latency: PairedResult[] = [];
  let idleOut: Awaited<ReturnType<typeof idle>>;
  try {
    for (const sc of scenarios) {
      const r = await paired(gen, ours, rivals, sc, { mode: 'window', window: WINDOW }, timing);
      saturation.push(r);
      const ratios = r.rivals.map((v) => `ours/${KIND_NAMES[v.kind]} ${v.ratio.toFixed(2)}`).join(', ');
      console.error(`  saturation ${sc.rooms}×${sc.members} ${sc.bytes} B: ${ratios}`);
    }
    // Many short alternations: a stall of the shared machine is as likely to hit either relay.
    const latTiming: Timing = quick
      ? { warmupMs: 200, measureMs: 400, pairs: 6 }
      : { warmupMs: 300, measureMs: 600, pairs: 20 };
    const lat = await paired(
      gen,
      ours,
      rivals,
      { rooms: 1, members: 100, bytes: 256 },
      { mode: 'rate', rate: 500 },
      latTiming,
    );
    latency.push(lat);
    await stopAll();
    idleOut = quick ? await idle(gen, 5_000, 0) : await idle(gen, 10_000, 19_000);
  } finally {
    await stopAll();
    gen.send({ cmd: 'exit' });
    await gen.stop();
  }
  const out: RelayBench = {
    pinned: hasTaskset,
    load: { before: loadBefore, after: os.loadavg()[0] ?? NaN },
    window: WINDOW,
    timing,
    saturation,
    latency,
    idle: idleOut.idle,
  };
  if (idleOut.hold) out.hold = idleOut.hold;
  printRelayTables(out);
  return out;
}
