/**
 * docs/protocol.md "Roughtime through the relay": `rt {id, server}` + request bytes reach only a
 * server configured on the relay and come back as `rt {id}` + the reply, opaque; the client's
 * nonce and the server's signature make the reply verifiable end to end. Sizes and rates are
 * limited; unknown servers and silence are `nack`s. Also: an expired `pub` hint is not fanned out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { buildRequest, parseServerSpec, verifyReply } from '@safehouse/core/roughtime';
import { startServer, type RunningServer } from '../index.js';
import { CapturingLogger, TestClient } from '../testing/harness.js';
import { startRoughtimeServer, type RunningRoughtimeServer } from './udp-server.js';

let relay: RunningServer | undefined;
let rt: RunningRoughtimeServer | undefined;
afterEach(async () => {
  await relay?.close();
  await rt?.close();
  relay = rt = undefined;
});

async function setUp(extraUpstreams: { host: string; port: number }[] = []): Promise<TestClient> {
  rt = await startRoughtimeServer({ port: 0 });
  relay = await startServer({ port: 0, logger: new CapturingLogger(), roughtimeUpstreams: [{ host: '127.0.0.1', port: rt.port }, ...extraUpstreams] });
  return TestClient.connect(relay);
}

describe('the relay Roughtime path', () => {
  it('carriesARequestToItsConfiguredServerAndTheReplyVerifiesAtTheClient', async () => {
    const c = await setUp();
    const spec = parseServerSpec(rt!.spec);
    if (!spec.ok) throw new Error(spec.message);
    const request = await buildRequest({ publicKey: spec.server.publicKey });
    const id = randomId();
    c.send({ v: 1, t: 'rt', id, server: 0 }, request.packet);
    const { body } = await c.next('rt', (h) => h.id === id);
    const v = await verifyReply({ request, reply: body, publicKey: spec.server.publicKey });
    expect(v).toMatchObject({ ok: true, kind: 'time' });
    c.close();
  });

  it('refusesUnknownServersWrongSizesAndFloods', async () => {
    const c = await setUp();
    const request = (await buildRequest({ publicKey: rt!.publicKey })).packet;
    const ask = async (server: number, body: Uint8Array): Promise<string> => {
      const id = randomId();
      c.send({ v: 1, t: 'rt', id, server }, body);
      const f = await Promise.race([c.next('nack', (h) => h.id === id), c.next('rt', (h) => h.id === id)]);
      return f.header.t === 'nack' ? f.header.code : 'rt';
    };
    expect(await ask(7, request)).toBe('E_ROUGHTIME_UNREACHABLE');
    expect(await ask(0, request.subarray(0, 512))).toBe('E_ROUGHTIME_BAD_VALUE');
    expect(await ask(0, new Uint8Array(2048))).toBe('E_ROUGHTIME_BAD_VALUE');
    // Burst of 8, then 2/s: a flood is refused.
    const codes = await Promise.all(Array.from({ length: 12 }, () => ask(0, request)));
    expect(codes.filter((x) => x === 'E_RATE_LIMITED').length).toBeGreaterThanOrEqual(3);
    c.close();
  });

  it('answersSilenceWithANack (the relay can only delay or drop)', async () => {
    const dead = await startRoughtimeServer({ port: 0 });
    const port = dead.port;
    await dead.close();
    const c = await setUp([{ host: '127.0.0.1', port }]);
    const id = randomId();
    c.send({ v: 1, t: 'rt', id, server: 1 }, (await buildRequest({ publicKey: rt!.publicKey })).packet);
    expect((await c.next('nack', (h) => h.id === id, 4_000)).header.code).toBe('E_ROUGHTIME_UNREACHABLE');
    c.close();
  });

  it('aRelayWithoutRoughtimeRefusesRt', async () => {
    relay = await startServer({ port: 0, logger: new CapturingLogger() });
    const c = await TestClient.connect(relay);
    const id = randomId();
    c.send({ v: 1, t: 'rt', id, server: 0 }, new Uint8Array(1024));
    expect((await c.next('nack', (h) => h.id === id)).header.code).toBe('E_ROUGHTIME_UNREACHABLE');
    c.close();
  });

  it('dropsAPubWhoseExpiryHintHasPassed (E_EXPIRED) and fansOutALiveOne', async () => {
    relay = await startServer({ port: 0, logger: new CapturingLogger() });
    const [a, b] = [await TestClient.connect(relay), await TestClient.connect(relay)];
    const room = randomId();
    await a.sub(room);
    await b.sub(room);
    const old = randomId();
    a.send({ v: 1, t: 'pub', room, id: old, kind: 'app', epoch: 0, exp: Date.now() - 1 }, new Uint8Array(10));
    expect((await a.next('nack', (h) => h.id === old)).header.code).toBe('E_EXPIRED');
    const live = randomId();
    a.send({ v: 1, t: 'pub', room, id: live, kind: 'app', epoch: 0, exp: Date.now() + 60_000 }, new Uint8Array(10));
    await a.next('ack', (h) => h.id === live);
    expect((await b.next('msg')).header.id).toBe(live);
    a.close();
    b.close();
  });
});
