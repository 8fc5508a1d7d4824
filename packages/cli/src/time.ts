/**
 * `safehouse time [--server HOST:PORT:BASE64KEY]... [--json]`: asks Roughtime servers over UDP
 * (the built-in public list, or the ones given), with chained nonces, twice round (RFC 10049
 * §8.2), and prints each verified midpoint and radius, the bounds a quorum agrees on, and any
 * malfeasance with its §8.4 JSON report. Exit 0 when a quorum agreed; 3 (transport) when fewer
 * servers agreed than required, or none answered (docs/cli.md).
 */
import { TransportError, UsageError } from '@safehouse/core/protocol';
import { boundsAt, measure, type MeasuredLink, type MeasureResult } from '@safehouse/core/roughtime';
import { EXIT, exitCodeFor, reportError } from './exit.js';
import { chooseTimeServers } from './roughtime/servers.js';
import { udpQuery } from './roughtime/udp.js';

export interface TimeOptions {
  server?: string[];
  json?: boolean;
  quorum?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

function describeLink(l: MeasuredLink): Record<string, unknown> {
  const base = { name: l.server.name, address: l.server.address ?? null, rttMs: Math.round(l.receivedAt - l.sentAt) };
  if (l.outcome.kind === 'unreachable') return { ...base, ok: false, code: l.outcome.code, detail: l.outcome.detail };
  const r = l.outcome.result;
  if (!r.ok) return { ...base, ok: false, code: r.code, detail: r.detail };
  const version = r.reply.version === 0 ? 'google' : hex(r.reply.version);
  if (r.kind === 'unusable') return { ...base, ok: false, valid: true, code: r.code, detail: r.detail, version };
  const midpointMs = (r.interval.earliestMs + r.interval.latestMs) / 2;
  return { ...base, ok: true, midpointMs, radiusMs: (r.interval.latestMs - r.interval.earliestMs) / 2, version };
}

function print(json: boolean, res: MeasureResult, from: string, now: number): void {
  const out = (o: Record<string, unknown>, line: string): void => void process.stdout.write((json ? JSON.stringify(o) : line) + '\n');
  if (!json) process.stdout.write(`Roughtime: ${res.links.length / 2} servers (${from}), asked twice with chained nonces\n`);
  for (const l of res.links) {
    const d = describeLink(l);
    const line = d.ok
      ? `  ${String(d.name)}: ${iso(d.midpointMs as number)} ±${((d.radiusMs as number) / 1000).toFixed(3)} s (${String(d.version)}, ${String(d.rttMs)} ms)`
      : `  ${String(d.name)}: ${d.valid ? 'signed but unusable' : 'no verified time'}: ${String(d.detail)} (${String(d.code)})`;
    out({ type: 'server', ...d }, line);
  }
  if (res.ok) {
    const b = boundsAt(res.bounds, now);
    const agreeing = [...new Set(res.agreeing.map((i) => res.links[i]?.server.name))];
    out(
      { type: 'bounds', earliestMs: b.earliestMs, latestMs: b.latestMs, agreeing },
      `Proven time: ${iso(b.earliestMs)} .. ${iso(b.latestMs)} (±${((b.latestMs - b.earliestMs) / 2000).toFixed(3)} s), agreed by ${agreeing.join(', ')}`,
    );
  }
  const m = res.malfeasance;
  if (m) {
    out(
      { type: 'malfeasance', code: m.code, suspects: m.suspectServers, report: m.report },
      `Malfeasance: replies contradict causal order; suspected: ${m.suspectServers.join(', ')}\n  report (application/roughtime-malfeasance+json): ${JSON.stringify(m.report)}`,
    );
  }
}

export async function time(opts: TimeOptions): Promise<number> {
  const json = opts.json === true;
  try {
    const chosen = chooseTimeServers(opts.server, undefined, '--server');
    const n = chosen.servers.length;
    const quorum = opts.quorum === undefined ? Math.floor(n / 2) + 1 : Number(opts.quorum);
    if (!Number.isInteger(quorum) || quorum < 1 || quorum > n) throw new UsageError('E_USAGE', `--quorum expects a number from 1 to ${n}, got "${String(opts.quorum)}"`);
    const res = await measure(chosen.servers, { query: udpQuery(), quorum, rounds: 2 });
    print(json, res, chosen.from === 'built-in' ? 'the built-in public list' : 'given', performance.now());
    if (res.ok) return EXIT.ok;
    const answered = res.links.some((l) => l.outcome.kind === 'reply');
    const why = answered
      ? `fewer than ${quorum} of ${n} servers gave consistent, usable time (${res.detail})`
      : `none of the ${n} Roughtime servers answered: no network route to them (an offline or air-gapped machine needs --server HOST:PORT:KEY of a reachable one, e.g. safehouse serve --roughtime-port)`;
    throw new TransportError(answered ? 'E_ROUGHTIME_NO_QUORUM' : 'E_ROUGHTIME_UNREACHABLE', why);
  } catch (err) {
    reportError(err, json);
    return exitCodeFor(err);
  }
}
