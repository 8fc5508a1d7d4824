/**
 * MLS scenarios through the E2ee interface, named after what they verify (ts-mls style).
 * The relay is played by the test: it carries bytes, and sometimes replays or tampers.
 */
import fc from 'fast-check';
import { decodeMlsMessage, encodeMlsMessage } from 'ts-mls';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { E2ee, GroupSession, Identity, ReceiveResult } from './api.js';
import { encodeAad } from './aad.js';
import { createE2ee } from './index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Room {
  e2ee: E2ee;
  room: string;
  secret: Uint8Array;
  creator: Identity;
  sessions: GroupSession[];
}

async function newRoom(): Promise<Room> {
  const e2ee = createE2ee();
  const room = randomId();
  const creator = await e2ee.createIdentity();
  return { e2ee, room, secret: randomBytes(32), creator, sessions: [await e2ee.createGroup(creator, 'm0', room)] };
}

/** Admits one member: join request → proof check → Add commit → everyone processes → Welcome. */
async function admit(r: Room, name: string, adder = r.sessions[0]!): Promise<GroupSession> {
  const id = await r.e2ee.createIdentity();
  const pending = await r.e2ee.createJoinRequest(id, name, r.room, r.secret);
  const req = r.e2ee.parseJoinRequest(pending.request)!;
  expect(await r.e2ee.verifyJoinProof(req, r.secret)).toBe(true);
  const commit = await adder.add(req);
  for (const s of r.sessions) if (s !== adder) expect((await s.receive(commit.commit)).kind).toBe('commit');
  await adder.confirm(commit);
  const out = await r.e2ee.joinFromWelcome(pending, commit.welcome!, r.creator.fingerprint);
  if (!out.ok) throw new Error(out.message);
  r.sessions.push(out.session);
  return out.session;
}

async function roomOf(n: number): Promise<Room> {
  const r = await newRoom();
  for (let i = 1; i < n; i++) await admit(r, `m${i}`);
  return r;
}

function send(s: GroupSession, text: string, id = randomId()): Promise<Uint8Array> {
  return s.encrypt(enc.encode(text), { room: s.room, id });
}

function text(r: ReceiveResult): string {
  if (r.kind !== 'message') throw new Error(`expected a message, got ${r.kind}`);
  return dec.decode(r.plaintext);
}

/** Applies a commit: the committer confirms, every other listed session processes it. */
async function settle(
  committer: GroupSession,
  pending: Awaited<ReturnType<GroupSession['update']>>,
  others: GroupSession[],
): Promise<ReceiveResult[]> {
  await committer.confirm(pending);
  return Promise.all(others.map((s) => s.receive(pending.commit)));
}

