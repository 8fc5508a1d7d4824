/**
 * Joining: join requests, invite proofs, Welcomes (THREATS C.20: a member without the invite
 * proof is never added; a relay cannot Welcome a joiner into a group of its own).
 */
import fc from 'fast-check';
import {
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
} from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { JoinRequest } from './api.js';
import { basicCredential } from './credential.js';
import { createE2ee, PinStore } from './index.js';
import { decodeJoinRequest, encodeJoinRequest } from './joinRequest.js';
import { makeProof } from './proof.js';
import { clientConfig, loadSuite } from './suite.js';

const enc = new TextEncoder();

async function setup() {
  const e2ee = createE2ee();
  const room = randomId();
  const secret = randomBytes(32);
  const alice = await e2ee.createIdentity();
  const a = await e2ee.createGroup(alice, 'alice', room);
  const bob = await e2ee.createIdentity();
  const pending = await e2ee.createJoinRequest(bob, 'bob', room, secret);
  const req = e2ee.parseJoinRequest(pending.request)!;
  return { e2ee, room, secret, alice, a, bob, pending, req };
}

describe('join requests', () => {
  it('takes the name and key from the KeyPackage', async () => {
    const { req, bob, room } = await setup();
    expect(req.room).toBe(room);
    expect(req.name).toBe('bob');
    expect(req.publicKey).toEqual(bob.publicKey);
    expect(req.fingerprint).toEqual(bob.fingerprint);
    expect(req.proof.length).toBe(32);
  });

  it('refuses a name field that differs from the credential, and any malformed body', async () => {
    const { req } = await setup();
    expect(decodeJoinRequest(encodeJoinRequest(req.room, 'mallory', req.keyPackage, req.proof))).toBeUndefined();
    const good = encodeJoinRequest(req.room, req.name, req.keyPackage, req.proof);
    expect(decodeJoinRequest(good)).toBeDefined();
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      good.slice(0, good.length - 1), // truncated
      Uint8Array.of(...good, 0), // trailing byte
      Uint8Array.of(2, ...good.slice(1)), // unknown version
      encodeJoinRequest('not-a-room-id', req.name, req.keyPackage, req.proof),
      encodeJoinRequest(req.room, req.name, req.keyPackage, req.proof.slice(1)),
      encodeJoinRequest(req.room, req.name, req.keyPackage.slice(0, -1), req.proof),
      encodeJoinRequest(req.room, req.name, Uint8Array.of(...req.keyPackage, 0), req.proof),
    ];
    for (const c of cases) expect(decodeJoinRequest(c)).toBeUndefined();
    for (const x of [undefined, null, 'x', 1, {}]) expect(decodeJoinRequest(x as Uint8Array)).toBeUndefined();
  });

  it('never throws on random or mutated bytes', async () => {
    const { pending } = await setup();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        decodeJoinRequest(b);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: pending.request.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const t = pending.request.slice();
        t[i]! ^= x;
        const r = decodeJoinRequest(t);
        // A flip inside the proof still decodes (the MAC check catches it); nowhere else may change the name or key.
        if (r !== undefined) expect(r.name === 'bob' || r.name.length > 0).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('relayWithoutSecretCannotAddMember', () => {
  it('a forged proof fails verifyJoinProof', async () => {
    const { e2ee, req, secret } = await setup();
    expect(await e2ee.verifyJoinProof(req, secret)).toBe(true);
    expect(await e2ee.verifyJoinProof({ ...req, proof: randomBytes(32) }, secret)).toBe(false);
    expect(await e2ee.verifyJoinProof(req, randomBytes(32))).toBe(false);
    // A proof made with a guessed secret, as a relay would have to.
    const guessed = await makeProof('join', randomBytes(32), req.room, req.keyPackage);
    expect(await e2ee.verifyJoinProof({ ...req, proof: guessed }, secret)).toBe(false);
  });

  it('a proof for another KeyPackage or another room fails', async () => {
    const { e2ee, req, secret, room } = await setup();
    const other = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'mallory', room, randomBytes(32));
    const otherReq = e2ee.parseJoinRequest(other.request)!;
    expect(await e2ee.verifyJoinProof({ ...otherReq, proof: req.proof }, secret)).toBe(false);
    expect(await e2ee.verifyJoinProof({ ...req, keyPackage: otherReq.keyPackage }, secret)).toBe(false);
    expect(await e2ee.verifyJoinProof({ ...req, room: randomId() }, secret)).toBe(false);
  });

  it('verifyJoinProof returns false, never throws, on wrong types', async () => {
    const { e2ee, req, secret } = await setup();
    const bad: [JoinRequest, Uint8Array][] = [
      [req, new Uint8Array(31)],
      [req, undefined as unknown as Uint8Array],
      [{ ...req, proof: new Uint8Array(31) }, secret],
      [{ ...req, proof: 'x' as unknown as Uint8Array }, secret],
      [{ ...req, room: 5 as unknown as string }, secret],
      [{ ...req, keyPackage: null as unknown as Uint8Array }, secret],
      [null as unknown as JoinRequest, secret],
    ];
    for (const [r, s] of bad) expect(await e2ee.verifyJoinProof(r, s)).toBe(false);
  });

  it('add refuses a request whose proof was not accepted', async () => {
    const { e2ee, a, req, secret } = await setup();
    await expect(a.add(req)).rejects.toMatchObject({ code: 'E_INVITE_PROOF' }); // never verified
    await expect(a.add(req, randomBytes(32))).rejects.toMatchObject({ code: 'E_INVITE_PROOF' }); // wrong secret
    const forged = { ...req, proof: randomBytes(32) };
    expect(await e2ee.verifyJoinProof(forged, secret)).toBe(false);
    await expect(a.add(forged)).rejects.toMatchObject({ code: 'E_INVITE_PROOF' });
    expect(a.epoch()).toBe(0);
  });

  it('add refuses a name already in the room', async () => {
    const { e2ee, a, room, secret } = await setup();
    const p = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'alice', room, secret);
    const r = e2ee.parseJoinRequest(p.request)!;
    expect(await e2ee.verifyJoinProof(r, secret)).toBe(true);
    await expect(a.add(r)).rejects.toMatchObject({ code: 'E_NAME_TAKEN' });
  });

  it('add refuses an expired KeyPackage (an old join request replayed)', async () => {
    const { e2ee, a, secret, room } = await setup();
    const cs = await loadSuite();
    const old = await generateKeyPackage(
      basicCredential('bob'),
      defaultCapabilities(),
      { notBefore: 0n, notAfter: 1000n },
      [],
      cs,
    );
    const kp = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: old.publicPackage });
    const req = e2ee.parseJoinRequest(encodeJoinRequest(room, 'bob', kp, await makeProof('join', secret, room, kp)))!;
    expect(await e2ee.verifyJoinProof(req, secret)).toBe(true);
    await expect(a.add(req)).rejects.toMatchObject({ code: 'E_CLOCK_SKEW' });
  });

  it('add refuses a KeyPackage from a clock more than a day ahead, with E_CLOCK_SKEW', async () => {
    const { e2ee, a, secret, room } = await setup();
    const cs = await loadSuite();
    const now = BigInt(Math.floor(Date.now() / 1000));
    const ahead = await generateKeyPackage(
      basicCredential('bob'),
      defaultCapabilities(),
      { notBefore: now + 2n * 86400n, notAfter: now + 4n * 86400n },
      [],
      cs,
    );
    const kp = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: ahead.publicPackage });
    const req = e2ee.parseJoinRequest(encodeJoinRequest(room, 'bob', kp, await makeProof('join', secret, room, kp)))!;
    expect(await e2ee.verifyJoinProof(req, secret)).toBe(true);
    await expect(a.add(req)).rejects.toMatchObject({ code: 'E_CLOCK_SKEW' });
  });

  it('add refuses a KeyPackage whose signature is broken', async () => {
    const { e2ee, a, req, secret, room } = await setup();
    const m = decodeMlsMessage(req.keyPackage, 0)![0];
    if (m.wireformat !== 'mls_key_package') throw new Error('expected a KeyPackage');
    const sig = m.keyPackage.signature.slice();
    sig[0]! ^= 1;
    const kp = encodeMlsMessage({ ...m, keyPackage: { ...m.keyPackage, signature: sig } });
    const body = encodeJoinRequest(room, 'bob', kp, await makeProof('join', secret, room, kp));
    const bad = e2ee.parseJoinRequest(body)!;
    expect(await e2ee.verifyJoinProof(bad, secret)).toBe(true); // the proof is fine: the joiner is not
    await expect(a.add(bad)).rejects.toMatchObject({ code: 'E_INVITE_PROOF' });
  });
});

