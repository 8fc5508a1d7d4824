/**
 * The membership section of `npm run bench` (issue "Membership that holds"; THREATS.md H.34 and
 * H.39): a crowd opening one link at once, a churn soak with kills, a leave and relay restarts,
 * and the frozen-room attack, all with real `safehouse` processes (procs.ts). Returns the
 * figures for the JSON file and prints a table. Each part is bounded by deadlines and ends by
 * SIGKILLing every process it started, also when it fails; a part that throws is reported as
 * failed and the others still run.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { churn, type ChurnPlan, type ChurnResult } from './churn.js';
import { crowd, type CrowdResult } from './crowd.js';
import { frozen, type FrozenResult } from './frozen.js';
import { guardChildren, killAll, now, reapAll } from './procs.js';

export type MembershipBench = {
  quick: boolean;
  /** What was measured: the commit checked out, and when each package's dist/ was last built. */
  build: { commit?: string; distBuilt: Record<string, string> };
  seed: number;
  load: { before: number; after: number };
  crowd?: CrowdResult;
  churn?: ChurnResult;
  frozen: FrozenResult[];
  failed: { part: string; error: string }[];
  durationS: number;
};

export type Figure = { part: string; figure: string; value: string; target: string; holds?: boolean };

/** `only`: run just these parts (`--part crowd,churn,frozen`); all by default. */
export async function membershipBench(quick: boolean, seed: number, only?: ReadonlySet<string>): Promise<MembershipBench> {
  const runs = (p: 'crowd' | 'churn' | 'frozen'): boolean => only === undefined || only.has(p);
  guardChildren();
  const t0 = now();
  const out: MembershipBench = {
    quick,
    build: buildInfo(),
    seed,
    load: { before: os.loadavg()[0] ?? NaN, after: NaN },
    frozen: [],
    failed: [],
    durationS: 0,
  };
  const part = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
    const t = now();
    console.error(`  membership: ${name}...`);
    try {
      const r = await run();
      console.error(`  membership: ${name} done in ${((now() - t) / 1000).toFixed(1)} s`);
      return r;
    } catch (err) {
      out.failed.push({ part: name, error: err instanceof Error ? err.message : String(err) });
      console.error(`  membership: ${name} FAILED: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    } finally {
      killAll();
      await reapAll();
    }
  };
  const crowdN = quick ? 10 : 50;
  if (runs('crowd')) out.crowd = await part(`crowd of ${crowdN}`, () =>
    crowd(crowdN, {
      admitDeadlineMs: quick ? 45_000 : 120_000,
      messageDeadlineMs: quick ? 20_000 : 60_000,
      targetMs: 30_000,
    }),
  );
  const plan: ChurnPlan = quick
    ? { durationMs: 32_000, killEveryMs: 10_000, members: 6, settleMs: 10_000, seed }
    : { durationMs: 180_000, killEveryMs: 20_000, members: 6, settleMs: 30_000, seed };
  if (runs('churn')) out.churn = await part(`churn soak ${plan.durationMs / 1000} s, seed ${seed}`, () => churn(plan));
  const f = runs('frozen') ? await part('frozen-room attack', () => frozen({ windowMs: 10_000, landDeadlineMs: quick ? 20_000 : 30_000 })) : undefined;
  if (f) out.frozen.push(f);
  if (!quick && runs('frozen')) {
    const g = await part('frozen-room attack on a relay just restarted', () =>
      frozen({ windowMs: 10_000, landDeadlineMs: 30_000, afterRestart: true }),
    );
    if (g) out.frozen.push(g);
  }
  out.load.after = os.loadavg()[0] ?? NaN;
  out.durationS = Math.round((now() - t0) / 100) / 10;
  return out;
}

/** The processes run the packages' dist/ folders: say which build that was (the tree changes under us). */
function buildInfo(): MembershipBench['build'] {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const newest = (dir: string): number => {
    let t = 0;
    try {
      for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
        if (e.isFile() && e.name.endsWith('.js')) t = Math.max(t, statSync(`${e.parentPath}/${e.name}`).mtimeMs);
    } catch {
      // no dist: not built
    }
    return t;
  };
  const distBuilt: Record<string, string> = {};
  for (const p of ['core', 'server', 'cli']) {
    const t = newest(`${root}packages/${p}/dist`);
    distBuilt[p] = t ? new Date(t).toISOString() : 'not built';
  }
  return { ...(git.status === 0 ? { commit: git.stdout.trim() } : {}), distBuilt };
}

const s = (ms: number | undefined): string =>
  ms === undefined ? '–' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export function membershipFigures(b: MembershipBench): Figure[] {
  const rows: Figure[] = [];
  const c = b.crowd;
  if (c) {
    const part = `crowd of ${c.members}`;
    rows.push({
      part,
      figure: 'all admitted (from starting the joiners)',
      value: `${s(c.admittedMs)} (${c.admitted}/${c.members} in${c.failures.length ? `; never: ${c.failures.map((x) => x.name).join(', ')}` : ''})`,
      target: `≤ ${c.targetMs / 1000} s`,
      holds: c.admittedMs !== undefined && c.admittedMs <= c.targetMs,
    });
    rows.push({
      part,
      figure: `the last one's message heard by all ${c.admitted - 1}`,
      value: `${s(c.heardMs)} (${c.heardBy}/${c.admitted - 1}${c.notHeardBy.length ? `; not: ${c.notHeardBy.join(', ')}` : ''})`,
      target: `≤ ${c.targetMs / 1000} s`,
      holds: c.heardMs !== undefined && c.heardMs <= c.targetMs,
    });
    rows.push({
      part,
      figure: 'commits (final epoch); one room code for all',
      value: `${c.commits ?? '–'}; ${c.sameRoomCode ? 'yes' : `no (${c.distinctCodes ?? '?'} codes)`}`,
      target: 'one code',
      holds: c.sameRoomCode === true,
    });
    rows.push({
      part,
      figure: 'process start-up, median / max; join median',
      value: `${s(c.startupMedianMs)} / ${s(c.startupMaxMs)}; ${s(c.joinMedianMs)}`,
      target: '',
    });
    if (c.cpuDuringAdmission)
      rows.push({
        part,
        figure: 'while admitting: machine busy; ours; CPU per joiner',
        value: `${c.cpuDuringAdmission.machineBusyPct} % of ${os.cpus().length} cores; ${c.cpuDuringAdmission.oursPct} %; ${s(c.cpuPerJoinerMedianMs)}`,
        target: '',
      });
  }
  const h = b.churn;
  if (h) {
    const part = `churn ${h.plan.durationMs / 1000} s, seed ${h.seed}`;
    rows.push({
      part,
      figure: 'survivors’ messages delivered exactly once',
      value: `${h.deliveredOncePct.toFixed(1)} % (${h.deliveredOnce}/${h.expectedDeliveries}; ${h.missing} missing${h.missing ? ` (${h.linesLostForAll} lines lost for all, ${h.linesPartly} partly; ${h.missingWithin2sOfJoin} pairs within 2 s of the recipient's join)` : ''}, ${h.duplicates} duplicated)`,
      target: '100 %',
      holds: h.expectedDeliveries > 0 && h.deliveredOnce === h.expectedDeliveries,
    });
    const w = h.allWriters;
    rows.push({
      part,
      figure: 'every writer’s lines (≥ 5 s before its kill or leave)',
      value: `${w.deliveredOncePct.toFixed(1)} % (${w.deliveredOnce}/${w.expectedDeliveries}; ${w.missing} missing${w.missing ? ` (${w.linesLostForAll} lines lost for all, ${w.linesPartly} partly)` : ''}, ${w.duplicates} duplicated)`,
      target: '100 %',
      holds: w.expectedDeliveries > 0 && w.deliveredOnce === w.expectedDeliveries,
    });
    const codes = new Set(Object.values(h.roomCodes));
    rows.push({
      part,
      figure: `one room state for the ${h.alive.length} alive (/code)`,
      value: h.sameRoomState
        ? `yes (${[...codes][0] ?? ''})`
        : `no: ${Object.entries(h.roomCodes)
            .map(([k, v]) => `${k} ${v}`)
            .join('; ')}`,
      target: 'yes',
      holds: h.sameRoomState,
    });
    const started = h.joinLatencies.length;
    rows.push({
      part,
      figure: 'stuck joiners; join median / max; exited on their own',
      value: `${h.stuckJoiners.length}${h.stuckJoiners.length ? ` (${h.stuckJoiners.map((x) => x.name).join(', ')})` : ''} of ${started}; ${s(h.joinMedianMs)} / ${s(h.joinMaxMs)}; ${h.exitedOnTheirOwn.length}`,
      target: '0',
      holds: h.stuckJoiners.length === 0 && h.exitedOnTheirOwn.length === 0,
    });
    const listed = Math.max(...Object.values(h.usersListed));
    rows.push({
      part,
      figure: '/users after the absence grace vs alive',
      value: `${listed} listed, ${h.usersAlive} alive (${h.deadLeaves} dead leaves${h.listedButDead.length ? `: ${h.listedButDead.join(', ')}` : ''}; ${h.deadLeavesAtEnd} at the end of sending${h.deadLeavesGoneAfterMs !== undefined ? `, all gone ${s(h.deadLeavesGoneAfterMs)} after it` : ''})`,
      target: '0 dead leaves after the grace',
      holds: h.deadLeaves === 0,
    });
    rows.push({
      part,
      figure: 'kills, leave, relay restarts; reconnects; errors',
      value: `${h.killed.length} killed, ${h.leaver ? `${h.leaver.name} left` : 'no leave'}, ${h.relayRestarts.length} restarts; ${h.reconnects}; ${
        Object.entries(h.errors)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ') || 'none'
      }`,
      target: '',
    });
  }
  for (const f of b.frozen) {
    const part = f.afterRestart ? 'frozen room, relay just restarted' : 'frozen-room attack';
    rows.push({
      part,
      figure: 'the relay answered the attacker (sub, bare and signed garbage commits)',
      value: f.attackerSaw.join(', '),
      target: '',
    });
    rows.push({
      part,
      figure: `commits/s in the ${f.windowMs / 1000} s after it (a join + a leave)`,
      value: `${f.commitsPerSecond?.toFixed(2) ?? '–'} (${f.commitsInWindow ?? '?'} commits, epoch ${f.epochBefore ?? '?'} → ${f.epochAfterWindow ?? '?'})`,
      target: 'bounded (≤ 4)',
      holds: f.commitsInWindow !== undefined && f.commitsInWindow <= 4,
    });
    rows.push({
      part,
      figure: 'join landed; leave landed (after the attack)',
      value: `${s(f.joinLandedMs)}; ${s(f.leaveLandedMs)}`,
      target: 'both land',
      holds: f.joinLandedMs !== undefined && f.leaveLandedMs !== undefined,
    });
    rows.push({
      part,
      figure: 'CPU in the window, % of a core (members max; relay)',
      value: `${f.maxMemberCpuPct ?? '–'} %; ${f.cpuPct.relay ?? '–'} %`,
      target: 'no spin (< 50 %)',
      holds: (f.maxMemberCpuPct ?? 100) < 50,
    });
  }
  for (const x of b.failed)
    rows.push({ part: x.part, figure: 'FAILED to run', value: x.error.slice(0, 300), target: '', holds: false });
  return rows;
}

