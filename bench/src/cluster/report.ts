/**
 * The cluster section's tables on stdout (markdown, so they can go into a results note as they are).
 */
import type { ClusterBench } from './index.js';
import type { FanoutResult, SetupSummary } from './fanout.js';

const k = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)} k` : n.toFixed(0);
const ms = (us: number): string => (Number.isNaN(us) ? '–' : (us / 1000).toFixed(us < 10_000 ? 2 : 0));
const x = (r: number): string => (Number.isNaN(r) ? '–' : `${r.toFixed(2)}×`);
const us = (n: number): string => (Number.isNaN(n) ? '–' : n.toFixed(n < 10 ? 2 : 0));
const pct = (f: number): string => `${(f * 100).toFixed(f > 0 && f < 0.001 ? 3 : 1)} %`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function notes(s: SetupSummary, runs: number): string {
  const out: string[] = [];
  if (s.generatorBound) out.push('generator-bound');
  if (s.contended > 0) out.push(`${s.contended}/${runs} runs contended`);
  if (s.loss > 0) out.push(`loss ${pct(s.loss)}`);
  return out.join(', ');
}

function saturationRows(r: FanoutResult): string[] {
  return r.setups.map((s) =>
    row([
      `${r.rooms}×${r.members}`,
      s.setup,
      k(s.perSecond),
      x(s.vsAlone.perSecond),
      us(s.cpuUsPerDelivery),
      s.redisUsPerDelivery > 0 ? us(s.redisUsPerDelivery) : '–',
      x(s.vsAlone.cpuUsPerDelivery),
      Number.isNaN(s.messagesPerBusCall) ? '–' : s.messagesPerBusCall.toFixed(1),
      s.writesPerMessage.toFixed(2),
      notes(s, r.timing.rounds),
    ]),
  );
}

export function clusterTables(b: ClusterBench): string {
  const lines: string[] = [];
  const sat = b.saturation[0];
  lines.push(
    `On ${b.machine}, ${b.pinned ? 'the relays and their Redis pinned to core 0, the generator to core 1' : 'not pinned (no taskset)'}` +
      `; load average ${b.load.before.toFixed(1)} before, ${b.load.after.toFixed(1)} after. On 2 cores the relays, Redis and the` +
      ' generator share the CPU, so throughput cannot scale with relays here: CPU per delivery (every relay of the setup + its Redis,' +
      ' from /proc, per frame delivered) is the honest number, and its ratio to one relay alone is what a second or third relay costs.',
    '',
    `Fan-out at saturation: ${sat?.mode.mode === 'window' ? sat.mode.window : '?'} messages in flight per room, ${sat?.bytes ?? '?'} B;` +
      ` members round-robin over the relays (member m of room r on relay (r + m) mod N); median of ${sat?.timing.rounds ?? '?'} rounds,` +
      ` ${sat?.timing.measureMs ?? '?'} ms each; ratios to one relay alone taken within each round. Messages per Redis call: the engine's` +
      ' batching (one script call per room per relay per turn); relay writes per message: write system calls of all relays (/proc/<pid>/io)' +
      ' per message published. Contended: the servers had < 80 % of their core and the generator was not the limit (other processes had it).',
    '',
    row([
      'rooms × members',
      'setup',
      'deliveries/s',
      'vs alone',
      'CPU µs/delivery',
      'of it Redis',
      'vs alone',
      'messages per Redis call',
      'relay writes per message',
      'notes',
    ]),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
    ...b.saturation.flatMap(saturationRows),
  );
  const lat = b.latency;
  lines.push(
    '',
    `Latency at ${lat.mode.mode === 'rate' ? lat.mode.rate : '?'} msg/s into ${lat.rooms}×${lat.members} (${lat.bytes} B), the sender on the first relay;` +
      ` every delivery of ${lat.timing.rounds} rounds of ${lat.timing.measureMs} ms merged per setup. Compare receivers on the` +
      " sender's relay with those on another relay within a setup; across setups, on a shared machine, p50 also depends on how the" +
      ' scheduler treats the pinned processes. At this rate each Redis call carries one or two messages: the per-call cost is per message.',
    '',
    row([
      'setup',
      "on the sender's relay p50 / p99 ms",
      'on another relay p50 / p99 ms',
      'deliveries (same / other)',
      'CPU µs/delivery',
      'vs alone',
      'messages per Redis call',
      'loss',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...lat.setups.map((s) =>
      row([
        s.setup,
        `${ms(s.local.p50)} / ${ms(s.local.p99)}`,
        s.remote.deliveries > 0 ? `${ms(s.remote.p50)} / ${ms(s.remote.p99)}` : '–',
        `${k(s.local.deliveries)} / ${k(s.remote.deliveries)}`,
        us(s.cpuUsPerDelivery),
        x(s.vsAlone.cpuUsPerDelivery),
        Number.isNaN(s.messagesPerBusCall) ? '–' : s.messagesPerBusCall.toFixed(1),
        pct(s.loss),
      ]),
    ),
  );
  const c = b.commits;
  lines.push(
    '',
    `Commits in one room: ${c.setups[0]?.racers ?? '?'} members (spread evenly over the relays) race a signed ${c.bytes} B commit for each epoch,` +
      ` one in flight each; median of ${c.timing.rounds} rounds of ${c.timing.measureMs} ms, a fresh room each.` +
      ' Alone the relay orders in memory; in a cluster every commit goes through the Lua script and is applied when the bus delivers it.',
    '',
    row(['setup', 'commits/s', 'vs alone', 'send → ack p50 / p99 ms', 'CPU µs/commit', 'one winner per epoch']),
    row(['---', '---:', '---:', '---:', '---:', '---']),
    ...c.setups.map((s) =>
      row([
        s.setup,
        k(s.commitsPerSecond),
        x(s.vsAlone),
        `${ms(s.p50)} / ${ms(s.p99)}`,
        us(s.cpuUsPerCommit),
        s.ordered
          ? `yes: ${s.winners} winners = ${s.epochs} epochs (${s.stale} nacked stale)`
          : `NO: ${s.problems.join('; ')}`,
      ]),
    ),
  );
  return lines.join('\n');
}

export function printClusterTables(b: ClusterBench): void {
  console.log(clusterTables(b));
}