describe('welcomeWithoutInviterRefused', () => {
  it('joins when the inviter is a member (secret passed to add explicitly)', async () => {
    const { e2ee, a, req, pending, alice, secret } = await setup();
    const p = await a.add(req, secret);
    await a.confirm(p);
    const out = await e2ee.joinFromWelcome(pending, p.welcome!, alice.fingerprint);
    expect(out.ok).toBe(true);
    if (out.ok) expect(out.session.members().map((m) => m.name)).toEqual(['alice', 'bob']);
    // A PendingJoin is used once.
    await expect(e2ee.joinFromWelcome(pending, p.welcome!, alice.fingerprint)).rejects.toMatchObject({
      code: 'E_USAGE',
    });
  });

  it('refuses a group in which the link inviter is not a member', async () => {
    const { e2ee, a, req, pending, secret } = await setup();
    expect(await e2ee.verifyJoinProof(req, secret)).toBe(true);
    const p = await a.add(req);
    const out = await e2ee.joinFromWelcome(pending, p.welcome!, randomBytes(32));
    expect(out).toMatchObject({ ok: false, code: 'E_BAD_WELCOME' });
  });

  it('refuses a group a relay built around the joiner KeyPackage (no welcome proof)', async () => {
    const { e2ee, req, pending, room } = await setup();
    // The relay saw the join request, so it has the KeyPackage; it makes a group of its own.
    const cs = await loadSuite();
    const relayKp = await generateKeyPackage(basicCredential('relay'), defaultCapabilities(), defaultLifetime, [], cs);
    const g = await createGroup(
      enc.encode(room),
      relayKp.publicPackage,
      relayKp.privatePackage,
      [],
      cs,
      clientConfig(),
    );
    const kp = decodeMlsMessage(req.keyPackage, 0)![0];
    if (kp.wireformat !== 'mls_key_package') throw new Error('expected a KeyPackage');
    const c = await createCommit(
      { state: g, cipherSuite: cs },
      { extraProposals: [{ proposalType: 'add', add: { keyPackage: kp.keyPackage } }], ratchetTreeExtension: true },
    );
    const welcome = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: c.welcome! });
    // Even if the link named the relay's own key as the inviter, the Welcome lacks the proof.
    const relayFp = new Uint8Array(
      await crypto.subtle.digest('SHA-256', relayKp.publicPackage.leafNode.signaturePublicKey),
    );
    expect(await e2ee.joinFromWelcome(pending, welcome, relayFp)).toMatchObject({ ok: false, code: 'E_BAD_WELCOME' });
  });

  it('refuses garbage, and a Welcome for another join', async () => {
    const { e2ee, a, pending, alice, room, secret } = await setup();
    expect(await e2ee.joinFromWelcome(pending, randomBytes(100), alice.fingerprint)).toMatchObject({
      ok: false,
      code: 'E_BAD_WELCOME',
    });
    const other = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'carol', room, secret);
    const otherReq = e2ee.parseJoinRequest(other.request)!;
    expect(await e2ee.verifyJoinProof(otherReq, secret)).toBe(true);
    const p = await a.add(otherReq);
    expect(await e2ee.joinFromWelcome(pending, p.welcome!, alice.fingerprint)).toMatchObject({
      ok: false,
      code: 'E_BAD_WELCOME',
    });
    // ... and the pending join still works with its own Welcome later.
    const carol = await e2ee.joinFromWelcome(other, p.welcome!, alice.fingerprint);
    expect(carol.ok).toBe(true);
  });

  it('refuses a group in which a verified member shows another key (E_KEY_CHANGED)', async () => {
    const pins = new PinStore();
    const e2ee = createE2ee({ pins });
    const room = randomId();
    const secret = randomBytes(32);
    const alice = await e2ee.createIdentity();
    pins.verify('alice', randomBytes(32));
    const a = await e2ee.createGroup(alice, 'alice', room);
    const pending = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'bob', room, secret);
    const req = e2ee.parseJoinRequest(pending.request)!;
    expect(await e2ee.verifyJoinProof(req, secret)).toBe(true);
    const p = await a.add(req);
    expect(await e2ee.joinFromWelcome(pending, p.welcome!, alice.fingerprint)).toMatchObject({
      ok: false,
      code: 'E_KEY_CHANGED',
    });
    pins.verify('alice', alice.fingerprint);
    expect((await e2ee.joinFromWelcome(pending, p.welcome!, alice.fingerprint)).ok).toBe(true);
  });

  it('usage errors for objects not made by this module', async () => {
    const { e2ee, room, secret } = await setup();
    const fake = { publicKey: new Uint8Array(32), fingerprint: new Uint8Array(32) };
    await expect(e2ee.createGroup(fake, 'x', room)).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(e2ee.createJoinRequest(fake, 'x', room, secret)).rejects.toMatchObject({ code: 'E_USAGE' });
    const id = await e2ee.createIdentity();
    await expect(e2ee.createGroup(id, '', room)).rejects.toMatchObject({ code: 'E_NAME_INVALID' });
    await expect(e2ee.createGroup(id, 'a\nb', room)).rejects.toMatchObject({ code: 'E_NAME_INVALID' });
    await expect(e2ee.createGroup(id, 'x'.repeat(33), room)).rejects.toMatchObject({ code: 'E_NAME_INVALID' });
    for (const name of ['a\u202eb', 'a\u200bb', 'a\u2066b', '\ufeffa', 'a\u061cb']) {
      await expect(e2ee.createGroup(id, name, room)).rejects.toMatchObject({ code: 'E_NAME_INVALID' });
    }
    await expect(e2ee.createGroup(id, 'x', 'room')).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(e2ee.createJoinRequest(id, 'x', room, new Uint8Array(16))).rejects.toMatchObject({ code: 'E_USAGE' });
    const fakePending = { room, body: new Uint8Array(), request: new Uint8Array(), leafKey: new Uint8Array(32), joined() {}, dispose() {} };
    await expect(e2ee.joinFromWelcome(fakePending, new Uint8Array(), new Uint8Array(32))).rejects.toMatchObject({
      code: 'E_USAGE',
    });
  });
});
