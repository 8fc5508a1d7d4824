/**
 * Measures the e2ee layer on this machine: `npm run build && npx tsx bench/src/e2ee-measure.ts`.
 *
 * - Admit N: create a room, then admit members one at a time (join request, proof check, Add
 *   commit, every existing member processes the commit, the joiner processes its Welcome).
 * - Messages: 1 KiB application messages, encrypted by one member then decrypted by another.
 *
 * Beside `npm run bench -- --mls-only` (mls.ts), it also prints the sizes of a Welcome and a
 * commit. A measurement script, so it lives here and not in a published package.
 */
import { createE2ee, type GroupSession } from '@safehouse/core/e2ee';
import { randomBytes, randomId } from '@safehouse/core/protocol';

const print = (line: string): void => console.log(line);

interface Admission {
  ms: number;
  sessions: GroupSession[];
  welcomeBytes: number;
  commitBytes: number;
  /** For the last admission: the committer's add + confirm, one member's commit, the joiner's Welcome. */
  last: { commitMs: number; processMs: number; welcomeMs: number };
}

async function admit(n: number): Promise<Admission> {
  const e2ee = createE2ee();
  const room = randomId();
  const secret = randomBytes(32);
  const t0 = performance.now();
  const creator = await e2ee.createIdentity();
  const sessions = [await e2ee.createGroup(creator, 'm0', room)];
  let welcomeBytes = 0;
  let commitBytes = 0;
  const last = { commitMs: 0, processMs: 0, welcomeMs: 0 };
  for (let i = 1; i < n; i++) {
    const pending = await e2ee.createJoinRequest(await e2ee.createIdentity(), `m${i}`, room, secret);
    const req = e2ee.parseJoinRequest(pending.request);
    if (!req || !(await e2ee.verifyJoinProof(req, secret))) throw new Error('join request refused');
    const adder = sessions[0]!;
    let t = performance.now();
    const commit = await adder.add(req);
    await adder.confirm(commit);
    last.commitMs = performance.now() - t;
    const others = sessions.slice(1);
    t = performance.now();
    for (const s of others) if ((await s.receive(commit.commit)).kind !== 'commit') throw new Error('commit refused');
    last.processMs = others.length ? (performance.now() - t) / others.length : 0;
    t = performance.now();
    const joined = await e2ee.joinFromWelcome(pending, commit.welcome!, creator.fingerprint);
    if (!joined.ok) throw new Error(joined.message);
    last.welcomeMs = performance.now() - t;
    sessions.push(joined.session);
    welcomeBytes = commit.welcome!.length;
    commitBytes = commit.commit.length;
  }
  return { ms: performance.now() - t0, sessions, welcomeBytes, commitBytes, last };
}

async function messages(count: number, bytes: number): Promise<{ encPerSec: number; decPerSec: number; size: number }> {
  const { sessions } = await admit(2);
  const [a, b] = sessions as [GroupSession, GroupSession];
  const body = randomBytes(bytes);
  const cts: Uint8Array[] = [];
  let t = performance.now();
  for (let i = 0; i < count; i++) cts.push(await a.encrypt(body, { room: a.room, id: randomId() }));
  const enc = performance.now() - t;
  t = performance.now();
  for (const ct of cts) if ((await b.receive(ct)).kind !== 'message') throw new Error('decrypt failed');
  const dec = performance.now() - t;
  return { encPerSec: (count / enc) * 1000, decPerSec: (count / dec) * 1000, size: cts[0]!.length };
}

for (const n of [2, 10, 50]) {
  const r = await admit(n);
  const last = r.sessions.at(-1)!;
  // All members agree on the epoch authenticator: the room is consistent.
  if (!r.sessions.every((s) => s.epoch() === last.epoch())) throw new Error('members disagree');
  print(
    `room of ${String(n).padStart(2)}: built in ${r.ms.toFixed(0)} ms (every member in this one process); ` +
      `last admission: add+confirm ${r.last.commitMs.toFixed(1)} ms, one member processes the commit ${r.last.processMs.toFixed(1)} ms, ` +
      `joiner's Welcome ${r.last.welcomeMs.toFixed(1)} ms; Welcome ${r.welcomeBytes} B, commit ${r.commitBytes} B`,
  );
  r.sessions.forEach((s) => s.dispose());
}
const m = await messages(2000, 1024);
print(
  `1 KiB messages: encrypt ${m.encPerSec.toFixed(0)}/s, decrypt ${m.decPerSec.toFixed(0)}/s, ${m.size} B on the wire`,
);
