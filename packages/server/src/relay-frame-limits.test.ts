/**
 * THREATS A.1-A.4 and docs/protocol.md "Framing": what the relay does with frames it must refuse.
 * Oversized frames close with 1009 before anything is buffered (even a declared length of 2^63),
 * text frames with 1003, broken WebSocket framing with 1002/1007, and a header that fails the
 * schema — `__proto__` included — with an `error {code}` frame and 1008.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, randomId } from '@safehouse/core/protocol';
import {
  TestClient,
  maskedFrame,
  rawCloseCode,
  rawWebSocket,
  serverFrames,
  startTestServer,
  until,
  type TestServer,
} from './testing/harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ helloTimeoutMs: 300 });
});
afterAll(async () => {
  await server.close();
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** A frame with a hand-written header (the encoder would refuse most of these). */
function rawHeaderFrame(json: string, body: Uint8Array = new Uint8Array()): Uint8Array {
  const h = utf8(json);
  const out = new Uint8Array(2 + h.length + body.length);
  out[0] = h.length >> 8;
  out[1] = h.length & 0xff;
  out.set(h, 2);
  out.set(body, 2 + h.length);
  return out;
}

async function errorThenClose(c: TestClient): Promise<{ code: string; close: number }> {
  const err = await c.next('error');
  const closed = await c.closed;
  return { code: err.header.code, close: closed.code };
}

describe('frame limits', () => {
  it('a frame one byte over maxFrameBytes closes with 1009', async () => {
    const c = await TestClient.connect(server);
    const room = randomId();
    c.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, new Uint8Array(64 * 1024));
    expect((await c.closed).code).toBe(1009);
  });

  it('a raw frame header declaring 2^63 - 1, 2^63 or 100 MB closes with 1009, and memory stays flat', async () => {
    const before = process.memoryUsage();
    const lengths = [0x7fffffffffffffffn, 0x8000000000000000n, 100_000_000n];
    for (const len of lengths) {
      for (let i = 0; i < 5; i++) {
        const { socket, data } = await rawWebSocket(server.port, `${server.basePath}/ws`);
        const head = Buffer.alloc(14);
        head[0] = 0x82; // FIN, binary
        head[1] = 0x80 | 127; // masked, 64-bit length
        head.writeBigUInt64BE(len, 2);
        head.writeUInt32BE(0x01020304, 10); // mask
        socket.write(head);
        socket.write(Buffer.alloc(64 * 1024, 1)); // some payload, far short of the declaration
        expect(await rawCloseCode(socket, data), `length ${len}`).toBe(1009);
      }
    }
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * 1024 * 1024);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(64 * 1024 * 1024);
    await until(() => server.stats().connections === 0, 5_000, 'every refused socket to be gone');
  });

  it('a text frame closes with 1003', async () => {
    const c = await TestClient.connect(server);
    c.sendRaw('{"v":1,"t":"ping"}');
    expect((await c.closed).code).toBe(1003);
  });

  it('invalid UTF-8 in a text frame closes with 1007; an unmasked frame or a bad opcode with 1002', async () => {
    const cases: [string, Buffer, number][] = [
      ['invalid UTF-8', maskedFrame(0x1, Buffer.from([0xff, 0xfe, 0xfd])), 1007],
      ['unmasked', Buffer.from([0x82, 0x02, 0x00, 0x00]), 1002],
      ['opcode 0x3', maskedFrame(0x3, Buffer.from([1])), 1002],
      ['RSV1 set', Buffer.from(maskedFrame(0x2, Buffer.from([1])).map((b, i) => (i === 0 ? b | 0x40 : b))), 1002],
      ['ping over 125 bytes', maskedFrame(0x9, Buffer.alloc(126)), 1002],
    ];
    for (const [what, bytes, code] of cases) {
      const { socket, data } = await rawWebSocket(server.port, `${server.basePath}/ws`);
      socket.write(bytes);
      expect(await rawCloseCode(socket, data), what).toBe(code);
    }
  });

  it('a frame before hello gets error E_HEADER_INVALID and 1008', async () => {
    const c = await TestClient.open(`${server.url.replace('http', 'ws')}ws`);
    c.send({ v: 1, t: 'ping' });
    expect(await errorThenClose(c)).toEqual({ code: 'E_HEADER_INVALID', close: 1008 });
  });

  it('no hello within helloTimeoutMs: error E_TIMEOUT and 1008', async () => {
    const c = await TestClient.open(`${server.url.replace('http', 'ws')}ws`);
    expect(await errorThenClose(c)).toEqual({ code: 'E_TIMEOUT', close: 1008 });
  });

  it('headers that fail the schema get error {code} and 1008', async () => {
    const room = randomId();
    const table: [string, Uint8Array, string][] = [
      ['__proto__ key', rawHeaderFrame('{"v":1,"t":"ping","__proto__":{"polluted":true}}'), 'E_HEADER_INVALID'],
      ['constructor key', rawHeaderFrame('{"v":1,"t":"ping","constructor":{"prototype":{}}}'), 'E_HEADER_INVALID'],
      ['unknown key', rawHeaderFrame(`{"v":1,"t":"sub","room":"${room}","epoch":0,"x":1}`), 'E_HEADER_INVALID'],
      ['bad room id', rawHeaderFrame('{"v":1,"t":"sub","room":"short","epoch":0}'), 'E_HEADER_INVALID'],
      ['negative epoch', rawHeaderFrame(`{"v":1,"t":"sub","room":"${room}","epoch":-1}`), 'E_HEADER_INVALID'],
      ['unknown kind', rawHeaderFrame('{"v":1,"t":"admin"}'), 'E_HEADER_INVALID'],
      ['deep nesting', rawHeaderFrame('{"v":1,"t":"ping","a":[[[[[[1]]]]]]}'), 'E_HEADER_INVALID'],
      ['not JSON', rawHeaderFrame('{"v":1,'), 'E_HEADER_INVALID'],
      ['version 2', rawHeaderFrame('{"v":2,"t":"ping"}'), 'E_UNSUPPORTED_VERSION'],
      ['header length beyond the frame', new Uint8Array([0x00, 0x40, 0x7b]), 'E_FRAME_MALFORMED'],
      ['empty frame', new Uint8Array(), 'E_FRAME_MALFORMED'],
      ['hello twice', encodeFrame({ v: 1, t: 'hello', session: randomId() }), 'E_HEADER_INVALID'],
    ];
    for (const [what, bytes, code] of table) {
      const c = await TestClient.connect(server);
      c.sendRaw(bytes);
      expect(await errorThenClose(c), what).toEqual({ code, close: 1008 });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('the relay answers its own hello with its id and maxFrame', async () => {
    const { socket, data } = await rawWebSocket(server.port, `${server.basePath}/ws`);
    socket.write(maskedFrame(0x2, encodeFrame({ v: 1, t: 'hello', session: randomId() })));
    const deadline = Date.now() + 5_000;
    while (!serverFrames(data).some((f) => f.opcode === 0x2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const hello = serverFrames(data).find((f) => f.opcode === 0x2);
    socket.destroy();
    const text = hello?.payload.subarray(2).toString('utf8') ?? '';
    expect(JSON.parse(text)).toMatchObject({ v: 1, t: 'hello', maxFrame: 64 * 1024 });
  });
});
