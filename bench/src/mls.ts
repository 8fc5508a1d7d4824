/**
 * Client costs of MLS through our e2ee interface: a room created and members admitted one
 * commit each, and 1 KiB application messages encrypted and decrypted per second.
 *
 * In a real room every member processes every commit, each on its own device, in parallel. What
 * one member pays for that is measured on a sample of up to OBSERVERS members spread over the
 * joining order, who process every commit from their join on; the others join and then stand
 * by (simulating all 200 members in one process would take a quarter of an hour and tell no more).
 */
import type { E2ee, GroupSession, Identity } from '@safehouse/core/e2ee';
import { randomBytes, randomId } from '@safehouse/core/protocol';

export interface AdmitResult {
  members: number;
  totalMs: number;
  /** Time spent by the committing member only (commit + Welcome). */
  committerMs: number;
  /** Time spent by joiners in processing their Welcome, summed. */
  welcomeMs: number;
  /** Members who processed every commit after their own join (the sample). */
  observers: number;
  /** Commits they processed, in all. */
  commitsProcessed: number;
  /** Mean time one member took to process one commit (an Add), over the sample. */
  processPerCommitMs: number;
  /** Then the last to join updates its key (a commit with an UpdatePath): its own time... */
  updateMs: number;
  /** ...and the mean time one of the sample took to process that commit. */
  updateProcessPerMemberMs: number;
}

const OBSERVERS = 8;

async function admit(e2ee: E2ee, n: number): Promise<{ result: AdmitResult; sessions: GroupSession[] }> {
  const room = randomId();
  const secret = randomBytes(32);
  const t0 = performance.now();
  const creator: Identity = await e2ee.createIdentity();
  const first = await e2ee.createGroup(creator, 'm0', room);
  const sessions: GroupSession[] = [first];
  const observers: GroupSession[] = [];
  const stride = Math.max(1, Math.ceil((n - 1) / OBSERVERS));
  let committerMs = 0;
  let welcomeMs = 0;
  let processMs = 0;
  let commitsProcessed = 0;
  for (let i = 1; i < n; i++) {
    const id = await e2ee.createIdentity();
    const pending = await e2ee.createJoinRequest(id, `m${i}`, room, secret);
    const req = e2ee.parseJoinRequest(pending.request);
    if (!req || !(await e2ee.verifyJoinProof(req, secret))) throw new Error('join request did not verify');
    let t = performance.now();
    const commit = await first.add(req);
    await first.confirm(commit);
    committerMs += performance.now() - t;
    t = performance.now();
    for (const s of observers) {
      const r = await s.receive(commit.commit);
      if (r.kind !== 'commit') throw new Error(`member could not process commit: ${r.kind}`);
    }
    processMs += performance.now() - t;
    commitsProcessed += observers.length;
    t = performance.now();
    if (!commit.welcome) throw new Error('no Welcome');
    const joined = await e2ee.joinFromWelcome(pending, commit.welcome, creator.fingerprint);
    if (!joined.ok) throw new Error(joined.message);
    welcomeMs += performance.now() - t;
    sessions.push(joined.session);
    if ((i - 1) % stride === 0 && i < n - 1) observers.push(joined.session);
  }
  const totalMs = performance.now() - t0;
  // A member's key update (post-compromise security): the last to join commits an UpdatePath.
  const updater = sessions[sessions.length - 1] as GroupSession;
  let t = performance.now();
  const update = await updater.update();
  await updater.confirm(update);
  const updateMs = performance.now() - t;
  // The creator and the sample are up to date; the creator stands for the sample in a room of 2.
  const checkers = observers.length > 0 ? observers : [first];
  t = performance.now();
  for (const s of checkers) {
    const r = await s.receive(update.commit);
    if (r.kind !== 'commit') throw new Error(`member could not process the update: ${r.kind}`);
  }
  const updateProcessPerMemberMs = (performance.now() - t) / checkers.length;
  return {
    result: {
      members: n,
      totalMs,
      committerMs,
      welcomeMs,
      observers: observers.length,
      commitsProcessed,
      processPerCommitMs: commitsProcessed > 0 ? processMs / commitsProcessed : NaN,
      updateMs,
      updateProcessPerMemberMs,
    },
    sessions,
  };
}

export async function admitBench(e2ee: E2ee, n: number): Promise<AdmitResult> {
  const { result, sessions } = await admit(e2ee, n);
  for (const s of sessions) s.dispose();
  return result;
}

export interface MessageResult {
  bytes: number;
  messages: number;
  encryptPerSec: number;
  decryptPerSec: number;
}

export async function messageBench(e2ee: E2ee, messages: number, bytes = 1024): Promise<MessageResult> {
  const { sessions } = await admit(e2ee, 2);
  const [a, b] = sessions as [GroupSession, GroupSession];
  const text = randomBytes(bytes);
  const cts: Uint8Array[] = [];
  let t = performance.now();
  for (let i = 0; i < messages; i++) cts.push(await a.encrypt(text, { room: a.room, id: randomId() }));
  const encMs = performance.now() - t;
  t = performance.now();
  for (const ct of cts) {
    const r = await b.receive(ct);
    if (r.kind !== 'message') throw new Error(`decrypt failed: ${r.kind}`);
  }
  const decMs = performance.now() - t;
  a.dispose();
  b.dispose();
  return { bytes, messages, encryptPerSec: (messages / encMs) * 1000, decryptPerSec: (messages / decMs) * 1000 };
}
