/**
 * docs/protocol.md "Joining a room" and "Rooms and presence": join requests reach every member
 * (including one who subscribes later), a Welcome reaches exactly the joiner that asked, a
 * Welcome for a gone joiner is nacked E_NO_SUCH_JOINER, pending joins are bounded, expire and
 * die with their connection, and presence counts follow sub, unsub and disconnects.
 */
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame, randomId, type ClientHeader } from '@safehouse/core/protocol';
import { TestClient, maskedFrame, rawHello, rawWebSocket, startTestServer, subHeader, until, type TestServer } from './testing/harness.js';
import type { ServerLimits } from './config.js';

let server: TestServer | undefined;
const clients: TestClient[] = [];
async function start(limits: Partial<ServerLimits> = {}): Promise<TestServer> {
  server = await startTestServer(limits);
  return server;
}
async function client(): Promise<TestClient> {
  if (!server) throw new Error('no server');
  const c = await TestClient.connect(server);
  clients.push(c);
  return c;
}
beforeEach(() => {
  server = undefined;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
});

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('joins and welcomes', () => {
  it('a join reaches current members and later subscribers; the Welcome reaches only that joiner', async () => {
    await start();
    const room = randomId();
    const [member, late, joiner, bystander] = [await client(), await client(), await client(), await client()];
    await member.sub(room, 1);
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, bytes(1, 2, 3));
    expect((await joiner.next('ack')).header.id).toBe(joinId);
    const seen = await member.next('join');
    expect(seen.header).toEqual({ v: 1, t: 'join', room, id: joinId });
    expect([...seen.body]).toEqual([1, 2, 3]);

    late.send(late.subHeader(room, 1));
    const pending = await late.next('join');
    expect(pending.header.id).toBe(joinId);
    expect([...pending.body]).toEqual([1, 2, 3]);

    const welcomeId = randomId();
    member.send({ v: 1, t: 'welcome', room, id: welcomeId, to: joinId }, bytes(1, 42));
    expect((await member.next('ack')).header.id).toBe(welcomeId);
    const w = await joiner.next('welcome');
    expect(w.header).toEqual({ v: 1, t: 'welcome', room, id: welcomeId });
    expect([...w.body]).toEqual([1, 42]);
    expect(await bystander.nothing('welcome')).toBe(true);
    expect(await late.nothing('welcome')).toBe(true);

    // A first answer may be a forgery (a rival cohort): a second one still reaches the joiner...
    const again = randomId();
    late.send({ v: 1, t: 'welcome', room, id: again, to: joinId }, bytes(1));
    expect((await joiner.next('welcome')).header.id).toBe(again);
    // ...until the joiner subscribes to the room: then it was admitted, and the request is gone.
    await joiner.sub(room, 1);
    const after = randomId();
    late.send({ v: 1, t: 'welcome', room, id: after, to: joinId }, bytes(1));
    expect((await late.next('nack', (h) => h.id === after)).header).toEqual({ v: 1, t: 'nack', id: after, code: 'E_NO_SUCH_JOINER' });
  });

  it('a Welcome for a joiner that disconnected is nacked E_NO_SUCH_JOINER', async () => {
    const s = await start();
    const room = randomId();
    const [member, joiner] = [await client(), await client()];
    await member.sub(room);
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, bytes(9));
    await joiner.next('ack');
    await member.next('join');
    joiner.close();
    await until(() => s.stats().pendingJoins === 0, 5_000, 'the pending join to be dropped');
    const id = randomId();
    member.send({ v: 1, t: 'welcome', room, id, to: joinId }, bytes(1));
    expect((await member.next('nack')).header).toMatchObject({ id, code: 'E_NO_SUCH_JOINER' });
    // A member that is not subscribed cannot send Welcomes at all.
    const outsider = await client();
    const id2 = randomId();
    outsider.send({ v: 1, t: 'welcome', room, id: id2, to: joinId }, bytes(1));
    expect((await outsider.next('nack')).header).toMatchObject({ id: id2, code: 'E_NOT_SUBSCRIBED' });
  });

  it('pending joins expire after their TTL, and their room with them', async () => {
    const s = await start({ pendingJoinTtlMs: 150 });
    const joiner = await client();
    const room = randomId();
    joiner.send({ v: 1, t: 'join', room, id: randomId() }, bytes(1));
    await joiner.next('ack');
    expect(s.stats()).toMatchObject({ pendingJoins: 1, rooms: 1 });
    await until(() => s.stats().pendingJoins === 0, 5_000, 'the join to expire');
    // At once alone; a cluster's relay lets an idle room go after a moment (relay.ts LINGER_MS).
    await until(() => s.stats().rooms === 0, 5_000, 'its room to go with it');
    const member = await client();
    await member.sub(room);
    expect(await member.nothing('join')).toBe(true);
  });

  it('at most maxPendingJoinsPerConnection joins wait per connection', async () => {
    await start({ maxPendingJoinsPerConnection: 3 });
    const joiner = await client();
    const ids = [randomId(), randomId(), randomId(), randomId()];
    for (const id of ids) joiner.send({ v: 1, t: 'join', room: randomId(), id }, bytes(1));
    for (const id of ids.slice(0, 3)) expect((await joiner.next('ack')).header.id).toBe(id);
    expect((await joiner.next('nack')).header).toMatchObject({ id: ids[3], code: 'E_RATE_LIMITED' });
  });
});

