/**
 * Failover between the relays a link names (its own, then `a`), against real relays: two
 * in-process relays on real ports with the same base path, the `ws` transport, the real e2ee.
 * Most tests run the relays without a bus: what moves with the client is what a relay restart
 * already needs, the client's claim of its epoch (a one-member room is rebuilt on the other
 * relay) and its outbox. A relay stopped by `close()` (it says `closing`), a relay whose port
 * dies and then refuses connections, a relay answering 404 while the other works, and each
 * relay's own certificate pin. The last runs a real cluster (a real Redis): a member whose relay
 * stops joins the conversation going on at the other, with nothing lost or shown twice.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientEvent } from '@safehouse/core/client';
import { formatInvite, parseInvite, randomId } from '@safehouse/core/protocol';
import { selfSignedTls, type RunningServer } from '@safehouse/server';
import { marker, until, World, type Member } from '../testing/members.js';
import { startRedis, type TestRedis } from '../../../server/src/testing/redis.js';

const world = new World();
let redis: TestRedis | undefined;
afterEach(async () => {
  await world.end();
  await redis?.stop();
  redis = undefined;
});

type ConnectionEvent = Extract<ClientEvent, { type: 'connection' }>;
const connection = (m: Member): ConnectionEvent | undefined => m.of('connection').at(-1);
const address = (s: { port: number }): string => `127.0.0.1:${s.port}`;
/** Connected to that relay now. */
const on = (m: Member, relay: { port: number }): boolean => {
  const c = connection(m);
  return c?.state === 'connected' && c.endpoint === address(relay);
};

/** Two relays of one "cluster": the same base path, each on its own port. */
async function twoRelays(options: Parameters<World['server']>[0] = {}): Promise<[RunningServer, RunningServer]> {
  const basePath = `/${randomId()}`;
  return [await world.server({ basePath, ...options }), await world.server({ basePath, ...options })];
}

