/**
 * `exp` on a `pub` (an unauthenticated expiry hint): the relay drops expired ciphertext with
 * `nack E_EXPIRED`, and passes a future `exp` on in the `msg` — whether the header takes the
 * fast path (as clients write it) or the full decoder (any other key order).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, startTestServer, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A pub header as JSON text, `exp` first (not the clients' order: the full decoder takes it). */
function reordered(room: string, id: string, exp: number): Uint8Array {
  const h = Buffer.from(JSON.stringify({ exp, v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 }));
  return Buffer.concat([Buffer.from([h.length >> 8, h.length & 0xff]), h, Buffer.from('body')]);
}

describe('expiry hint', () => {
  it('an expired pub is nacked and not fanned out; a future exp reaches the others', async () => {
    server = await startTestServer();
    const room = randomId();
    const a = await TestClient.connect(server);
    const b = await TestClient.connect(server);
    await a.sub(room);
    await b.sub(room);

    const past = Date.now() - 1_000;
    const stale = randomId();
    a.send({ v: 1, t: 'pub', room, id: stale, kind: 'app', epoch: 0, exp: past }, new Uint8Array(8));
    expect((await a.next('nack', (h) => h.id === stale)).header.code).toBe('E_EXPIRED');
    const staleReordered = randomId();
    a.sendRaw(reordered(room, staleReordered, past));
    expect((await a.next('nack', (h) => h.id === staleReordered)).header.code).toBe('E_EXPIRED');
    expect(await b.nothing('msg')).toBe(true);

    const future = Date.now() + 60_000;
    for (const [id, send] of [
      [
        randomId(),
        (id: string) => a.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0, exp: future }, new Uint8Array(8)),
      ],
      [randomId(), (id: string) => a.sendRaw(reordered(room, id, future))],
    ] as const) {
      send(id);
      await a.next('ack', (h) => h.id === id);
      const msg = await b.next('msg', (h) => h.id === id);
      expect(msg.header.exp).toBe(future);
    }
    a.close();
    b.close();
  });
});
