/**
 * THREATS A.9: a client that never reads cannot make the relay hold an unbounded queue. Its
 * socket's queue passes maxBufferedBytes, it is dropped (close 1013, then destroyed after the
 * grace), presence is updated, and the bytes the relay holds stay bounded throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, sleep, startTestServer, until, within, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('slow consumer', () => {
  it('a client that never reads is dropped while another floods; relay memory stays bounded', async () => {
    const maxBufferedBytes = 1024 * 1024;
    const unlimited = { ratePerSecond: 1_000_000, rateBurst: 1_000_000, bytesPerSecond: 1 << 30, bytesBurst: 1 << 30 };
    server = await startTestServer({ ...unlimited, maxBufferedBytes, closeGraceMs: 200 });
    const room = randomId();
    const slow = await TestClient.connect(server);
    const flooder = await TestClient.connect(server);
    await slow.sub(room);
    await flooder.sub(room);
    slow.ws.pause(); // never reads again: the kernel buffers fill, then the relay's queue grows

    const body = new Uint8Array(60 * 1024);
    let sent = 0;
    let maxHeld = 0;
    const total = 64 * 1024 * 1024;
    while (sent < total && server.stats().slowConsumers === 0) {
      flooder.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, body);
      sent += body.length;
      maxHeld = Math.max(maxHeld, server.stats().bufferedBytes);
      // Pace the flooder on its own queue, so the only slow reader is `slow`.
      while (flooder.ws.bufferedAmount > 256 * 1024) await sleep(1);
      if (sent % (1024 * 1024) < body.length) await sleep(1);
      maxHeld = Math.max(maxHeld, server.stats().bufferedBytes);
    }
    // At the drop the relay held about maxBufferedBytes for the slow socket, not what was sent.
    expect(server.stats().bufferedBytes).toBeGreaterThan(maxBufferedBytes / 2);
    expect(server.stats().slowConsumers).toBe(1);
    expect(sent).toBeLessThan(total);
    // Keep flooding after the drop: nothing accumulates for the dropped client.
    for (let i = 0; i < 200; i++) {
      flooder.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, body);
      maxHeld = Math.max(maxHeld, server.stats().bufferedBytes);
      while (flooder.ws.bufferedAmount > 256 * 1024) await sleep(1);
    }
    expect(maxHeld).toBeLessThanOrEqual(maxBufferedBytes + 2 * 64 * 1024);

    const presence = await flooder.next('presence', (h) => h.count === 1);
    expect(presence.header.count).toBe(1);
    await until(() => server?.stats().connections === 1, 5_000, 'the slow socket to be destroyed');
    slow.ws.resume();
    const closed = await within(slow.closed, 5_000, 'the slow client to see its connection end');
    expect([1013, 1006]).toContain(closed.code);
    expect(server.logger.entries.filter((e) => e.event === 'slow-consumer')).toHaveLength(1);
    flooder.close();
  });
});