describe('presence', () => {
  it('counts follow sub, unsub and disconnects; empty rooms are deleted', async () => {
    const s = await start();
    const room = randomId();
    const [a, b, c] = [await client(), await client(), await client()];
    a.send(a.subHeader(room));
    expect((await a.next('presence')).header).toEqual({ v: 1, t: 'presence', room, count: 1 });
    b.send(b.subHeader(room));
    expect((await a.next('presence')).header.count).toBe(2);
    expect((await b.next('presence')).header.count).toBe(2);
    c.send(c.subHeader(room));
    for (const x of [a, b, c]) expect((await x.next('presence')).header.count).toBe(3);
    c.send({ v: 1, t: 'unsub', room });
    for (const x of [a, b]) expect((await x.next('presence')).header.count).toBe(2);
    expect(await c.nothing('presence')).toBe(true);
    b.close();
    expect((await a.next('presence')).header.count).toBe(1);
    expect(s.stats()).toMatchObject({ rooms: 1, subscriptions: 1 });
    a.send({ v: 1, t: 'unsub', room });
    await until(() => s.stats().rooms === 0, 5_000, 'the empty room to be deleted');
  });

  /** A member `a` in a room, and a second connection that says `hello` then `steps` in one write:
   *  the relay reads them in one turn (a room filling up in a burst). `more` writes more steps;
   *  `marker` subscribes one more member, a count no step of the burst reaches. */
  async function burst(
    steps: ('sub' | 'unsub')[],
  ): Promise<{ a: TestClient; socket: Socket; more: (steps: ('sub' | 'unsub')[]) => void; marker: () => Promise<void> }> {
    const s = await start();
    const room = randomId();
    const a = await client();
    await a.sub(room);
    const { socket, data } = await rawWebSocket(s.port, `${s.basePath}/ws`);
    const nonce = await rawHello(socket, data);
    const f = (h: ClientHeader): Buffer => maskedFrame(0x2, encodeFrame(h));
    const more = (later: ('sub' | 'unsub')[]): void =>
      void socket.write(Buffer.concat(later.map((t) => f(t === 'sub' ? subHeader(nonce, room) : { v: 1, t, room }))));
    more(steps);
    const marker = async (): Promise<void> => {
      const m = await client();
      m.send(m.subHeader(room));
    };
    return { a, socket, more, marker };
  }

  /** The counts of the presence frames `a` has, once one with `count` (the marker) has come. */
  async function countsUpTo(a: TestClient, count: number): Promise<number[]> {
    await until(() => a.frames.some((x) => x.header.t === 'presence' && x.header.count === count), 5_000, `presence ${count}`);
    return a.frames.flatMap((x) => (x.header.t === 'presence' ? [x.header.count] : []));
  }

  it('changes within one turn make one presence frame per member, with the final count', async () => {
    const { a, socket, marker } = await burst(['sub', 'unsub', 'sub', 'unsub', 'sub']);
    expect((await a.next('presence')).header.count).toBe(2);
    await marker();
    expect(await countsUpTo(a, 3)).toEqual([3]);
    socket.destroy();
    expect((await a.next('presence', (h) => h.count === 2)).header.count).toBe(2);
  });

  it('a rise that a leave takes back within the turn is still told: the peak, then the count', async () => {
    const { a, socket, more, marker } = await burst(['sub', 'unsub']);
    expect((await a.next('presence')).header.count).toBe(2);
    // The socket back in (read after its burst), then the marker: 3 members. (In a cluster the
    // marker is on another relay, whose count may cross the socket's: it goes once 2 was told.)
    more(['sub']);
    await until(() => a.frames.some((x) => x.header.t === 'presence' && x.header.count === 2), 5_000, 'presence 2');
    await marker();
    expect(await countsUpTo(a, 3)).toEqual([1, 2, 3]);
    socket.destroy();
  });

  it('a connection may subscribe to at most maxRoomsPerConnection rooms (nack names the room)', async () => {
    await start({ maxRoomsPerConnection: 2 });
    const a = await client();
    await a.sub(randomId());
    const kept = randomId();
    await a.sub(kept);
    const third = randomId();
    a.send(a.subHeader(third));
    expect((await a.next('nack')).header).toEqual({ v: 1, t: 'nack', id: third, code: 'E_ROOM_LIMIT' });
    // Re-subscribing to a room it is in (proving its epoch again) is not a new room.
    a.send(a.subHeader(kept));
    expect(await a.nothing('nack')).toBe(true);
  });

  it('ping is answered with pong', async () => {
    await start();
    const a = await client();
    a.send({ v: 1, t: 'ping' });
    await a.next('pong');
  });
});
