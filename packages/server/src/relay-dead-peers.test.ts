/**
 * THREATS A.6: a peer that vanishes without a FIN (here: a raw socket that never answers
 * WebSocket pings) is found by the relay's ping/pong and terminated; the room's presence drops.
 * A peer that answers pings (every WebSocket library does) is never dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, randomId } from '@safehouse/core/protocol';
import { TestClient, maskedFrame, rawHello, rawWebSocket, serverFrames, sleep, startTestServer, subHeader, until, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('dead peers', () => {
  it('a half-open peer is terminated within ping interval + pong timeout, and presence updated', async () => {
    server = await startTestServer({ pingIntervalMs: 100, pongTimeoutMs: 150 });
    const room = randomId();
    const alive = await TestClient.connect(server);
    await alive.sub(room);

    const { socket, data } = await rawWebSocket(server.port, `${server.basePath}/ws`);
    const nonce = await rawHello(socket, data);
    socket.write(maskedFrame(0x2, encodeFrame(subHeader(nonce, room))));
    expect((await alive.next('presence', (h) => h.count === 2)).header.count).toBe(2);
    const started = Date.now();

    // The raw peer reads but never answers: it is dead to the relay.
    const gone = await alive.next('presence', (h) => h.count === 1, 5_000);
    expect(gone.header.count).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(serverFrames(data).some((f) => f.opcode === 0x9)).toBe(true); // it was pinged
    await until(() => socket.destroyed || socket.readyState === 'closed', 5_000, 'the raw socket to be closed');
    expect(server.stats()).toMatchObject({ deadPeers: 1, connections: 1 });
    expect(server.logger.entries.some((e) => e.event === 'dead-peer')).toBe(true);

    // The live client answered every ping meanwhile and is still here.
    await sleep(500);
    alive.send({ v: 1, t: 'ping' });
    await alive.next('pong');
    expect(server.stats().deadPeers).toBe(1);
    alive.close();
  });
});