export function printMembershipTable(b: MembershipBench): void {
  const rows = membershipFigures(b);
  console.log(
    `\nbuild: ${b.build.commit?.slice(0, 7) ?? '?'}, dist built ${Object.entries(b.build.distBuilt)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `\nmembership with real processes (${os.cpus().length} cores, load ${b.load.before.toFixed(1)} → ${b.load.after.toFixed(1)}, seed ${b.seed}${b.quick ? ', quick' : ''}, ${b.durationS} s):\n`,
  );
  console.log('| part | figure | value | target | holds |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.part} | ${r.figure} | ${r.value} | ${r.target || '–'} | ${r.holds === undefined ? '' : r.holds ? 'yes' : '**NO**'} |`,
    );
  const c = b.crowd;
  if (c?.notHeardDetail?.length) {
    console.log(
      `\ncrowd: the last one admitted (${c.lastSpeaker?.name ?? '?'}, wrote at ${c.lastSpeaker?.sentAtS ?? '?'} s) was not heard by:`,
    );
    for (const d of c.notHeardDetail)
      console.log(`  ${d.name} (joined at ${d.joinedAtS} s): last events ${d.lastEvents.map(brief).join(' | ')}`);
  }
  for (const f of c?.failures ?? [])
    console.log(
      `crowd: ${f.name} never joined: last error ${f.lastError ? brief(f.lastError) : 'none'}; last events ${f.lastEvents.map(brief).join(' | ')}`,
    );
  const h = b.churn;
  if (h) {
    console.log(`\nchurn schedule: ${h.schedule.map((x) => `${x.atS} s ${x.what}`).join('; ')}`);
    const samples = [...h.missingSample, ...h.allWriters.missingSample];
    if (samples.length) {
      const byKey = new Map<string, string[]>();
      for (const m of samples) {
        const k = `${m.text} (written at ${m.sentAtS} s; writer ${m.senderFate}; its errors in the 15 s after: ${[...new Set(m.senderErrors)].join(' ') || 'none'})`;
        byKey.set(k, [
          ...(byKey.get(k) ?? []),
          `${m.to}${m.recipientJoinedBeforeSendMs < 2_000 ? ` (joined ${m.recipientJoinedBeforeSendMs} ms before)` : ''}`,
        ]);
      }
      console.log('churn: missing deliveries (sample):');
      for (const [k, v] of byKey) console.log(`  ${k} → not at ${v.join(', ')}`);
    }
    for (const d of h.duplicateSample) console.log(`churn: duplicate: ${d.text} ×${d.times} at ${d.to}`);
    for (const x of h.exitedOnTheirOwn)
      console.log(
        `churn: ${x.name} exited on its own (${JSON.stringify(x.exit)}): last error ${x.lastError ? brief(x.lastError) : 'none'}; last events ${x.lastEvents.map(brief).join(' | ')}`,
      );
    for (const x of h.stuckJoiners)
      console.log(
        `churn: stuck joiner ${x.name} (started at ${x.startedAtS} s): last error ${x.lastError ? brief(x.lastError) : 'none'}; last events ${x.lastEvents.map(brief).join(' | ')}`,
      );
  }
  for (const f of b.frozen)
    for (const x of f.failures)
      console.log(
        `frozen: ${x.name}: last error ${x.lastError ? brief(x.lastError) : 'none'}; last events ${x.lastEvents.map(brief).join(' | ')}`,
      );
}

/** One event in a few words, for the table's footnotes. */
function brief(e: { type: string; at: number; [k: string]: unknown }): string {
  const t = `${(e.at / 1000).toFixed(1)}s`;
  switch (e.type) {
    case 'error':
    case 'fatal':
      return `${t} ${e.type} ${String(e.code)}: ${String(e.message)}`;
    case 'connection':
      return `${t} connection ${String(e.state)}${typeof e.reason === 'string' ? ` (${e.reason})` : ''}`;
    case 'message':
      return `${t} message from ${String(e.from)}: ${String(e.text).slice(0, 40)}`;
    case 'member-joined':
    case 'member-left':
      return `${t} ${e.type} ${String(e.name)}`;
    case 'room-code':
      return `${t} room-code epoch ${String(e.epoch)}`;
    default:
      return `${t} ${e.type}`;
  }
}
