/**
 * RFC 9420 §14 via docs/protocol.md "Publishing": the relay orders commits per room — the first
 * commit for an epoch wins, a resent commit is acked again, a stale one is nacked with the
 * room's epoch — and fans every `pub` out to the other subscribers, never back to the sender.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, commitHeader, startTestServer, until, type TestServer } from './testing/harness.js';

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

  it('commits racing for the same epoch from several members (on several relays in a cluster): exactly one wins each epoch, and every member sees the same order', async () => {
    const room = randomId();
    const racers = [await client(), await client(), await client(), await client()];
    const watcher = await client();
    for (const x of [...racers, watcher]) await x.sub(room, 0);
    const EPOCHS = 12;
    const winners: string[] = [];
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const ids = racers.map(() => randomId());
      // All at once: no racer waits for another's answer.
      racers.forEach((r, i) => r.commit(room, ids[i]!, epoch, new Uint8Array([epoch, i])));
      // Each racer gets exactly one answer for its commit: the ack (one racer) or E_STALE_EPOCH naming the next epoch.
      const acked: string[] = [];
      for (const [i, r] of racers.entries()) {
        await until(() => r.frames.some((f) => (f.header.t === 'ack' || f.header.t === 'nack') && f.header.id === ids[i]), 5_000, 'an answer');
        const f = r.frames.find((x) => (x.header.t === 'ack' || x.header.t === 'nack') && x.header.id === ids[i]);
        if (f?.header.t === 'nack') expect(f.header).toMatchObject({ code: 'E_STALE_EPOCH', epoch: epoch + 1 });
        else acked.push(ids[i]!);
      }
      expect(acked).toHaveLength(1);
      winners.push(acked[0]!);
      // Every racer proves the new epoch before the next round (as members do after a commit).
      for (const r of racers) r.send(r.subHeader(room, epoch + 1));
      watcher.send(watcher.subHeader(room, epoch + 1));
    }
    // The watcher and every racer saw the winners' commits, each once, in the same order (a racer never gets its own).
    const commitsAt = (c: TestClient) => c.frames.flatMap((f) => (f.header.t === 'msg' && f.header.kind === 'commit' ? [f.header.id] : []));
    await until(() => commitsAt(watcher).length >= EPOCHS, 5_000, 'every commit at the watcher');
    expect(commitsAt(watcher)).toEqual(winners);
    for (const r of racers) expect(commitsAt(r)).toEqual(winners.filter((w) => !r.frames.some((f) => f.header.t === 'ack' && f.header.id === w)));
  });
});
