/**
 * THREATS B.15, a seized box: after a conversation carrying a canary, the relay process has
 * written no file (strace of every file system call), and a heap snapshot of the relay holds no
 * canary (it only ever had ciphertext). The snapshot is checked to contain the base path, which
 * the relay does hold, so an empty or unreadable snapshot cannot pass by accident.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';

const CANARY = 'CANARY-5e1d0b-seized-box';
const dir = mkdtempSync(join(tmpdir(), 'safehouse-seized-'));
const members: Member[] = [];
let server: Server | undefined;

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const m of members) m.kill('SIGKILL');
  server?.kill('SIGKILL');
  await server?.exited;
  rmSync(dir, { recursive: true, force: true });
});

async function converse(s: Server): Promise<void> {
  const a = startJoin(s.url, 'alice');
  members.push(a);
  const inv = await a.waitFor((e) => e.type === 'invite', 30_000, 'invite');
  const b = startJoin(String(inv.link), 'bob');
  members.push(b);
  await b.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');
  for (let i = 0; i < 5; i++) a.send(`${CANARY} ${i}`);
  await b.waitFor((e) => e.type === 'message' && e.text === `${CANARY} 4`, 20_000, 'canary at bob');
}

const strace = hasStrace();
if (!strace) console.warn('seized-box: SKIPPED — strace is not installed (scripts/system-deps.sh installs it as root)');

describe('a seized relay', () => {
  it.skipIf(!strace)('wrote no file, and its heap holds no plaintext (skipped without strace)', async () => {
    const trace = join(dir, 'trace');
    server = await startServe([], { straceTo: trace, nodeArgs: ['--heapsnapshot-signal=SIGUSR2'], cwd: dir });
    await converse(server);

    process.kill(server.pid, 'SIGUSR2');
    let snap: string | undefined;
    for (let i = 0; i < 100 && !snap; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const f = readdirSync(dir).find((n) => n.endsWith('.heapsnapshot'));
      // the file is complete once its JSON closes
      if (f && readFileSync(join(dir, f), 'utf8').trimEnd().endsWith('}')) snap = join(dir, f);
    }
    expect(snap, 'heap snapshot written').toBeDefined();
    const heap = readFileSync(snap!, 'utf8');
    expect(heap).toContain(server.basePath.slice(1)); // the snapshot is real and searchable
    expect(heap).not.toContain(CANARY);

    process.kill(server.pid, 'SIGTERM'); // the node process itself: the child is strace
    await server.exited;
    const writes = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /open(at)?\(.*O_(WRONLY|RDWR|CREAT)/.test(l) || /\b(unlink|rename|mkdir)(at)?\(/.test(l))
      .filter((l) => !/"\/dev\/|"\/proc\//.test(l))
      .filter((l) => !/\.heapsnapshot"/.test(l)); // the snapshot this test asked for
    expect(writes).toEqual([]);
  });
});
