/**
 * `npm run bench [-- --quick]`: client costs (MLS) now; relay throughput against a raw `ws`
 * baseline is added by the relay-performance work. Results: a table on stdout and JSON in
 * bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createE2ee } from '@safehouse/core/e2ee';
import { admitBench, messageBench } from './mls.js';

const quick = process.argv.includes('--quick');

async function main(): Promise<void> {
  const e2ee = createE2ee();
  const sizes = quick ? [2, 10, 50] : [2, 10, 50, 200];
  const admits = [];
  for (const n of sizes) {
    const r = await admitBench(e2ee, n);
    admits.push(r);
    console.log(
      `admit ${String(n).padStart(3)} members: total ${r.totalMs.toFixed(0).padStart(7)} ms | committer ${r.committerMs.toFixed(0)} ms | welcomes ${r.welcomeMs.toFixed(0)} ms | others processing commits ${r.processMs.toFixed(0)} ms`,
    );
  }
  const msg = await messageBench(e2ee, quick ? 2000 : 10000);
  console.log(
    `1 KiB application messages: encrypt ${msg.encryptPerSec.toFixed(0)}/s, decrypt ${msg.decryptPerSec.toFixed(0)}/s (${msg.messages} messages)`,
  );
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    quick,
    mls: { admits, messages: msg },
  };
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  const file = new URL(`../results/mls-${out.date.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`results: ${file.pathname}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
