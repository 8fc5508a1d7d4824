/**
 * A/B (/C...) of builds of our relay, for one change at a time: the relay process of each given
 * checkout (a tree with its own `npm run build` and node_modules) under the same generator, one
 * run of each per round, in an order that turns each round (a rotation, mirrored every other
 * round: every build runs first, last and between equally often), pinned as the bench pins them.
 * Prints, per scenario, each build's medians and the median over rounds of its ratio to the first
 * build, in CPU per delivery and in deliveries per second.
 *
 *   node --import tsx bench/src/relay/ab.ts DIR_A DIR_B [DIR_C ...] [--shape 1000x5,1x100]
 *        [--bytes 256] [--rounds 9] [--measure-ms 2000] [--warmup-ms 500]
 *
 * A directory may carry Node options for its relay after `::` (`DIR::--max-semi-space-size=64`).
 *
 * `--together`: the builds run at the same time instead of in turn, each with a generator of its
 * own (relays all on core 0, generators all on core 1): whatever else the machine runs then weighs
 * on every build alike, in every round. The relays share a core, so the rates are each a share;
 * CPU per delivery is the reading.
 *
 * On a shared machine the rates of contended runs (throughput.ts: the relay had under 80 % of its
 * core while the generator was not the limit) say little; CPU per delivery says more, and each
 * round's relay share of a core is printed. The relay runs as in the bench (server-proc.ts,
 * BENCH_LIMITS). Not part of `npm run bench`.
 */
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startGenerator, startRelay, type Generator, type Relay } from './procs.js';
import { median, runOnce, type Run, type Scenario, type Timing } from './throughput.js';
import { WINDOW } from './index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    shape: { type: 'string', default: '1000x5' },
    bytes: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '9' },
    'measure-ms': { type: 'string', default: '2000' },
    'warmup-ms': { type: 'string', default: '500' },
    together: { type: 'boolean', default: false },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} expected a positive integer, got ${String(raw)}`);
  return n;
}

if (positionals.length < 2) throw new Error(`expected two or more checkout directories, got ${positionals.length}`);
const builds = positionals.map((arg, i) => {
  const [dir = '', flags = ''] = arg.split('::');
  const file = resolve(dir, 'bench/src/relay/server-proc.ts');
  if (!existsSync(file)) throw new Error(`${dir}: no ${file}`);
  return { name: String.fromCharCode(65 + i), file, nodeArgs: flags.split(' ').filter(Boolean) };
});
const timing: Timing = {
  warmupMs: positive('warmup-ms', values['warmup-ms']),
  measureMs: positive('measure-ms', values['measure-ms']),
  pairs: positive('rounds', values.rounds),
};
const bytes = values.bytes.split(',').map((b) => positive('bytes', b));
const scenarios: Scenario[] = values.shape.split(',').flatMap((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`--shape expected ROOMSxMEMBERS, got ${s}`);
  return bytes.map((b) => ({ rooms: Number(m[1]), members: Number(m[2]), bytes: b }));
});

/** Round `p`'s order of `k` builds: rotated by p/2, reversed on odd rounds. */
function abOrder(k: number, p: number): number[] {
  const rot = Array.from({ length: k }, (_, i) => (i + Math.floor(p / 2)) % k);
  return p % 2 === 0 ? rot : rot.reverse();
}

async function connect(gen: Generator, relay: Relay, tag: string, sc: Scenario): Promise<void> {
  gen.send({ cmd: 'connect', spec: { tag, protocol: 'ours', target: relay.ready, ...sc, perAddress: 64 } });
  await gen.next('connected');
}

async function main(): Promise<void> {
  for (const b of builds)
    console.log(`${b.name} ${b.file}${b.nodeArgs.length ? ` (node ${b.nodeArgs.join(' ')})` : ''}`);
  console.log(`load average ${os.loadavg()[0]?.toFixed(1)}; ${timing.pairs} rounds of ${timing.measureMs} ms`);
  const together = values.together;
  const gens: Generator[] = together ? builds.map(() => startGenerator()) : [startGenerator()];
  const genOf = (i: number): Generator => (together ? gens[i] : gens[0]) as Generator;
  const relays: Relay[] = [];
  try {
    for (const b of builds) relays.push(await startRelay('ours', false, b.file, b.nodeArgs));
    for (const sc of scenarios) {
      const tag = `${sc.rooms}x${sc.members}-${sc.bytes}`;
      for (const [i, relay] of relays.entries()) await connect(genOf(i), relay, `${tag}-${i}`, sc);
      const runs: Run[][] = builds.map(() => []);
      const cpu: number[][] = builds.map(() => []);
      const rate: number[][] = builds.map(() => []);
      for (let p = 0; p < timing.pairs; p++) {
        const mode = { mode: 'window', window: WINDOW } as const;
        const round: Run[] = [];
        if (together)
          round.push(
            ...(await Promise.all(relays.map((relay, i) => runOnce(genOf(i), relay, `${tag}-${i}`, mode, timing)))),
          );
        else
          for (const i of abOrder(builds.length, p))
            round[i] = await runOnce(genOf(i), relays[i] as Relay, `${tag}-${i}`, mode, timing);
        const ref = round[0] as Run;
        round.forEach((r, i) => {
          runs[i]?.push(r);
          cpu[i]?.push(r.cpuUsPerDelivery / ref.cpuUsPerDelivery);
          rate[i]?.push(r.perSecond / ref.perSecond);
        });
        console.error(
          `  ${tag} round ${p + 1}: ` +
            round
              .map(
                (r, i) =>
                  `${builds[i]?.name} ${r.cpuUsPerDelivery.toFixed(3)} µs ${(r.perSecond / 1e3).toFixed(0)} k/s ${(r.serverCpu * 100).toFixed(0)} %`,
              )
              .join(', '),
        );
      }
      for (const i of relays.keys()) genOf(i).send({ cmd: 'drop', tag: `${tag}-${i}` });
      const all = runs.flat();
      console.log(
        `${sc.rooms}×${sc.members} ${sc.bytes} B, ${timing.pairs} rounds, ${all.filter((r) => r.contended).length}/${all.length} runs contended` +
          `${all.some((r) => r.generatorBound) ? ', some generator-bound' : ''}:`,
      );
      builds.forEach((b, i) => {
        const m = (f: (r: Run) => number): number => median((runs[i] ?? []).map(f));
        console.log(
          `  ${b.name}: CPU/delivery ${m((r) => r.cpuUsPerDelivery).toFixed(3)} µs (kernel ${m((r) => r.kernelUsPerDelivery).toFixed(3)})` +
            `${i > 0 ? `, ${b.name}/A median ${median(cpu[i] ?? []).toFixed(3)} (cheaper in ${(cpu[i] ?? []).filter((x) => x < 1).length} of ${timing.pairs} rounds)` : ''}; ` +
            `${(m((r) => r.perSecond) / 1e3).toFixed(0)} k deliveries/s${i > 0 ? `, ${b.name}/A median ${median(rate[i] ?? []).toFixed(3)}` : ''}`,
        );
      });
    }
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
    for (const gen of gens) gen.send({ cmd: 'exit' });
    await Promise.all(gens.map((gen) => gen.stop()));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
