/**
 * The ws transport against real sockets: a plain `ws` server (and an HTTPS one with a
 * self-signed certificate for pinning). What every transport must do: binary frames both ways,
 * text frames and oversized frames refused, `onClose` exactly once, nothing after `close()`.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CloseInfo, TransportHandlers } from '@safehouse/core/client';
import { CLOSE_CERT_MISMATCH, createWsTransport } from './ws.js';

type Seen = { opened: number; frames: Uint8Array[]; closes: Array<[number, string]>; infos: Array<CloseInfo | undefined> };

function recorder(): { seen: Seen; handlers: TransportHandlers } {
  const seen: Seen = { opened: 0, frames: [], closes: [], infos: [] };
  return {
    seen,
    handlers: {
      onOpen: () => void seen.opened++,
      onFrame: (b) => void seen.frames.push(b),
      onClose: (code, reason, info) => {
        seen.closes.push([code, reason]);
        seen.infos.push(info);
      },
    },
  };
}

async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function plainServer(): Promise<{ url: string; sockets: WebSocket[]; requests: IncomingMessage[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  const requests: IncomingMessage[] = [];
  wss.on('connection', (ws, req) => {
    sockets.push(ws);
    requests.push(req);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })); // echo
  });
  cleanups.push(() => {
    for (const ws of wss.clients) ws.terminate();
    return new Promise<void>((r) => wss.close(() => r()));
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/base/ws`, sockets, requests };
}

describe('ws transport', () => {
  it('carries binary frames both ways and sends no Origin', async () => {
    const server = await plainServer();
    const { seen, handlers } = recorder();
    const conn = createWsTransport().open(server.url, handlers);
    await until(() => seen.opened === 1, 'open');
    conn.send(new Uint8Array([0, 1, 2, 255]));
    await until(() => seen.frames.length === 1, 'the echo');
    expect([...seen.frames[0]!]).toEqual([0, 1, 2, 255]);
    expect(server.requests[0]!.headers.origin).toBeUndefined();
    expect(server.sockets[0]!.extensions).toBe(''); // no permessage-deflate
  });

  it('closes on a text frame (1003) and on a frame over maxPayload (1009), reporting once', async () => {
    const server = await plainServer();
    const a = recorder();
    createWsTransport().open(server.url, a.handlers);
    await until(() => server.sockets.length === 1, 'connection');
    server.sockets[0]!.send('text is refused');
    await until(() => a.seen.closes.length === 1, 'close');
    expect(a.seen.frames).toHaveLength(0);
    expect(a.seen.closes[0]![0]).toBe(1003);

    const b = recorder();
    createWsTransport({ maxPayload: 1024 }).open(server.url, b.handlers);
    await until(() => server.sockets.length === 2, 'connection');
    server.sockets[1]!.send(new Uint8Array(2048), { binary: true });
    await until(() => b.seen.closes.length === 1, 'close');
    expect(b.seen.frames).toHaveLength(0);
    expect([1006, 1009]).toContain(b.seen.closes[0]![0]); // the client fails the connection itself
    await new Promise((r) => setTimeout(r, 50));
    expect(a.seen.closes).toHaveLength(1);
    expect(b.seen.closes).toHaveLength(1);
  });

  it('reports a refused connection once with 1006, and nothing after close()', async () => {
    const server = await plainServer();
    const port = Number(new URL(server.url).port);
    const refused = recorder();
    createWsTransport().open(`ws://127.0.0.1:1/base/ws`, refused.handlers);
    await until(() => refused.seen.closes.length === 1, 'refusal');
    expect(refused.seen.closes[0]![0]).toBe(1006);
    expect(refused.seen.opened).toBe(0);

    const r = recorder();
    const conn = createWsTransport().open(`ws://127.0.0.1:${port}/base/ws`, r.handlers);
    await until(() => r.seen.opened === 1, 'open');
    conn.close(1000, 'bye');
    server.sockets.at(-1)!.send(new Uint8Array([1]), { binary: true });
    await new Promise((res) => setTimeout(res, 50));
    expect(r.seen.closes).toEqual([[1000, 'bye']]);
    expect(r.seen.frames).toHaveLength(0);
    conn.send(new Uint8Array([1])); // a no-op, not a throw
  });

  it('reports an upgrade answered with an HTTP status (the relay\'s 404) once, with that status', async () => {
    let upgrades = 0;
    const http = createHttpServer();
    http.on('upgrade', (_req, socket) => {
      upgrades++;
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const transport = createWsTransport();
    expect(transport.seesHttpStatus).toBe(true);
    const { seen, handlers } = recorder();
    transport.open(`ws://127.0.0.1:${(http.address() as { port: number }).port}/base/ws`, handlers);
    await until(() => seen.closes.length === 1, 'the close');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.closes).toEqual([[1006, '']]);
    expect(seen.infos).toEqual([{ httpStatus: 404 }]);
    expect(seen.opened).toBe(0);
    expect(upgrades).toBe(1);

    // A connection that opened and closed carries no status.
    const server = await plainServer();
    const r = recorder();
    const conn = transport.open(server.url, r.handlers);
    await until(() => r.seen.opened === 1, 'open');
    conn.close(1000, 'bye');
    expect(r.seen.infos).toEqual([undefined]);
  });

  describe('with a pinned self-signed certificate', () => {
    function tlsServer(): { fingerprint: Uint8Array; requests: () => number; server: HttpsServer } {
      const dir = mkdtempSync(join(tmpdir(), 'safehouse-ws-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=safehouse-test'], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'c.pem'));
      let requests = 0;
      const server = createHttpsServer({ cert, key: readFileSync(join(dir, 'k.pem')) });
      server.on('request', () => requests++);
      const wss = new WebSocketServer({ noServer: true });
      server.on('upgrade', (req, socket, head) => {
        requests++;
        wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => ws.send(d, { binary: true })));
      });
      cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
      const fingerprint = new Uint8Array(createHash('sha256').update(new X509Certificate(cert).raw).digest());
      return { fingerprint, requests: () => requests, server };
    }

    async function listen(s: HttpsServer): Promise<string> {
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      cleanups.push(() => void s.closeAllConnections());
      return `wss://127.0.0.1:${(s.address() as { port: number }).port}/base/ws`;
    }

    it('connects when the certificate matches the pin', async () => {
      const t = tlsServer();
      const url = await listen(t.server);
      const { seen, handlers } = recorder();
      const conn = createWsTransport().open(url, handlers, { certFingerprint: t.fingerprint });
      await until(() => seen.opened === 1, 'open');
      conn.send(new Uint8Array([7]));
      await until(() => seen.frames.length === 1, 'echo');
      conn.close();
    });

    it('checks each connection against its own pin: one transport, two relays with their own certificates', async () => {
      const a = tlsServer();
      const b = tlsServer();
      const [urlA, urlB] = [await listen(a.server), await listen(b.server)];
      const transport = createWsTransport();
      const inB = recorder();
      const conn = transport.open(urlB, inB.handlers, { certFingerprint: b.fingerprint });
      await until(() => inB.seen.opened === 1, 'open B with its own pin');
      conn.close();
      // A's pin does not open B, nor B's A: nothing reaches either.
      const before = [a.requests(), b.requests()];
      const crossed = [recorder(), recorder()];
      transport.open(urlB, crossed[0]!.handlers, { certFingerprint: a.fingerprint });
      transport.open(urlA, crossed[1]!.handlers, { certFingerprint: b.fingerprint });
      await until(() => crossed.every((c) => c.seen.closes.length === 1), 'both refused');
      expect(crossed.map((c) => c.seen.closes[0]![0])).toEqual([CLOSE_CERT_MISMATCH, CLOSE_CERT_MISMATCH]);
      expect([a.requests(), b.requests()]).toEqual(before);
    });

    it('sends nothing to a server with another certificate, and never falls back to ws://', async () => {
      const t = tlsServer();
      const url = await listen(t.server);
      const wrong = new Uint8Array(32).fill(7);
      const { seen, handlers } = recorder();
      createWsTransport().open(url, handlers, { certFingerprint: wrong });
      await until(() => seen.closes.length === 1, 'refusal');
      expect(seen.closes[0]![0]).toBe(CLOSE_CERT_MISMATCH);
      expect(seen.opened).toBe(0);
      expect(t.requests()).toBe(0);

      const plain = recorder();
      createWsTransport().open(url.replace('wss:', 'ws:'), plain.handlers, { certFingerprint: t.fingerprint });
      await until(() => plain.seen.closes.length === 1, 'refusal');
      expect(plain.seen.closes[0]![0]).toBe(CLOSE_CERT_MISMATCH);
    });
  });
});
