/**
 * Batched writes (writer.ts) keep the relay's semantics: a turn that fans out more than
 * `maxBufferedBytes` to a reader that keeps up does not make it a slow consumer (only what the
 * kernel refuses counts, as without batching), and frames arrive whole and in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { encodeFrame, randomId } from '@safehouse/core/protocol';
import { TestClient, maskedFrame, startTestServer, until, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('batched fan-out', () => {
  it('a burst larger than maxBufferedBytes in one turn reaches a reading client whole, in order', async () => {
    server = await startTestServer({ maxBufferedBytes: 1024 * 1024 });
    const room = randomId();
    const sender = await TestClient.connect(server);
    const reader = await TestClient.connect(server);
    await sender.sub(room);
    await reader.sub(room);
    await sender.next('presence', (h) => h.count === 2);

    // 40 frames of 60 KiB, written at once so that the relay reads them in one turn.
    const ids = Array.from({ length: 40 }, () => randomId());
    const frames = ids.map((id, i) =>
      maskedFrame(
        0x2,
        encodeFrame({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 }, new Uint8Array(60 * 1024).fill(i)),
      ),
    );
    const raw = (sender.ws as unknown as { _socket: Socket })._socket;
    raw.write(Buffer.concat(frames));

    await until(() => reader.frames.filter((f) => f.header.t === 'msg').length === ids.length, 10_000, 'every message');
    const got = reader.frames.filter((f) => f.header.t === 'msg');
    got.forEach((f, i) => {
      expect(f.header.t === 'msg' && f.header.id).toBe(ids[i]);
      expect(f.body.length).toBe(60 * 1024);
      expect(f.body[0]).toBe(i);
    });
    expect(server.stats().slowConsumers).toBe(0);
    sender.close();
    reader.close();
  });
});
