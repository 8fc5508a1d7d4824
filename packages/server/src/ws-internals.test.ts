/**
 * The relay stands on a few things of `ws` that are not its public API, which is why
 * packages/server/package.json pins ws to one exact version. Each is checked here, on a real
 * socket, and each failure says what changed and where the relay relies on it:
 *
 * - `_socket`: the net/TLS socket; the relay writes its pre-built frames to it directly
 *   (connection.ts, writer.ts), and `bufferedAmount` counts what it holds (slow consumers).
 * - `_extensions`: the extension table ws hands to the socket's frame reader and writer; the
 *   relay's socket class puts one shared empty table there (socket.ts: memory per idle socket).
 * - `emit`: ws reports a server socket's events by calling its own `emit` with these names and
 *   arguments; the relay's socket class overrides it (socket.ts: no listeners per socket).
 * - `autoPong: false` still reports pings, and sends no pong itself.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { OWNER, RelaySocket, type SocketEvents } from './socket.js';
import { wireFrameOf } from './wireFrame.js';
import { within } from './testing/harness.js';

const WHY = 'the relay relies on ws internals (see ws-internals.test.ts)';

type Internals = { _socket?: unknown; _extensions?: unknown; _receiver?: { _extensions?: unknown }; _sender?: { _extensions?: unknown } };
const internals = (ws: RelaySocket): Internals => ws as unknown as Internals;

/** What the owner of a server socket was told, in order. */
class Recorder implements SocketEvents {
  readonly events: (readonly [string, ...unknown[]])[] = [];
  #waiters: { done: () => boolean; resolve: () => void }[] = [];
  received(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.#note('received', data, isBinary);
  }
  pinged(data: Buffer): void {
    this.#note('pinged', data);
  }
  ponged(data: Buffer): void {
    this.#note('ponged', data);
  }
  errored(err: Error & { code?: string }): void {
    this.#note('errored', err.code);
  }
  gone(): void {
    this.#note('gone');
  }
  #note(what: string, ...args: unknown[]): void {
    this.events.push([what, ...args]);
    const due = this.#waiters.filter((w) => w.done());
    this.#waiters = this.#waiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve();
  }
  /** Resolves once the `n`th event named `what` has been recorded. */
  next(what: string, n = 1): Promise<void> {
    const done = (): boolean => this.events.filter(([e]) => e === what).length >= n;
    if (done()) return Promise.resolve();
    return within(
      new Promise<void>((resolve) => this.#waiters.push({ done, resolve })),
      5_000,
      `ws to report '${what}' through RelaySocket.emit (${WHY})`,
    );
  }
}

let http: Server;
let url: string;
const accepted: RelaySocket[] = [];
let onAccept: ((ws: RelaySocket) => void) | undefined;