describe('e2ee scenarios', () => {
  it('addTwoMembersViaJoinRequestThenAllDecrypt', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    expect(r.sessions.map((s) => s.epoch())).toEqual([2, 2, 2]);
    expect(a.members().map((m) => m.name)).toEqual(['m0', 'm1', 'm2']);
    expect(c.members().map((m) => m.name)).toEqual(['m0', 'm1', 'm2']);
    expect(b.myLeaf()).toBe(1);
    expect(c.epochAuthenticator()).toEqual(a.epochAuthenticator());
    for (const sender of [a, b, c]) {
      const msg = await send(sender, `from ${sender.myLeaf()}`);
      for (const receiver of [a, b, c]) {
        if (receiver === sender) continue;
        const got = await receiver.receive(msg);
        expect(text(got)).toBe(`from ${sender.myLeaf()}`);
        if (got.kind === 'message') expect(got.sender.leaf).toBe(sender.myLeaf());
      }
    }
  });

  it('appAadIsAuthenticatedAndReturned', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const aad = { room: a!.room, id: randomId(), expiresAt: 1_900_000_000_000 };
    const got = await b!.receive(await a!.encrypt(enc.encode('x'), aad));
    expect(got.kind === 'message' && got.aad).toEqual(aad);
  });

  it('applicationOnlyRefusesACommitUnprocessed (the note in a Welcome envelope)', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const update = await a.update();
    await a.confirm(update);
    // Offered where only an application message may be, the commit changes nothing...
    expect((await b.receive(update.commit, { applicationOnly: true })).kind).toBe('rejected');
    expect(b.epoch()).toBe(2);
    // ...and is processed normally afterwards.
    expect((await b.receive(update.commit)).kind).toBe('commit');
    expect(b.epoch()).toBe(3);
    const note = await send(a, 'note');
    expect(text(await b.receive(note, { applicationOnly: true }))).toBe('note');
    expect((await c.receive(update.commit)).kind).toBe('commit');
  });

  it('commitReportsAddedAndRemovedMembers', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const p = await a.remove([c.myLeaf()]);
    expect(p.removed.map((m) => m.name)).toEqual(['m2']);
    const [got] = await settle(a, p, [b]);
    expect(got).toMatchObject({ kind: 'commit', epoch: 3, added: [], updated: [] });
    expect(got!.kind === 'commit' && got!.removed.map((m) => m.name)).toEqual(['m2']);
  });

  it('removedMemberCannotDecrypt (kick)', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const p = await a.remove([c.myLeaf()]);
    const [atB, atC] = await settle(a, p, [b, c]);
    expect(atB!.kind).toBe('commit');
    expect(atC!.kind).toBe('removed');
    const after = await send(a, 'after the kick');
    expect(text(await b.receive(after))).toBe('after the kick');
    expect((await c.receive(after)).kind).toBe('rejected');
    await expect(send(c, 'still here?')).rejects.toThrow();
  });

  it('removedMemberCannotDecrypt (leave proposal committed by another member)', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const leave = await c.proposeLeave();
    const atA = await a.receive(leave);
    expect(atA.kind === 'proposal' && atA.removes.map((m) => m.name)).toEqual(['m2']);
    expect((await b.receive(leave)).kind).toBe('proposal');
    const p = await a.remove([c.myLeaf()]); // commits the proposal by reference
    expect(p.removed.map((m) => m.name)).toEqual(['m2']);
    const [atB, atC] = await settle(a, p, [b, c]);
    expect(atB!.kind).toBe('commit');
    expect(atC!.kind).toBe('removed');
    expect((await c.receive(await send(b, 'secret'))).kind).toBe('rejected');
  });

  it('aLeavingMemberCanStillCommitUntilRemoved', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const leave = await c.proposeLeave();
    const p = await c.update(); // its own leave is not in it
    expect(p.removed).toEqual([]);
    const [atA, atB] = await settle(c, p, [a, b]);
    expect([atA!.kind, atB!.kind]).toEqual(['commit', 'commit']);
    // The proposal was for the previous epoch: it must be sent again (RFC 9420 §12.1).
    expect((await a.receive(leave)).kind).toBe('rejected');
    const again = await c.proposeLeave();
    expect((await a.receive(again)).kind).toBe('proposal');
    expect((await b.receive(again)).kind).toBe('proposal');
    const [atB2, atC2] = await settle(a, await a.remove([c.myLeaf()]), [b, c]);
    expect([atB2!.kind, atC2!.kind]).toEqual(['commit', 'removed']);
  });

  it('replayedFrameIsDuplicate', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const m1 = await send(a!, 'one');
    const m2 = await send(a!, 'two');
    expect(text(await b!.receive(m1))).toBe('one');
    expect((await b!.receive(m1)).kind).toBe('duplicate');
    expect(text(await b!.receive(m2))).toBe('two');
    expect((await b!.receive(m1)).kind).toBe('duplicate');
    expect((await b!.receive(m2)).kind).toBe('duplicate');
    // Our own messages echoed back by the relay are duplicates too.
    expect((await a!.receive(m1)).kind).toBe('duplicate');
  });

  it('replayedFrameIsDuplicate (same MLS generation under a fresh message id)', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const m = await send(a!, 'one');
    expect(text(await b!.receive(m))).toBe('one');
    // The relay relabels the id to dodge id dedup: the generation is consumed (and the AEAD fails).
    const msg = decodeMlsMessage(m, 0)![0];
    if (msg.wireformat !== 'mls_private_message') throw new Error('expected a PrivateMessage');
    const relabelled = encodeMlsMessage({
      ...msg,
      privateMessage: { ...msg.privateMessage, authenticatedData: encodeAad({ room: a!.room, id: randomId() }) },
    });
    expect(['duplicate', 'rejected']).toContain((await b!.receive(relabelled)).kind);
  });

  it('resentMessageUnderTheSameIdIsDuplicate (outbox resend after a reconnect)', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const id = randomId();
    const first = await send(a!, 'once', id);
    const again = await send(a!, 'once', id); // new ciphertext, new generation, same id
    expect(text(await b!.receive(first))).toBe('once');
    expect((await b!.receive(again)).kind).toBe('duplicate');
  });

  it('garbageUnderASeenIdIsRejectedNotDuplicate', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const id = randomId();
    const m = await send(a!, 'x', id);
    expect(text(await b!.receive(m))).toBe('x');
    const msg = decodeMlsMessage(m, 0)![0];
    if (msg.wireformat !== 'mls_private_message') throw new Error('expected a PrivateMessage');
    const junk = encodeMlsMessage({
      ...msg,
      privateMessage: {
        ...msg.privateMessage,
        encryptedSenderData: randomBytes(msg.privateMessage.encryptedSenderData.length),
      },
    });
    expect((await b!.receive(junk)).kind).toBe('rejected');
  });

  it('replayedCommitIsDuplicate', async () => {
    const r = await roomOf(3);
    const [a, b] = r.sessions as [GroupSession, GroupSession];
    const p = await a.update();
    await settle(a, p, [b]);
    expect((await b.receive(p.commit)).kind).toBe('duplicate');
    expect((await a.receive(p.commit)).kind).toBe('duplicate'); // echo of our own commit
    expect(b.epoch()).toBe(a.epoch());
  });

  it('tamperedFrameRejected (any flipped byte)', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const m = await send(a!, 'do not touch');
    // Offset of the 8-byte epoch in the PrivateMessage header (after version, wireformat, group id).
    const epochAt = 2 + 2 + 1 + 22;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: m.length - 1 }), fc.integer({ min: 1, max: 255 }), async (i, x) => {
        const t = m.slice();
        t[i]! ^= x;
        const got = await b!.receive(t);
        // An altered (unauthenticated) epoch number makes it look like a later epoch: kept,
        // then rejected once that epoch comes. Never a message.
        if (i >= epochAt && i < epochAt + 8 && got.kind === 'future-epoch') return;
        expect(got.kind).toBe('rejected');
      }),
      { numRuns: 300 },
    );
    // Tampered copies did not spoil the genuine one.
    expect(text(await b!.receive(m))).toBe('do not touch');
  });

  it('crossRoomSpliceRejected', async () => {
    const r1 = await roomOf(2);
    const r2 = await roomOf(2);
    const m = await send(r1.sessions[0]!, 'for room 1');
    expect((await r2.sessions[1]!.receive(m)).kind).toBe('rejected');
    // The same bytes with room 2's group id: the sender data no longer decrypts.
    const msg = decodeMlsMessage(m, 0)![0];
    if (msg.wireformat !== 'mls_private_message') throw new Error('expected a PrivateMessage');
    const relabel = (groupId: Uint8Array, room: string) =>
      encodeMlsMessage({
        ...msg,
        privateMessage: { ...msg.privateMessage, groupId, authenticatedData: encodeAad({ room, id: randomId() }) },
      });
    expect((await r2.sessions[1]!.receive(relabel(enc.encode(r2.room), r2.room))).kind).toBe('rejected');
    // In its own room, an aad relabelled to another room, or to another id/expiry, is refused.
    expect((await r1.sessions[1]!.receive(relabel(enc.encode(r1.room), r2.room))).kind).toBe('rejected');
    const withTtl = encodeMlsMessage({
      ...msg,
      privateMessage: {
        ...msg.privateMessage,
        authenticatedData: encodeAad({ room: r1.room, id: randomId(), expiresAt: 1 }),
      },
    });
    expect((await r1.sessions[1]!.receive(withTtl)).kind).toBe('rejected');
    expect(text(await r1.sessions[1]!.receive(m))).toBe('for room 1');
  });

  it('ttlTamperingRejected', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const aad = { room: a!.room, id: randomId(), expiresAt: 1_800_000_000_000 };
    const m = await a!.encrypt(enc.encode('self-destructs'), aad);
    const msg = decodeMlsMessage(m, 0)![0];
    if (msg.wireformat !== 'mls_private_message') throw new Error('expected a PrivateMessage');
    const withAad = (x: Parameters<typeof encodeAad>[0]) =>
      encodeMlsMessage({ ...msg, privateMessage: { ...msg.privateMessage, authenticatedData: encodeAad(x) } });
    expect((await b!.receive(withAad({ ...aad, expiresAt: aad.expiresAt + 86_400_000 }))).kind).toBe('rejected');
    expect((await b!.receive(withAad({ room: aad.room, id: aad.id }))).kind).toBe('rejected');
    const got = await b!.receive(m);
    expect(got.kind === 'message' && got.aad.expiresAt).toBe(aad.expiresAt);
  });

  it('futureEpochMessageIsKeptForLater', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const p = await a.update();
    await a.confirm(p);
    await b.receive(p.commit);
    const m = await send(b, 'new epoch');
    expect(await c.receive(m)).toEqual({ kind: 'future-epoch', epoch: 3 });
    expect((await c.receive(p.commit)).kind).toBe('commit');
    expect(text(await c.receive(m))).toBe('new epoch');
  });

  it('concurrentCommitsSameEpoch', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const pa = await a.update();
    const pb = await b.update();
    expect(pa.epoch).toBe(pb.epoch);
    // The relay accepts a's commit (first for the epoch) and refuses b's.
    await a.confirm(pa);
    expect((await b.receive(pa.commit)).kind).toBe('commit');
    b.discard(pb);
    await expect(b.confirm(pb)).rejects.toThrow();
    expect((await c.receive(pa.commit)).kind).toBe('commit');
    expect(new Set(r.sessions.map((s) => s.epoch()))).toEqual(new Set([3]));
    expect(b.epochAuthenticator()).toEqual(a.epochAuthenticator());
    expect(text(await a.receive(await send(b, 'b after')))).toBe('b after');
    expect(text(await b.receive(await send(a, 'a after')))).toBe('a after');
    expect(text(await c.receive(await send(b, 'to c')))).toBe('to c');
  });

  it('messageFromPreviousEpochStillDecrypts', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const early = await send(a, 'sent in epoch 2');
    const during = await send(c, 'received while the commit is pending');
    const late = await send(c, 'sent in epoch 2, read in epoch 3');
    const p = await b.update();
    expect(text(await b.receive(during))).toBe('received while the commit is pending');
    await b.confirm(p);
    expect(b.epoch()).toBe(3);
    expect(text(await b.receive(early))).toBe('sent in epoch 2');
    expect(text(await b.receive(late))).toBe('sent in epoch 2, read in epoch 3');
    expect((await b.receive(during)).kind).toBe('duplicate');
    // And the other way round: a receiver that processed the commit first.
    const old = await send(a, 'a, still in epoch 2');
    expect((await c.receive(p.commit)).kind).toBe('commit');
    expect(text(await c.receive(old))).toBe('a, still in epoch 2');
  });

  it('olderEpochMessagesReceivedWhileACommitIsPendingKeepDecrypting', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const old = await Promise.all([1, 2, 3].map((i) => send(c, `epoch 2 #${i}`)));
    const p1 = await b.update();
    await settle(b, p1, [a]); // b and a are in epoch 3; c still in 2
    const p2 = await b.update();
    // Reading #1 while the commit is pending uses (and wipes) the ratchet secret the commit's
    // snapshot of epoch 2 still points to.
    expect(text(await b.receive(old[0]!))).toBe('epoch 2 #1');
    await b.confirm(p2);
    expect(text(await b.receive(old[1]!))).toBe('epoch 2 #2');
    expect(text(await b.receive(old[2]!))).toBe('epoch 2 #3');
    expect((await b.receive(old[0]!)).kind).toBe('duplicate');
  });

  it('concurrentEncryptsNeverShareAGeneration', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const msgs = await Promise.all(Array.from({ length: 20 }, (_, i) => send(a!, `m${i}`)));
    const got = await Promise.all(msgs.map((m) => b!.receive(m)));
    expect(got.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('ciphertextSizeIsBucketed', async () => {
    const {
      sessions: [a],
    } = await roomOf(2);
    const sizes = await Promise.all(
      [0, 1, 63, 64, 200, 256].map(
        async (n) => (await a!.encrypt(new Uint8Array(n), { room: a!.room, id: randomId() })).length,
      ),
    );
    expect(new Set(sizes).size).toBe(1);
  });

  it('roomCodeInputsAgreeAcrossMembersAndChangeWithTheEpoch', async () => {
    const r = await roomOf(3);
    const [a, b, c] = r.sessions as [GroupSession, GroupSession, GroupSession];
    const before = a.epochAuthenticator();
    expect(b.epochAuthenticator()).toEqual(before);
    const [atB, atC] = await settle(a, await a.update(), [b, c]);
    expect([atB!.kind, atC!.kind]).toEqual(['commit', 'commit']);
    expect(c.epochAuthenticator()).toEqual(a.epochAuthenticator());
    expect(a.epochAuthenticator()).not.toEqual(before);
  });

  it('wrongTypedInputsAreRefusedWithACode', async () => {
    const r = await roomOf(2);
    const [a, b] = r.sessions as [GroupSession, GroupSession];
    const id = randomId();
    const bad: [string, () => Promise<unknown>, string][] = [
      ['plaintext string', () => a.encrypt('x' as unknown as Uint8Array, { room: a.room, id }), 'TypeError'],
      ['aad of another room', () => a.encrypt(new Uint8Array(1), { room: randomId(), id }), 'E_USAGE'],
      ['aad without id', () => a.encrypt(new Uint8Array(1), { room: a.room, id: 'x' }), 'TypeError'],
      ['negative expiry', () => a.encrypt(new Uint8Array(1), { room: a.room, id, expiresAt: -5 }), 'TypeError'],
      ['missing aad', () => a.encrypt(new Uint8Array(1), undefined as never), 'E_USAGE'],
      ['remove a blank leaf', () => a.remove([7]), 'E_UNKNOWN_MEMBER'],
      ['remove oneself', () => a.remove([a.myLeaf()]), 'E_USAGE'],
      ['remove a non-number', () => a.remove(['1' as unknown as number]), 'E_UNKNOWN_MEMBER'],
      [
        'confirm an unknown commit',
        () => a.confirm({ epoch: 1, commit: new Uint8Array(), added: [], removed: [], nextRelayKey: new Uint8Array(32), left: [], policyChanged: false }),
        'E_USAGE',
      ],
    ];
    for (const [what, f, code] of bad) {
      const e = await f().then(
        () => undefined,
        (err: unknown) => err as { code?: string; name?: string },
      );
      expect(e, what).toBeDefined();
      expect(e!.code ?? e!.name, what).toBe(code);
    }
    // None of it changed the room.
    expect([a.epoch(), b.epoch()]).toEqual([1, 1]);
    expect(text(await b.receive(await send(a, 'still fine')))).toBe('still fine');
    a.discard({ epoch: 1, commit: new Uint8Array(), added: [], removed: [], nextRelayKey: new Uint8Array(32), left: [], policyChanged: false }); // unknown: a no-op
  });

  it('aDisposedSessionRefusesEverything', async () => {
    const {
      sessions: [a, b],
    } = await roomOf(2);
    const m = await send(a!, 'x');
    b!.dispose();
    expect((await b!.receive(m)).kind).toBe('rejected');
    await expect(send(b!, 'y')).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(() => b!.members()).toThrow();
  });

  it('garbageNeverThrows', async () => {
    const {
      sessions: [, b],
    } = await roomOf(2);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        expect((await b!.receive(bytes)).kind).toBe('rejected');
      }),
      { numRuns: 200 },
    );
    for (const x of [undefined, null, 'text', 42, {}, [1, 2]])
      expect((await b!.receive(x as Uint8Array)).kind).toBe('rejected');
  });
});
