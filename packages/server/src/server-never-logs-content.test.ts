/**
 * THREATS B.15: a seized box has nothing to tell. A canary string sent as a message body, a
 * join request, a Welcome, inside a bad header, as a text frame and in a probed URL never
 * reaches the logger, nor stdout or stderr; nor do room ids, sessions or the base path.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, rawExchange, startTestServer, type TestServer } from './testing/harness.js';

const CANARY = `CANARY-${randomId()}`;
const canary = new TextEncoder().encode(CANARY);
const written: string[] = [];
let server: TestServer;

beforeEach(async () => {
  written.length = 0;
  const capture = (chunk: unknown): boolean => (written.push(String(chunk)), true);
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  server = await startTestServer({ pingIntervalMs: 50, pongTimeoutMs: 50 });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('the server never logs content', () => {
  it('canary bodies, ids and the base path never reach the logger or the console', async () => {
    const room = randomId();
    const session = randomId();
    const a = await TestClient.open(`${server.url.replace('http', 'ws')}ws`);
    a.send({ v: 1, t: 'hello', session });
    a.nonce = (await a.next('hello')).header.nonce;
    const b = await TestClient.connect(server);
    await a.sub(room);
    await b.sub(room);
    a.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, canary);
    expect(new TextDecoder().decode((await b.next('msg')).body)).toBe(CANARY);
    const joiner = await TestClient.connect(server);
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, canary);
    await a.next('join');
    a.send({ v: 1, t: 'welcome', room, id: randomId(), to: joinId }, canary);
    await joiner.next('welcome');
    // Faults that are logged: a bad header carrying the canary, a text frame, a huge frame.
    const bad = await TestClient.connect(server);
    bad.sendRaw(new TextEncoder().encode(`\u0000\u0030{"v":1,"t":"ping","x":"${CANARY}"}`));
    await bad.closed;
    const text = await TestClient.connect(server);
    text.sendRaw(CANARY);
    await text.closed;
    const big = await TestClient.connect(server);
    big.sendRaw(new Uint8Array(70_000).fill(0x43));
    await big.closed;
    await rawExchange(server.port, `GET /${CANARY} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await rawExchange(server.port, `GET ${server.basePath}/${CANARY} HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (const c of [a, b, joiner]) c.close();
    await server.close();

    const logged = server.logger.text() + written.join('');
    expect(server.logger.entries.length).toBeGreaterThan(3); // it did log: lifecycle and faults
    expect(server.logger.entries.some((e) => e.event === 'protocol-violation')).toBe(true);
    for (const secret of [CANARY, room, session, joinId, server.basePath.slice(1)]) expect(logged).not.toContain(secret);
    // The injected logger replaces the default one: the server itself printed nothing.
    expect(written.filter((w) => w.includes('safehouse-server'))).toEqual([]);
  });
});