beforeAll(async () => {
  // As the gate makes it (gate.ts).
  const wss = new WebSocketServer({ noServer: true, WebSocket: RelaySocket, autoPong: false, perMessageDeflate: false, clientTracking: false });
  http = createServer();
  http.on('upgrade', (req, socket: Duplex, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted.push(ws);
      onAccept?.(ws);
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  url = `ws://127.0.0.1:${address.port}/`;
});

afterAll(async () => {
  for (const ws of accepted) ws.terminate();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

/** A client, and the relay socket the server made for it, owned by a recorder. */
async function pair(): Promise<{ client: WebSocket; server: RelaySocket; owner: Recorder }> {
  const owner = new Recorder();
  const server = new Promise<RelaySocket>((resolve) => {
    onAccept = (ws) => {
      ws[OWNER] = owner;
      resolve(ws);
    };
  });
  const client = new WebSocket(url);
  await within(new Promise((resolve, reject) => client.once('open', resolve).once('error', reject)), 5_000, 'the handshake');
  return { client, server: await within(server, 5_000, 'the server socket'), owner };
}

function nextMessage(client: WebSocket): Promise<Buffer> {
  return within(new Promise((resolve) => client.once('message', (d: Buffer) => resolve(d))), 5_000, 'a message at the client');
}

describe('ws internals the relay relies on', () => {
  it('the installed ws is the exact version packages/server pins', () => {
    const pinned = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }).dependencies.ws;
    expect(pinned, `packages/server/package.json must pin ws to an exact version (no ^ or ~): ${WHY}`).toMatch(/^\d+\.\d+\.\d+$/);
    const installed = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version;
    expect(installed, `ws ${installed} is installed, the relay is pinned to ${String(pinned)}: ${WHY}; run this file against the new version before moving the pin`).toBe(pinned);
  });

  it('_socket is the net socket, and bufferedAmount counts what is written to it directly', async () => {
    const { client, server } = await pair();
    const socket = internals(server)._socket;
    expect(socket instanceof Socket, `ws no longer keeps its net socket in \`_socket\` (connection.ts writes frames there): ${WHY}`).toBe(true);
    const raw = socket as Socket;
    // A frame written past ws arrives as a message (writer.ts).
    const got = nextMessage(client);
    raw.write(wireFrameOf({ v: 1, t: 'pong' }));
    expect([...(await got)]).toEqual([...wireFrameOf({ v: 1, t: 'pong' }).subarray(2)]);
    // ...and counts in ws's bufferedAmount while the socket holds it (the relay's slow-consumer check).
    const before = server.bufferedAmount;
    raw.cork();
    raw.write(Buffer.alloc(4096));
    expect(server.bufferedAmount - before, `ws's bufferedAmount no longer counts the socket's own buffer: ${WHY}`).toBeGreaterThanOrEqual(4096);
    raw.destroy();
    client.terminate();
  });

  it('_extensions: the one shared empty table reaches the frame reader and writer, and extensions reads ""', async () => {
    const a = await pair();
    const b = await pair();
    const [x, y] = [internals(a.server), internals(b.server)];
    expect(x._extensions, `ws no longer keeps its extension table in \`_extensions\`, or replaces it after the constructor (socket.ts shares one): ${WHY}`).toBe(y._extensions);
    expect(Object.isFrozen(x._extensions) && Object.keys(x._extensions as object)).toEqual([]);
    expect(x._receiver?._extensions, `ws's frame reader no longer takes the socket's \`_extensions\`: ${WHY}`).toBe(x._extensions);
    expect(x._sender?._extensions, `ws's frame writer no longer takes the socket's \`_extensions\`: ${WHY}`).toBe(x._extensions);
    expect(a.server.extensions).toBe('');
    a.client.terminate();
    b.client.terminate();
  });

  it('emit: a message (binary or text), a ping, a pong, an error and the close reach the owner, with their arguments', async () => {
    const { client, owner } = await pair();
    const pongs: Buffer[] = [];
    client.on('pong', (d: Buffer) => pongs.push(d));
    client.send(Uint8Array.of(1, 2, 3));
    client.send('text');
    client.ping(Buffer.from('p'));
    client.pong(Buffer.from('q'));
    // The last one marks the others as handled: ws reports a socket's frames in order.
    client.send(Uint8Array.of(9));
    await owner.next('received', 3);
    expect(owner.events).toEqual([
      ['received', Buffer.from([1, 2, 3]), true],
      ['received', Buffer.from('text'), false],
      ['pinged', Buffer.from('p')],
      ['ponged', Buffer.from('q')],
      ['received', Buffer.from([9]), true],
    ]);
    // A text frame that is not UTF-8 is a protocol error: ws reports it, then the close.
    client.send(Buffer.from([0xff]), { binary: false });
    await owner.next('gone');
    expect(owner.events.slice(5)).toEqual([['errored', 'WS_ERR_INVALID_UTF8'], ['gone']]);
    // autoPong off: ws answered the ping with no pong of its own (it would have come before the
    // close, which the client has seen by now).
    await within(new Promise((resolve) => (client.readyState === WebSocket.CLOSED ? resolve(undefined) : client.once('close', resolve))), 5_000, 'the close at the client');
    expect(pongs, `ws answered a ping itself despite autoPong: false (the connection answers, charged to its flood guard): ${WHY}`).toEqual([]);
  });
});
