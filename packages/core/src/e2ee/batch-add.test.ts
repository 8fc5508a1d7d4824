/**
 * One commit admits several joiners (a crowd opening one link): the Welcome carries a proof
 * under the invite secret for each, every joiner lands in the same epoch, and a joiner still
 * refuses a Welcome that carries no proof for its own KeyPackage.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import { createE2ee } from './index.js';
import { checkProofIn, makeProof } from './proof.js';

async function crowd(n: number) {
  const e2ee = createE2ee();
  const room = randomId();
  const secret = randomBytes(32);
  const alice = await e2ee.createIdentity();
  const a = await e2ee.createGroup(alice, 'alice', room);
  const joiners = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const id = await e2ee.createIdentity();
      const pending = await e2ee.createJoinRequest(id, `guest${i}`, room, secret);
      return { pending, req: e2ee.parseJoinRequest(pending.request)! };
    }),
  );
  return { e2ee, room, secret, alice, a, joiners };
}

describe('admitting a batch', () => {
  it('addAdmitsSeveralJoinersInOneCommit: one Welcome, one epoch, everyone reads everyone', async () => {
    const { e2ee, secret, alice, a, joiners } = await crowd(5);
    const p = await a.add(
      joiners.map((j) => j.req),
      secret,
    );
    expect(p.added.map((m) => m.name)).toEqual(['guest0', 'guest1', 'guest2', 'guest3', 'guest4']);
    await a.confirm(p);
    const sessions = [];
    for (const j of joiners) {
      const r = await e2ee.joinFromWelcome(j.pending, p.welcome!, alice.fingerprint);
      expect(r.ok).toBe(true);
      if (r.ok) sessions.push(r.session);
    }
    for (const s of sessions) expect(s.epochAuthenticator()).toEqual(a.epochAuthenticator());
    const msg = await sessions[4]!.encrypt(new TextEncoder().encode('hi'), { room: a.room, id: randomId() });
    expect((await a.receive(msg)).kind).toBe('message');
    expect((await sessions[0]!.receive(msg)).kind).toBe('message');
  });

  it('a batch is refused whole when two joiners share a name, or one has no valid proof', async () => {
    const { e2ee, room, secret, a, joiners } = await crowd(2);
    const twin = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'guest0', room, secret);
    await expect(a.add([joiners[0]!.req, e2ee.parseJoinRequest(twin.request)!], secret)).rejects.toMatchObject({ code: 'E_NAME_TAKEN' });
    const forged = { ...joiners[1]!.req, proof: new Uint8Array(32) };
    await expect(a.add([joiners[0]!.req, forged], secret)).rejects.toMatchObject({ code: 'E_INVITE_PROOF' });
    expect(await a.checkJoin(forged, secret)).toBe('E_INVITE_PROOF');
    expect(await a.checkJoin(joiners[0]!.req, secret)).toBeUndefined();
    expect(a.epoch()).toBe(0);
  });

  it('a Welcome proof list must hold the proof for this KeyPackage', async () => {
    const secret = randomBytes(32);
    const room = randomId();
    const kp = randomBytes(100);
    const mine = await makeProof('welcome', secret, room, kp);
    const other = await makeProof('welcome', secret, room, randomBytes(100));
    const join = (...p: Uint8Array[]) => new Uint8Array(p.flatMap((x) => [...x]));
    expect(await checkProofIn('welcome', secret, room, kp, join(other, mine))).toBe(true);
    expect(await checkProofIn('welcome', secret, room, kp, join(other, other))).toBe(false);
    expect(await checkProofIn('welcome', secret, room, kp, join(other, mine).subarray(1))).toBe(false); // not whole proofs
    expect(await checkProofIn('welcome', secret, room, kp, new Uint8Array(0))).toBe(false);
    expect(await checkProofIn('welcome', randomBytes(32), room, kp, mine)).toBe(false);
  });
});
