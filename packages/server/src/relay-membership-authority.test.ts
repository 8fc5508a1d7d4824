/**
 * The membership authority (docs/protocol.md "Membership authority"), attacked at the relay: a
 * relay that took the highest epoch anyone claimed and any commit at or above it could be
 * frozen by one frame from anyone who knew a room id (issue: "One frame freezes a room"). Each
 * test plays the attacker with the real relay; the honest side proves its epochs with the
 * shared test keys (harness.ts `epochKey`), the attacker with keys of its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, commitHeader, epochKey, startTestServer, subHeader, until, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
const clients: TestClient[] = [];
async function start(limits: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  server = await startTestServer(limits);
  return server;
}
async function client(): Promise<TestClient> {
  if (!server) throw new Error('no server');
  const c = await TestClient.connect(server);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('one frame no longer freezes a room', () => {
  it('aFalseEpochClaimCannotFreezeTheRoom: sub at 2^53-1 with a key of its own, then gone', async () => {
    await start();
    const room = randomId();
    const [a, b] = [await client(), await client()];
    await a.sub(room, 4);
    await b.sub(room, 4);
    await a.next('presence', (h) => h.count === 2);
    // The attacker knows the room id (a link holder, an ex-member) and claims an epoch far ahead.
    const attacker = await client();
    attacker.send(subHeader(attacker.nonce, room, Number.MAX_SAFE_INTEGER, 'attacker'));
    expect((await attacker.next('presence')).header.count).toBe(1); // a cohort of its own
    attacker.close();
    // The members' commit for their epoch is accepted as if nothing happened.
    const id = randomId();
    a.commit(room, id, 4, bytes(1));
    expect((await a.next('ack', (h) => h.id === id)).header.id).toBe(id);
    expect((await b.next('msg', (h) => h.id === id)).header.epoch).toBe(4);
    // The attacker never counted in the room's cohort (members only hear that another exists).
    expect(a.frames.filter((f) => f.header.t === 'presence').map((f) => f.header.t === 'presence' && f.header.count)).not.toContain(3);
  });

  it('aGarbageCommitFromALinkHolderIsRefused: unsubscribed, or subscribed under a rival key', async () => {
    await start();
    const room = randomId();
    const [a, b] = [await client(), await client()];
    await a.sub(room, 2);
    await b.sub(room, 2);
    const holder = await client();
    const garbage = new Uint8Array(64).fill(0x41);
    // Not subscribed: refused outright.
    const first = randomId();
    holder.send(commitHeader(room, first, 2, garbage, 'holder'), garbage);
    expect((await holder.next('nack', (h) => h.id === first)).header.code).toBe('E_NOT_SUBSCRIBED');
    // Subscribed under a key of its own (its own cohort): its commits never reach the members.
    await holder.sub(room, 2, 'holder');
    const second = randomId();
    holder.send(commitHeader(room, second, 2, garbage, 'holder'), garbage);
    await holder.next('ack', (h) => h.id === second);
    // The room's own epoch is untouched: the members' commit for epoch 2 wins.
    const honest = randomId();
    a.commit(room, honest, 2, bytes(7));
    await a.next('ack', (h) => h.id === honest);
    expect((await b.next('msg')).header.id).toBe(honest);
    expect(await b.nothing('msg')).toBe(true);
  });

  it('aCommitWithoutAValidProofIsRefused: no proof, a proof by another key, a proof of another commit', async () => {
    await start();
    const room = randomId();
    const [a, b] = [await client(), await client()];
    await a.sub(room, 0);
    await b.sub(room, 0);
    const cases = [
      { v: 1, t: 'pub', room, id: randomId(), kind: 'commit', epoch: 0 } as const,
      commitHeader(room, randomId(), 0, bytes(1), 'forger'),
      { ...commitHeader(room, randomId(), 0, bytes(2)), id: randomId() }, // signed over other bytes
    ];
    for (const h of cases) {
      a.send(h, bytes(1, 1));
      expect((await a.next('nack', (x) => x.id === h.id)).header.code).toBe('E_NOT_MEMBER');
    }
    expect(await b.nothing('msg')).toBe(true);
    const ok = randomId();
    a.commit(room, ok, 0, bytes(3));
    await a.next('ack', (h) => h.id === ok);
  });

  it('aSubProofIsBoundToItsConnection: replayed on another connection, or signed by another key, it is refused', async () => {
    await start();
    const room = randomId();
    const a = await client();
    await a.sub(room, 3);
    const thief = await client();
    const stolen = a.subHeader(room, 3); // as a relay-side observer would capture it
    thief.send(stolen);
    expect((await thief.next('nack')).header).toEqual({ v: 1, t: 'nack', id: room, code: 'E_NOT_MEMBER' });
    thief.send({ ...thief.subHeader(room, 3), sig: subHeader(thief.nonce, room, 3, 'forger').sig });
    expect((await thief.next('nack')).header.code).toBe('E_NOT_MEMBER');
    expect(await a.nothing('presence')).toBe(true);
  });
});

describe('removed members and members that fell behind', () => {
  it('aMemberWhoDoesNotProveTheNewEpochIsUnsubscribed: it stops receiving, and cannot come back with its old key', async () => {
    await start({ reproveGraceMs: 300 });
    const room = randomId();
    const [a, b, removed] = [await client(), await client(), await client()];
    for (const c of [a, b, removed]) await c.sub(room, 0);
    const commit = randomId();
    a.commit(room, commit, 0, bytes(9));
    await a.next('ack', (h) => h.id === commit);
    await removed.next('msg', (h) => h.id === commit); // the commit that removes it: it sees it
    a.send(a.subHeader(room, 1));
    b.send(b.subHeader(room, 1));
    // `removed` cannot prove epoch 1: after the grace it is told and unsubscribed.
    expect((await removed.next('nack', (h) => h.id === room, 3_000)).header).toEqual({ v: 1, t: 'nack', id: room, code: 'E_STALE_EPOCH', epoch: 1 });
    expect((await a.next('presence', (h) => h.count === 2)).header.count).toBe(2);
    // What the room says now does not reach it; its own frames are refused.
    const after = randomId();
    a.send({ v: 1, t: 'pub', room, id: after, kind: 'app', epoch: 1 }, bytes(1));
    await b.next('msg', (h) => h.id === after); // delivery happened...
    expect(removed.frames.some((f) => f.header.t === 'msg' && f.header.id === after)).toBe(false); // ...not to it
    const mine = randomId();
    removed.send({ v: 1, t: 'pub', room, id: mine, kind: 'app', epoch: 0 }, bytes(2));
    expect((await removed.next('nack', (h) => h.id === mine)).header.code).toBe('E_NOT_SUBSCRIBED');
    // Its old key only earns it the commits it missed, not a subscription.
    removed.send(removed.subHeader(room, 0));
    expect((await removed.next('msg', (h) => h.id === commit)).header.next).toBe(epochKey(room, 1).text);
    expect((await removed.next('nack', (h) => h.id === room)).header).toMatchObject({ code: 'E_STALE_EPOCH', epoch: 1 });
    const again = randomId();
    removed.send({ v: 1, t: 'pub', room, id: again, kind: 'app', epoch: 0 }, bytes(3));
    expect((await removed.next('nack', (h) => h.id === again)).header.code).toBe('E_NOT_SUBSCRIBED');
  });

  it('aMemberThatMissedCommitsCatchesUpFromTheLog, then subscribes with the current key', async () => {
    await start();
    const room = randomId();
    const a = await client();
    await a.sub(room, 0);
    for (let e = 0; e < 3; e++) {
      const id = randomId();
      a.commit(room, id, e, bytes(e));
      await a.next('ack', (h) => h.id === id);
      a.send(a.subHeader(room, e + 1));
    }
    const late = await client();
    late.send(late.subHeader(room, 1));
    const caught = [await late.next('msg'), await late.next('msg')];
    expect(caught.map((m) => m.header.epoch)).toEqual([1, 2]);
    expect((await late.next('nack')).header).toMatchObject({ id: room, code: 'E_STALE_EPOCH', epoch: 3 });
    await late.sub(room, 3);
    expect((await a.next('presence')).header.count).toBe(2);
  });

  it('aMemberCatchingUpGetsWhatTheRoomSaidMeanwhile, once it proves the current epoch (and not before)', async () => {
    await start();
    const room = randomId();
    const a = await client();
    await a.sub(room, 0);
    const id = randomId();
    a.commit(room, id, 0, bytes(1));
    await a.next('ack', (h) => h.id === id);
    a.send(a.subHeader(room, 1));
    const late = await client();
    late.send(late.subHeader(room, 0)); // a joiner whose Welcome the room already left
    await late.next('nack', (h) => h.id === room);
    const said = randomId();
    a.send({ v: 1, t: 'pub', room, id: said, kind: 'app', epoch: 1 }, bytes(7));
    await a.next('ack', (h) => h.id === said);
    expect(late.frames.some((f) => f.header.t === 'msg' && f.header.id === said)).toBe(false); // not subscribed yet
    await late.sub(room, 1);
    expect((await late.next('msg', (h) => h.id === said)).header.epoch).toBe(1);
  });

  it('onlyASubscriberMayAnswerAJoin: a link holder cannot answer a join request with a forged refusal', async () => {
    await start();
    const room = randomId();
    const member = await client();
    await member.sub(room, 0);
    const joiner = await client();
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, bytes(1, 2, 3));
    await joiner.next('ack');
    const holder = await client();
    const forged = randomId();
    holder.send({ v: 1, t: 'welcome', room, id: forged, to: joinId }, bytes(2, 69, 95));
    expect((await holder.next('nack', (h) => h.id === forged)).header.code).toBe('E_NOT_SUBSCRIBED');
    expect(await joiner.nothing('welcome')).toBe(true);
  });
});

describe('rival claims (after a restart the relay cannot check a claim)', () => {
  it('rivalClaimsStayApart: frames, presence and commits of one never reach the other', async () => {
    await start();
    const room = randomId();
    const [a, b, rival] = [await client(), await client(), await client()];
    await a.sub(room, 5);
    await b.sub(room, 5);
    await rival.sub(room, 5, 'rival'); // the same epoch, another key
    const id = randomId();
    rival.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 5 }, bytes(1));
    await rival.next('ack', (h) => h.id === id);
    const marker = randomId();
    a.send({ v: 1, t: 'pub', room, id: marker, kind: 'app', epoch: 5 }, bytes(2));
    await b.next('msg', (h) => h.id === marker);
    expect(b.frames.some((f) => f.header.t === 'msg' && f.header.id === id)).toBe(false);
    await a.next('ack', (h) => h.id === marker);
    await rival.sync(); // whatever the relay sent the rival for the marker came before this
    expect(rival.frames.some((f) => f.header.t === 'msg' && f.header.id === marker)).toBe(false);
    // Each side orders its own commits: the rival's commit for epoch 5 does not stale the room's.
    const theirs = randomId();
    rival.commit(room, theirs, 5, bytes(3), 'rival');
    await rival.next('ack', (h) => h.id === theirs);
    const ours = randomId();
    a.commit(room, ours, 5, bytes(4));
    await a.next('ack', (h) => h.id === ours);
  });

  it('a join request reaches every cohort of the room; a Welcome comes from one that proved membership', async () => {
    await start();
    const room = randomId();
    const [a, rival] = [await client(), await client()];
    await a.sub(room, 1);
    await rival.sub(room, 1, 'rival');
    const joiner = await client();
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, bytes(5));
    await a.next('join', (h) => h.id === joinId);
    await rival.next('join', (h) => h.id === joinId);
  });

  it('aLoneClaimKeepsNoLogOnceEmpty: anyone can open a cohort and commit in it, but the relay does not keep it after', async () => {
    await start();
    const room = randomId();
    const a = await client();
    await a.sub(room, 0, 'lone');
    for (let e = 0; e < 3; e++) {
      const id = randomId();
      a.commit(room, id, e, new Uint8Array(1024).fill(e), 'lone');
      await a.next('ack', (h) => h.id === id);
    }
    a.send({ v: 1, t: 'unsub', room });
    await until(() => server!.stats().rooms === 0, 5_000, 'the room to be dropped');
    // A later `sub` with the first epoch's key finds nothing to catch up from: a claim of its own.
    const b = await client();
    b.send(b.subHeader(room, 0, 'lone'));
    expect((await b.next('presence')).header.count).toBe(1);
    expect(b.frames.some((f) => f.header.t === 'msg')).toBe(false);
  });
});
