/**
 * docs/protocol.md "Publishing": a `pub` is fanned out to every other subscriber as one `msg`
 * frame, encoded once — every recipient's socket is handed the very same buffer (the whole
 * WebSocket frame, writer.ts), so the body is not copied per recipient — and never echoed to
 * the sender.
 */
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeRelayFrame, randomId } from '@safehouse/core/protocol';
import { TestClient, startTestServer, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  server = undefined;
});

describe('fan-out', () => {
  it('one buffer for all recipients, none for the sender', async () => {
    server = await startTestServer();
    const room = randomId();
    const clients = await Promise.all(Array.from({ length: 6 }, () => TestClient.connect(server as TestServer)));
    for (const c of clients) await c.sub(room);
    const [sender, ...others] = clients as [TestClient, ...TestClient[]];

    const sent: { socket: Socket; data: unknown }[] = [];
    const original = Reflect.get(Socket.prototype, 'write') as (this: Socket, ...a: unknown[]) => boolean;
    vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, data: unknown, ...rest: unknown[]) {
      sent.push({ socket: this, data });
      return original.call(this, data, ...rest);
    });
    // The relay's frames are unmasked binary WebSocket frames (clients' frames are masked).
    const relayPayload = (data: unknown): Uint8Array | undefined => {
      if (!(data instanceof Uint8Array) || data.length < 2 || data[0] !== 0x82 || (data[1] ?? 0) & 0x80)
        return undefined;
      const len = (data[1] ?? 0) & 0x7f;
      return data.subarray(len < 126 ? 2 : len === 126 ? 4 : 10);
    };

    const id = randomId();
    const body = new Uint8Array(32 * 1024).fill(7);
    sender.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 }, body);
    await sender.next('ack');
    for (const o of others) expect((await o.next('msg')).body.length).toBe(body.length);
    expect(await sender.nothing('msg')).toBe(true);

    const msgs = sent.filter(({ data }) => {
      const payload = relayPayload(data);
      if (!payload) return false;
      const d = decodeRelayFrame(payload);
      return d.ok && d.header.t === 'msg' && d.header.id === id;
    });
    expect(msgs).toHaveLength(others.length);
    // Per relay (one, or each of a cluster's: their sockets listen on different ports), the same object, not an equal copy.
    const firstOn = new Map<number | undefined, unknown>();
    for (const m of msgs) {
      if (!firstOn.has(m.socket.localPort)) firstOn.set(m.socket.localPort, m.data);
      expect(m.data).toBe(firstOn.get(m.socket.localPort));
    }
    expect(new Set(msgs.map((m) => m.socket)).size).toBe(others.length);
    for (const c of clients) c.close();
  });
});
