/**
 * The relay section's table on stdout (markdown, so it can go into the README as it is) and the
 * targets of issue 7 checked against it.
 */
import type { RelayBench } from './index.js';
import type { PairedResult } from './throughput.js';

const k = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : n.toFixed(0);
const ms = (us: number): string => (Number.isNaN(us) ? '–' : (us / 1000).toFixed(us < 10_000 ? 2 : 0));
const pct = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 1)} %`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export type Target = { name: string; holds: boolean; detail: string };

export function targets(b: RelayBench): Target[] {
  const sat = (rooms: number, members: number): PairedResult | undefined =>
    b.saturation.find((s) => s.rooms === rooms && s.members === members && s.bytes === 256);
  const out: Target[] = [];
  for (const [rooms, members, want] of [
    [1, 100, 5],
    [1, 1000, 3],
    [1000, 5, 1],
  ] as const) {
    const s = sat(rooms, members);
    if (s)
      out.push({
        name: `${rooms}×${members} 256 B ≥ ${want}× baseline`,
        holds: s.ratio >= want,
        detail:
          `${s.ratio.toFixed(2)}×${s.generatorBound ? ' (generator-bound)' : ''}` +
          `${s.contended ? ` (${s.contended}/${s.runs.length} runs contended)` : ''}; ` +
          `CPU per delivery ${(s.baseline.cpuUsPerDelivery / s.ours.cpuUsPerDelivery).toFixed(1)}× lower`,
      });
  }
  const lat = b.latency[0];
  if (lat)
    out.push({
      name: 'p99 at 500 msg/s into 1×100 ≤ baseline',
      // Both readings must agree: the pairs' median ratio and the p99 of all deliveries merged.
      holds: lat.ratio <= 1 && lat.ours.p99 <= lat.baseline.p99,
      detail:
        `p99 ${lat.ratio.toFixed(2)}× the baseline's (median of ${lat.runs.length / 2} pairs); ` +
        `all deliveries merged: ${ms(lat.ours.p99)} ms vs ${ms(lat.baseline.p99)} ms`,
    });
  const ours = b.idle.find((i) => i.relay === 'ours');
  if (ours)
    out.push({
      name: 'JS heap ≤ 3 KiB per idle connection',
      holds: ours.heapPerConnection <= 3072,
      detail: `${(ours.heapPerConnection / 1024).toFixed(2)} KiB`,
    });
  if (b.hold)
    out.push({
      name: `${b.hold.connections} connections held, relay answering`,
      holds: b.hold.held >= b.hold.connections && b.hold.answers,
      detail: `${b.hold.held} held, ${b.hold.answers ? 'answering' : 'NOT answering'}`,
    });
  return out;
}

export function printRelayTables(b: RelayBench): void {
  const lines: string[] = [];
  lines.push(
    `Saturation: ${b.window} messages in flight per room; median of ${b.timing.pairs} ours/baseline pairs, ${b.timing.measureMs} ms each` +
      `${b.pinned ? '; each relay pinned to core 0, the generator to core 1' : ' (no taskset: not pinned)'}` +
      `; load average ${b.load.before.toFixed(1)} before, ${b.load.after.toFixed(1)} after.`,
    '',
    row([
      'rooms × members',
      'frame',
      'ours deliveries/s',
      'baseline deliveries/s',
      'ours / baseline',
      'ours CPU µs/delivery',
      'baseline CPU µs/delivery',
      'ours p99 ms',
      'baseline p99 ms',
      'loss',
      'note',
    ]),
    row(Array<string>(11).fill('---')),
  );
  for (const s of b.saturation)
    lines.push(
      row([
        `${s.rooms} × ${s.members}`,
        s.bytes >= 1024 ? `${s.bytes / 1024} KiB` : `${s.bytes} B`,
        k(s.ours.perSecond),
        k(s.baseline.perSecond),
        `${s.ratio.toFixed(2)}×`,
        s.ours.cpuUsPerDelivery.toFixed(3),
        s.baseline.cpuUsPerDelivery.toFixed(3),
        ms(s.ours.p99),
        ms(s.baseline.p99),
        pct(Math.max(s.ours.loss, s.baseline.loss)),
        [s.generatorBound ? 'generator-bound' : '', s.contended ? `${s.contended}/${s.runs.length} runs contended` : '']
          .filter(Boolean)
          .join(', '),
      ]),
    );
  lines.push('');
  for (const l of b.latency) {
    const rate = l.mode.mode === 'rate' ? l.mode.rate : 0;
    lines.push(
      `Latency at ${rate} messages/s into ${l.rooms} × ${l.members} (${l.bytes} B), send to delivery, all deliveries:`,
      '',
      row(['relay', 'deliveries/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/delivery', 'loss']),
      row(Array<string>(7).fill('---')),
    );
    for (const [name, s] of [
      ['ours', l.ours],
      ['baseline', l.baseline],
    ] as const)
      lines.push(
        row([name, k(s.perSecond), ms(s.p50), ms(s.p99), ms(s.p999), s.cpuUsPerDelivery.toFixed(3), pct(s.loss)]),
      );
    lines.push('', `Ours/baseline p99, the median of ${l.runs.length / 2} pairs' ratios: ${l.ratio.toFixed(2)}.`, '');
  }
  lines.push(
    'Idle connections (rooms of 5):',
    '',
    row(['relay', 'connections', 'JS heap / connection', 'RSS / connection', 'accepted / s', 'answering']),
    row(Array<string>(6).fill('---')),
  );
  for (const i of b.idle)
    lines.push(
      row([
        i.relay,
        String(i.connections),
        `${(i.heapPerConnection / 1024).toFixed(2)} KiB`,
        `${(i.rssPerConnection / 1024).toFixed(2)} KiB`,
        k(i.acceptedPerSecond),
        i.answers ? 'yes' : 'no',
      ]),
    );
  if (b.hold)
    lines.push(
      '',
      `Held: ${b.hold.held} of ${b.hold.connections} connections on ours (default limits), relay ${b.hold.answers ? 'answering' : 'NOT answering'}.`,
    );
  lines.push('', 'Targets (issue 7):');
  for (const t of targets(b)) lines.push(`- ${t.holds ? 'holds' : 'SHORT'}: ${t.name} — ${t.detail}`);
  console.log(lines.join('\n'));
}
