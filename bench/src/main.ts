/**
 * `npm run bench [-- --quick] [-- --relay-only | --mls-only | --membership-only | --view-only] [-- --seed N] [-- --part crowd,churn,frozen]`:
 * relay fan-out against a raw `ws` baseline and uWebSockets.js (bench/src/relay/), then client costs of MLS, then
 * membership with real `safehouse` processes (bench/src/membership/: a crowd, a churn soak
 * seeded by `--seed`, the frozen-room attack). Results: tables on stdout and JSON in
 * bench/results/. `--quick` takes about two and a half minutes.
 * `--cluster-only`: relays sharing rooms through Redis against one relay alone (bench/src/cluster/;
 * also part of the full run, where `--quick` makes it about one and a half minutes).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createE2ee } from '@safehouse/core/e2ee';
import { membershipBench, printMembershipTable } from './membership/index.js';
import { admitBench, messageBench } from './mls.js';
import { clusterBench } from './cluster/index.js';
import { relayBench, type RelayBench } from './relay/index.js';
import { printViewTable, viewBench } from './view.js';

const USAGE = `npm run bench [-- OPTIONS]: relay fan-out, MLS client costs, membership with real processes
  --quick              shorter runs (everything: about two and a half minutes; with --relay-only about one and a half)
  --relay-only         only the relay against a plain ws relay and uWebSockets.js
  --mls-only           the relay, then the MLS client costs
  --membership-only    only membership with real safehouse processes
  --view-only          only the view every interface draws (core/client/view.ts), against a bounded list
  --cluster-only       only relays sharing rooms through Redis, against one relay alone (quick: under 2 minutes)
  --seed N             the churn soak's choices (a random one is printed otherwise)
  --part a,b           only these parts of membership: crowd, churn, frozen
  --help               this text`;

// An option not known here is refused before anything runs: a mistyped one must not start the
// full run (tens of minutes on a small machine).
const FLAGS = ['--quick', '--relay-only', '--mls-only', '--membership-only', '--view-only', '--help', '-h'];
FLAGS.push('--cluster-only'); // the cluster section (bench/src/cluster/), kept on its own line
const WITH_VALUE = ['--seed', '--part'];
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i] as string;
  if (FLAGS.includes(a) || WITH_VALUE.some((w) => a.startsWith(`${w}=`))) continue;
  if (WITH_VALUE.includes(a)) {
    i++;
    continue;
  }
  console.error(`unknown option ${JSON.stringify(a)}\n${USAGE}`);
  process.exit(2);
}
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const relayOnly = process.argv.includes('--relay-only');
const mlsOnly = process.argv.includes('--mls-only');
const membershipOnly = process.argv.includes('--membership-only');
const viewOnly = process.argv.includes('--view-only');
const clusterOnly = process.argv.includes('--cluster-only');

/** `--seed N` (or `--seed=N`): the churn soak's choices; a random one is printed otherwise. */
function seedArg(): number {
  const i = process.argv.findIndex((a) => a === '--seed' || a.startsWith('--seed='));
  if (i < 0) return Math.floor(Math.random() * 2 ** 31);
  const arg = process.argv[i] as string;
  const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : process.argv[i + 1];
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--seed expects a non-negative integer, got ${String(raw)}`);
  return n;
}

/** `--part a,b` (or `--part=a,b`): only these parts of the membership section. */
function partArg(): Set<string> | undefined {
  const i = process.argv.findIndex((a) => a === '--part' || a.startsWith('--part='));
  if (i < 0) return undefined;
  const arg = process.argv[i] as string;
  const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (process.argv[i + 1] ?? '');
  const parts = new Set(raw.split(',').filter(Boolean));
  const unknown = [...parts].filter((p) => !['crowd', 'churn', 'frozen'].includes(p));
  if (parts.size === 0 || unknown.length > 0) throw new Error(`--part expects crowd, churn and/or frozen, got ${raw}`);
  return parts;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const machine = {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    node: process.version,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
  if (membershipOnly) {
    await membership(date, machine);
    return;
  }
  if (clusterOnly) {
    await cluster(date, machine);
    return;
  }
  if (viewOnly || (!relayOnly && !mlsOnly)) {
    console.log('the view every interface draws: one message into a room, against appending it to a bounded list');
    const view = viewBench(quick);
    printViewTable(view);
    writeResults('view', { date, machine, quick, view });
    if (viewOnly) return;
  }
  let relay: RelayBench | undefined;
  if (!mlsOnly) {
    console.log(
      `relay fan-out, ours against a plain ws relay and uWebSockets.js (${machine.cpus} × ${machine.model ?? '?'}, Node ${machine.node})`,
    );
    relay = await relayBench(quick);
    writeResults('relay', { date, machine, quick, relay });
  }
  if (relayOnly) return;
  if (!mlsOnly) await cluster(date, machine);
  const e2ee = createE2ee();
  const sizes = quick ? [2, 10] : [2, 10, 50, 200];
  const admits = [];
  for (const n of sizes) {
    const r = await admitBench(e2ee, n);
    admits.push(r);
    console.log(
      `admit ${String(n).padStart(3)} members: total ${r.totalMs.toFixed(0).padStart(6)} ms | committer ${r.committerMs.toFixed(0)} ms | welcomes ${r.welcomeMs.toFixed(0)} ms | ` +
        (r.observers > 0
          ? `a member processing one commit ${r.processPerCommitMs.toFixed(1)} ms (${r.commitsProcessed} by ${r.observers} members) | `
          : '') +
        `a key update ${r.updateMs.toFixed(0)} ms, a member processing it ${r.updateProcessPerMemberMs.toFixed(1)} ms`,
    );
  }
  const msg = await messageBench(e2ee, quick ? 2000 : 10000);
  console.log(
    `1 KiB application messages: encrypt ${msg.encryptPerSec.toFixed(0)}/s, decrypt ${msg.decryptPerSec.toFixed(0)}/s (${msg.messages} messages)`,
  );
  writeResults('mls', { date, machine, quick, mls: { admits, messages: msg } });
  if (mlsOnly) return;
  await membership(date, machine);
}

async function cluster(date: string, machine: Record<string, unknown>): Promise<void> {
  console.log('relays sharing rooms through Redis (issue 14), against one relay alone');
  const cluster = await clusterBench(quick);
  writeResults('cluster', { date, machine, quick, cluster });
}

async function membership(date: string, machine: Record<string, unknown>): Promise<void> {
  const seed = seedArg();
  console.log(`membership with real safehouse processes (seed ${seed}${quick ? ', quick' : ''})`);
  const membership = await membershipBench(quick, seed, partArg());
  printMembershipTable(membership);
  writeResults('membership', { date, machine, quick, membership });
}

function writeResults(name: string, out: { date: string } & Record<string, unknown>): void {
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/${name}-${out.date.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`results: ${file.pathname}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
