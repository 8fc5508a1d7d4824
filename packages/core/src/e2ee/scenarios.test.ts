import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { E2ee, GroupSession, Identity } from './api.js';
import { createE2ee } from './index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function admit(e2ee: E2ee, adder: GroupSession, others: GroupSession[], secret: Uint8Array, inviter: Uint8Array, name: string) {
  const id = await e2ee.createIdentity();
  const pending = await e2ee.createJoinRequest(id, name, adder.room, secret);
  const req = e2ee.parseJoinRequest(pending.request);
  expect(req).toBeDefined();
  expect(await e2ee.verifyJoinProof(req!, secret)).toBe(true);
  const commit = await adder.add(req!);
  for (const o of others) expect((await o.receive(commit.commit)).kind).toBe('commit');
  await adder.confirm(commit);
  const out = await e2ee.joinFromWelcome(pending, commit.welcome!, inviter);
  if (!out.ok) throw new Error(out.message);
  return { id, session: out.session };
}

describe('smoke', () => {
  it('creates, adds two, exchanges messages', async () => {
    const e2ee = createE2ee();
    const room = randomId();
    const secret = randomBytes(32);
    const alice = await e2ee.createIdentity();
    const a = await e2ee.createGroup(alice, 'alice', room);
    const b = await admit(e2ee, a, [], secret, alice.fingerprint, 'bob');
    const c = await admit(e2ee, a, [b.session], secret, alice.fingerprint, 'carol');
    expect(a.epoch()).toBe(2);
    expect(b.session.epoch()).toBe(2);
    expect(c.session.epoch()).toBe(2);
    const msg = await a.encrypt(enc.encode('hello'), { room, id: randomId() });
    for (const s of [b.session, c.session]) {
      const r = await s.receive(msg);
      expect(r.kind).toBe('message');
      if (r.kind === 'message') {
        expect(dec.decode(r.plaintext)).toBe('hello');
        expect(r.sender.name).toBe('alice');
      }
      expect((await s.receive(msg)).kind).toBe('duplicate');
    }
  });
});