/** A port nothing listens on (it refuses connections). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP forwarder to `target`, which the test can kill: its connections die without a word, and its port then refuses. */
async function forwarder(target: number): Promise<{ port: number; kill(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => (client.destroy(), upstream.destroy(), sockets.delete(s)));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    port,
    kill: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** The server link of relay `first` that also names `others` (what `serve --also` prints). */
const linkOf = (first: string, ...others: Array<{ base: string; certFingerprint?: Uint8Array }>): string => formatInvite(first, undefined, { also: others });

describe('failover between the relays of a link', () => {
  it('aClientWhoseRelayStopsMovesToTheNextRelayAndGoesOnThereWithANewcomer', async () => {
    const [a, b] = await twoRelays();
    const alice = await world.member('alice', linkOf(a.url, { base: b.url }));
    await until(() => alice.of('invite').length === 1, "alice's room");
    await until(() => on(alice, a), 'alice connected to a');
    expect(await alice.sayAndWait('before')).toBe('ack');
    const invite = alice.of('invite')[0]!.link;
    expect(invite).toContain('&a=');

    // A stops: it says `closing`, alice leaves for B at once and claims her epoch there.
    await a.close();
    await until(() => on(alice, b), 'alice on B');
    expect(alice.of('info').map((e) => e.message)).toContain(`the relay ${address(a)} is shutting down; moving to another relay of the link`);
    expect(connection(alice)).toEqual({ type: 'connection', state: 'connected', restarted: true, endpoint: address(b), relays: 2 });
    expect(await alice.sayAndWait('after the failover')).toBe('ack');
    expect(b.stats()).toMatchObject({ connections: 1, rooms: 1, subscriptions: 1 });

    // bob opens alice's invite (made before): A's port refuses now, so he joins at B.
    const bob = await world.member('bob', invite);
    await until(() => bob.of('joined').length === 1, 'bob admitted at B');
    expect(bob.of('connection').map((c) => [c.state, 'endpoint' in c ? c.endpoint : undefined])).toEqual(
      expect.arrayContaining([
        ['connecting', address(a)],
        ['reconnecting', address(a)],
        ['connecting', address(b)],
        ['connected', address(b)],
      ]),
    );
    expect(bob.of('fatal')).toEqual([]);
    await alice.client.command('hello bob');
    await bob.client.command('hello alice');
    await until(() => bob.texts().includes('hello bob') && alice.texts().includes('hello alice'), 'both messages at B');
  });

  it('aRelayWhosePortDiesWithoutAWordAndThenRefusesIsLeftForTheNext', async () => {
    const [a, b] = await twoRelays();
    const toA = await forwarder(a.port);
    const viaA = `http://127.0.0.1:${toA.port}${a.basePath}/`;
    const alice = await world.member('alice', linkOf(viaA, { base: b.url }));
    await until(() => alice.of('invite').length === 1, "alice's room");
    await until(() => on(alice, toA), 'alice connected to toA');

    await toA.kill(); // no `closing`, no close frame: the TCP connection just ends
    await until(() => on(alice, b), 'alice on B');
    expect(alice.of('connection').some((c) => c.state === 'reconnecting' && c.endpoint === address(toA))).toBe(true);
    expect(await alice.sayAndWait('after the failover')).toBe('ack');
    expect(b.stats()).toMatchObject({ rooms: 1, subscriptions: 1 });
    expect(alice.of('fatal')).toEqual([]);
  });

  it('a404FromOneRelayDoesNotEndTheClientWhileAnotherWorks', async () => {
    const [, b] = await twoRelays();
    const a = await world.server({ basePath: '/not-this-cluster' }); // answers our path with 404
    const alice = await world.member('alice', linkOf(`http://127.0.0.1:${a.port}${b.basePath}/`, { base: b.url }));
    await until(() => alice.of('invite').length === 1, "alice's room at B");
    await until(() => on(alice, b), 'alice connected to b');
    expect(alice.of('error').map((e) => [e.code, e.message])).toEqual([
      ['E_NOT_FOUND', `the relay ${address(a)} answered 404: the link's path or the server password is wrong, or the server is gone; trying the other relays`],
    ]);
    expect(await alice.sayAndWait('at B')).toBe('ack');

    // B goes away for a while: A answers 404 again and again (more than the 3 a lone relay
    // gets), and alice keeps trying, since B answered before; B back, she is back.
    const port = b.port;
    const basePath = b.basePath;
    await b.close();
    world.servers.splice(world.servers.indexOf(b), 1);
    await until(() => a.stats().refusedRequests >= 5, 'A to answer 404 five times', 20_000);
    expect(alice.of('fatal')).toEqual([]);
    expect(connection(alice)?.state).not.toBe('offline');
    const again = await world.server({ port, basePath });
    await until(() => on(alice, again), 'alice back on B', 20_000);
    expect(await alice.sayAndWait('B is back')).toBe('ack');
    expect(alice.of('fatal')).toEqual([]);
  }, 40_000);

  it('eachRelaysOwnCertificatePinIsCheckedAndAWrongOneIsNeverConnectedTo', async () => {
    const [tlsA, tlsB] = [await selfSignedTls('127.0.0.1'), await selfSignedTls('127.0.0.1')];
    const basePath = `/${randomId()}`;
    const a = await world.server({ basePath, tls: { cert: tlsA.cert, key: tlsA.key } });
    const b = await world.server({ basePath, tls: { cert: tlsB.cert, key: tlsB.key } });
    expect(a.url.startsWith('https://') && b.url.startsWith('https://')).toBe(true);

    // Each relay with its own pin: from A to B when A stops.
    const alice = await world.member('alice', formatInvite(a.url, undefined, { certFingerprint: tlsA.fingerprint, also: [{ base: b.url, certFingerprint: tlsB.fingerprint }] }));
    await until(() => alice.of('invite').length === 1, "alice's room at A");
    await until(() => on(alice, a), 'alice connected to a');
    await a.close();
    await until(() => on(alice, b), 'alice on B, with B’s pin');
    expect(await alice.sayAndWait('over TLS at B')).toBe('ack');

    // A link that gives B another certificate's pin (A's): B is tried, and never spoken to.
    await alice.client.quit({ timeoutMs: 500 });
    await until(() => b.stats().connections === 0, 'alice gone from B');
    const before = b.stats();
    const carol = await world.member('carol', formatInvite(`https://127.0.0.1:${await closedPort()}${basePath}/`, undefined, { also: [{ base: b.url, certFingerprint: tlsA.fingerprint }] }));
    await until(() => carol.of('connection').filter((c) => c.state === 'reconnecting' && c.endpoint === address(b)).length >= 3, 'three tries at B');
    expect(carol.of('connection').some((c) => c.state === 'connected')).toBe(false);
    expect(carol.of('connection').find((c) => c.state === 'reconnecting' && c.endpoint === address(b))).toMatchObject({ reason: expect.stringContaining("certificate does not match the link") });
    // No connection to B's relay from carol, not a frame (the transport's probe sends nothing:
    // cli/transport/ws.test.ts).
    expect(b.stats()).toMatchObject({ connections: before.connections, framesIn: before.framesIn });
  }, 40_000);

  it('inAClusterAMemberWhoseRelayStopsGoesOnInTheSameConversationThroughTheOther', async () => {
    redis = await startRedis();
    const [a, b] = await twoRelays({ cluster: { url: redis.url, heartbeatMs: 200 } });
    // alice on A (her link names B too), bob on B (his names A too): one room across the two.
    const alice = await world.member('alice', linkOf(a.url, { base: b.url }));
    await until(() => alice.of('invite').length === 1, "alice's room");
    await until(() => on(alice, a), 'alice on A');
    const invite = alice.of('invite')[0]!.link;
    const parsed = parseInvite(invite);
    if (!parsed.ok) throw new Error(parsed.message);
    const bob = await world.member('bob', formatInvite(b.url, parsed.invite.room, { also: [{ base: a.url }] }));
    await until(() => bob.of('joined').length === 1, 'bob admitted across the relays');
    await until(() => on(bob, b), 'bob on B');
    await alice.client.command('before, from alice');
    await until(() => bob.texts().includes('before, from alice'), 'across the relays');

    await a.close();
    await until(() => on(alice, b), 'alice on B');
    expect(bob.of('connection').filter((c) => c.state === 'reconnecting')).toEqual([]); // B never went away
    await alice.client.command('after, from alice');
    await bob.client.command('after, from bob');
    await until(() => bob.texts().includes('after, from alice') && alice.texts().includes('after, from bob'), 'both after the failover');
    await marker(alice, bob);
    await marker(bob, alice);
    for (const m of [alice, bob]) {
      const ids = m.of('message').map((e) => `${e.fingerprint}/${e.id}`);
      expect(new Set(ids).size, `${m.name} shows each message once`).toBe(ids.length);
    }
    expect(bob.texts().filter((t) => !t.startsWith('marker'))).toEqual(['before, from alice', 'after, from alice']);
  }, 60_000);
});
