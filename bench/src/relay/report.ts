/**
 * The relay section's tables on stdout (markdown, so they can go into the README as they are) and
 * the targets of issues 7 (against the ws baseline) and 14 (against uWebSockets.js) checked
 * against them.
 */
import type { RelayBench } from './index.js';
import { KIND_NAMES } from './kinds.js';
import { versus, type PairedResult, type Summary } from './throughput.js';

const k = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : n.toFixed(0);
const ms = (us: number): string => (Number.isNaN(us) ? '–' : (us / 1000).toFixed(us < 10_000 ? 2 : 0));
const pct = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 1)} %`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export type Target = { name: string; holds: boolean; detail: string };

const size = (bytes: number): string => (bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`);
/** Rounds in a comparison: one run of every relay each. */
const rounds = (s: PairedResult): number => s.runs.length / (s.rivals.length + 1);
const notes = (s: PairedResult): string =>
  `${s.generatorBound ? ' (generator-bound)' : ''}${s.contended ? ` (${s.contended}/${s.runs.length} runs contended)` : ''}`;

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
    if (!s) continue;
    const ws = versus(s, 'baseline');
    out.push({
      name: `${rooms}×${members} 256 B ≥ ${want}× baseline`,
      holds: ws.ratio >= want,
      detail: `${ws.ratio.toFixed(2)}×${notes(s)}; CPU per delivery ${(ws.cpuUsPerDelivery / s.ours.cpuUsPerDelivery).toFixed(1)}× lower`,
    });
  }
  // Issue 14: as fast as uWebSockets.js within 10 %, in every scenario, in the same run.
  for (const s of b.saturation) {
    const u = versus(s, 'uws');
    out.push({
      name: `${s.rooms}×${s.members} ${size(s.bytes)} ≥ 0.9× uWS`,
      holds: u.ratio >= 0.9,
      detail: `${u.ratio.toFixed(2)}×${notes(s)}; CPU per delivery ${s.ours.cpuUsPerDelivery.toFixed(3)} µs vs ${u.cpuUsPerDelivery.toFixed(3)} µs`,
    });
  }
  const lat = b.latency[0];
  if (lat) {
    const ws = versus(lat, 'baseline');
    out.push({
      name: 'p99 at 500 msg/s into 1×100 ≤ baseline',
      // Both readings must agree: the rounds' median ratio and the p99 of all deliveries merged.
      holds: ws.ratio <= 1 && lat.ours.p99 <= ws.p99,
      detail:
        `p99 ${ws.ratio.toFixed(2)}× the baseline's (median of ${rounds(lat)} rounds); ` +
        `all deliveries merged: ${ms(lat.ours.p99)} ms vs ${ms(ws.p99)} ms`,
    });
  }
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
  const rivals = b.saturation[0]?.rivals.map((v) => v.kind) ?? [];
  const names = rivals.map((k) => KIND_NAMES[k]);
  lines.push(
    `Saturation: ${b.window} messages in flight per room; median of ${b.timing.pairs} rounds (ours and ${names.join(', ')} in turn), ${b.timing.measureMs} ms each` +
      `${b.pinned ? '; each relay pinned to core 0, the generator to core 1' : ' (no taskset: not pinned)'}` +
      `; load average ${b.load.before.toFixed(1)} before, ${b.load.after.toFixed(1)} after.`,
    '',
    row([
      'rooms × members',
      'frame',
      'ours deliveries/s',
      ...names.map((n) => `${n} deliveries/s`),
      ...names.map((n) => `ours / ${n}`),
      'loss',
      'note',
    ]),
    row(Array<string>(5 + 2 * names.length).fill('---')),
  );
  for (const s of b.saturation)
    lines.push(
      row([
        `${s.rooms} × ${s.members}`,
        size(s.bytes),
        k(s.ours.perSecond),
        ...s.rivals.map((v) => k(v.perSecond)),
        ...s.rivals.map((v) => `${v.ratio.toFixed(2)}×`),
        pct(Math.max(s.ours.loss, ...s.rivals.map((v) => v.loss))),
        [s.generatorBound ? 'generator-bound' : '', s.contended ? `${s.contended}/${s.runs.length} runs contended` : '']
          .filter(Boolean)
          .join(', '),
      ]),
    );
  lines.push(
    '',
    'The same runs: relay CPU per delivery (µs, median over runs; of it in the kernel, in brackets) and p99 send-to-delivery latency (ms, all deliveries merged):',
    '',
    row([
      'rooms × members',
      'frame',
      'ours CPU µs',
      ...names.map((n) => `${n} CPU µs`),
      'ours p99 ms',
      ...names.map((n) => `${n} p99 ms`),
    ]),
    row(Array<string>(4 + 2 * names.length).fill('---')),
  );
  const cpu = (s: Summary): string => `${s.cpuUsPerDelivery.toFixed(3)} (${s.kernelUsPerDelivery.toFixed(3)})`;
  for (const s of b.saturation)
    lines.push(
      row([
        `${s.rooms} × ${s.members}`,
        size(s.bytes),
        cpu(s.ours),
        ...s.rivals.map(cpu),
        ms(s.ours.p99),
        ...s.rivals.map((v) => ms(v.p99)),
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
    for (const [name, s] of [['ours', l.ours] as const, ...l.rivals.map((v) => [KIND_NAMES[v.kind], v] as const)])
      lines.push(
        row([name, k(s.perSecond), ms(s.p50), ms(s.p99), ms(s.p999), s.cpuUsPerDelivery.toFixed(3), pct(s.loss)]),
      );
    const ratios = l.rivals.map((v) => `ours/${KIND_NAMES[v.kind]} ${v.ratio.toFixed(2)}`).join(', ');
    lines.push('', `p99, the median of ${rounds(l)} rounds' ratios: ${ratios}.`, '');
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
        KIND_NAMES[i.relay],
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
  lines.push('', 'Targets (issue 7: against the ws baseline; issue 14: against uWS):');
  for (const t of targets(b)) lines.push(`- ${t.holds ? 'holds' : 'SHORT'}: ${t.name} — ${t.detail}`);
  console.log(lines.join('\n'));
}
