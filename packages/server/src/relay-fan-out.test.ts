/**
 * docs/protocol.md "Publishing": a `pub` is fanned out to every other subscriber as one `msg`
 * frame, encoded once — every recipient's socket is handed the very same buffer, so the body is
 * not copied per recipient — and never echoed to the sender.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
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

    const sent: { socket: WebSocket; data: unknown }[] = [];
    const original = Reflect.get(WebSocket.prototype, 'send') as (this: WebSocket, ...a: unknown[]) => void;
    vi.spyOn(WebSocket.prototype, 'send').mockImplementation(function (this: WebSocket, data: unknown, ...rest: unknown[]) {
      sent.push({ socket: this, data });
      original.call(this, data, ...rest);
    });

    const id = randomId();
    const body = new Uint8Array(32 * 1024).fill(7);
    sender.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 }, body);
    await sender.next('ack');
    for (const o of others) expect((await o.next('msg')).body.length).toBe(body.length);
    expect(await sender.nothing('msg')).toBe(true);

    const msgs = sent.filter(({ data }) => {
      if (!(data instanceof Uint8Array)) return false;
      const d = decodeRelayFrame(data);
      return d.ok && d.header.t === 'msg' && d.header.id === id;
    });
    expect(msgs).toHaveLength(others.length);
    const first = msgs[0]?.data;
    for (const m of msgs) expect(m.data).toBe(first); // the same object, not an equal copy
    expect(new Set(msgs.map((m) => m.socket)).size).toBe(others.length);
    for (const c of clients) c.close();
  });
});
