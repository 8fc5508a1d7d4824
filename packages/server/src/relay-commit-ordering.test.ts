/**
 * RFC 9420 §14 via docs/protocol.md "Publishing": the relay orders commits per room — the first
 * commit for an epoch wins, a resent commit is acked again, a stale one is nacked with the
 * room's epoch — and fans every `pub` out to the other subscribers, never back to the sender.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, commitHeader, startTestServer, type TestServer } from './testing/harness.js';

let server: TestServer;
const clients: TestClient[] = [];
async function client(): Promise<TestClient> {
  const c = await TestClient.connect(server);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

describe('commit ordering', () => {
  it('first commit for an epoch wins; the second is nacked with the room epoch', async () => {
    const room = randomId();
    const [a, b, c] = [await client(), await client(), await client()];
    await a.sub(room, 3);
    await b.sub(room, 3);
    await c.sub(room, 3);
    const first = randomId();
    const second = randomId();
    a.commit(room, first, 3, new Uint8Array([1]));
    expect((await a.next('ack')).header.id).toBe(first);
    b.commit(room, second, 3, new Uint8Array([2]));
    const nack = await b.next('nack');
    expect(nack.header).toEqual({ v: 1, t: 'nack', id: second, code: 'E_STALE_EPOCH', epoch: 4 });
    // Only the winner was fanned out.
    const got = await c.next('msg');
    expect(got.header).toMatchObject({ id: first, kind: 'commit', epoch: 3 });
    expect([...got.body]).toEqual([1]);
    expect(await c.nothing('msg')).toBe(true);
  });

  it('a resent commit id is acked again and not fanned out twice', async () => {
    const room = randomId();
    const [a, b] = [await client(), await client()];
    await a.sub(room, 0);
    await b.sub(room, 0);
    const id = randomId();
    a.commit(room, id, 0, new Uint8Array([7]));
    await a.next('ack');
    a.commit(room, id, 0, new Uint8Array([7]));
    expect((await a.next('ack')).header.id).toBe(id);
    await b.next('msg');
    expect(await b.nothing('msg')).toBe(true);
  });

  it('each accepted commit opens the next epoch under the key it announced; only exactly that epoch is accepted', async () => {
    const room = randomId();
    const [a, b] = [await client(), await client()];
    await a.sub(room, 0);
    await b.sub(room, 0);
    a.commit(room, randomId(), 0, new Uint8Array([1]));
    await a.next('ack');
    expect((await b.next('msg')).header.next).toBe(commitHeader(room, randomId(), 0, new Uint8Array([1])).next);
    a.commit(room, randomId(), 1, new Uint8Array([2]));
    await a.next('ack');
    // Neither an epoch passed nor one ahead of the relay's is accepted.
    for (const epoch of [1, 3]) {
      const id = randomId();
      a.commit(room, id, epoch, new Uint8Array([3]));
      expect((await a.next('nack')).header).toMatchObject({ id, code: 'E_STALE_EPOCH', epoch: 2 });
    }
  });

  it('app messages are fanned out without ordering, with a per-room seq, never echoed', async () => {
    const room = randomId();
    const [a, b, c] = [await client(), await client(), await client()];
    for (const x of [a, b, c]) await x.sub(room, 5);
    const id = randomId();
    a.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 1 }, new Uint8Array([9, 9]));
    await a.next('ack');
    for (const x of [b, c]) {
      const m = await x.next('msg');
      expect(m.header).toEqual({ v: 1, t: 'msg', room, id, kind: 'app', epoch: 1, seq: 1 });
      expect([...m.body]).toEqual([9, 9]);
    }
    expect(await a.nothing('msg')).toBe(true);
    b.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'proposal', epoch: 5 });
    expect((await c.next('msg')).header.seq).toBe(2);
  });

  it('a pub to a room the connection has not subscribed to is nacked E_NOT_SUBSCRIBED', async () => {
    const room = randomId();
    const [a, b] = [await client(), await client()];
    await b.sub(room);
    const id = randomId();
    a.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 });
    expect((await a.next('nack')).header).toEqual({ v: 1, t: 'nack', id, code: 'E_NOT_SUBSCRIBED' });
    expect(await b.nothing('msg')).toBe(true);
  });

  it('a member catching up over several commits gets everything the room said since its first sub, not only since its last', async () => {
    const room = randomId();
    const a = await client();
    await a.sub(room, 0);
    for (const epoch of [0, 1]) {
      const id = randomId();
      a.commit(room, id, epoch, new Uint8Array([epoch]));
      await a.next('ack', (h) => h.id === id);
    }
    // b was away for both commits: it is sent them, and works through them one `sub` at a time.
    const b = await client();
    const said: string[] = [];
    const say = async (): Promise<void> => {
      const id = randomId();
      said.push(id);
      a.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 2 }, new Uint8Array([1]));
      await a.next('ack', (h) => h.id === id);
    };
    b.send(b.subHeader(room, 0));
    expect((await b.next('nack')).header).toMatchObject({ code: 'E_STALE_EPOCH', epoch: 2 });
    await say();
    b.send(b.subHeader(room, 1)); // the first commit processed: the log again from there
    expect((await b.next('nack')).header).toMatchObject({ code: 'E_STALE_EPOCH', epoch: 2 });
    await say();
    await b.sub(room, 2);
    for (const id of said) await b.next('msg', (h) => h.kind === 'app' && h.id === id);
  });
});
