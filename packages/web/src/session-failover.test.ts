/**
 * The page fails over between the relays its link names (`a=`), over its own transport
 * (transport.ts) on Node's `ws` WebSocket made to send the `Origin` a browser would: that of the
 * relay the page was loaded from. The other relay accepts it only as a peer of its cluster
 * (`peerOrigins`, `serve --also`); a relay that does not know the page's relay answers 404.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { currentRoom } from '@safehouse/core/client';
import { formatInvite, randomId } from '@safehouse/core/protocol';
import { silentLogger, startServer, type RunningServer, type ServerOptions } from '@safehouse/server';
import { startSession, type Session } from './session.js';

const servers: RunningServer[] = [];
const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => (s.page.ended ? Promise.resolve() : s.run('/quit'))));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function relay(options: ServerOptions): Promise<RunningServer> {
  const s = await startServer({ port: 0, logger: silentLogger, ...options });
  servers.push(s);
  return s;
}

/** A WebSocket that sends the Origin of the page's relay, as a browser does. */
function loadedFrom(origin: string): typeof globalThis.WebSocket {
  class PageWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { origin });
    }
  }
  return PageWebSocket as unknown as typeof globalThis.WebSocket;
}

async function open(name: string, link: string, origin: string): Promise<Session> {
  const s = await startSession({
    name,
    link,
    exportable: false,
    WebSocketImpl: loadedFrom(origin),
    client: { timing: { rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000 }, connection: { backoffBaseMs: 100, backoffCapMs: 500 } },
  });
  sessions.push(s);
  return s;
}

const connectedTo = (s: Session, relay: { port: number }): boolean => {
  const c = s.page.view.connection;
  return c.state === 'connected' && c.endpoint === `127.0.0.1:${relay.port}`;
};

describe('the page over several relays', () => {
  it('aPageLoadedFromOneRelayMovesToTheNextWhenItStopsAndTheNextAcceptsItsOrigin', async () => {
    const basePath = `/${randomId()}`;
    const a = await relay({ basePath });
    const b = await relay({ basePath, peerOrigins: [`http://127.0.0.1:${a.port}`] });
    const page = await open('alice', formatInvite(a.url, undefined, { also: [{ base: b.url }] }), `http://127.0.0.1:${a.port}`);
    await until(() => currentRoom(page.page.view)?.invite !== undefined && connectedTo(page, a), "alice's room, at A");
    expect(currentRoom(page.page.view)?.invite).toContain('&a=');

    await a.close();
    await until(() => connectedTo(page, b), 'the page at B');
    await until(() => b.stats().subscriptions === 1, 'its room claimed at B');
    const before = b.stats().framesIn;
    await page.run('after the failover');
    await until(() => b.stats().framesIn > before, 'the message through B');
    expect(page.page.view.connection).toEqual({ state: 'connected', restarted: true, endpoint: `127.0.0.1:${b.port}`, relays: 2 });
    expect(page.page.view.fatal).toBeUndefined();
  });

  it('aRelayThatDoesNotKnowThePagesRelayRefusesItWithThe404', async () => {
    const basePath = `/${randomId()}`;
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = (gone.address() as { port: number }).port;
    await new Promise<void>((r) => gone.close(() => r()));
    const c = await relay({ basePath }); // no peerOrigins
    const page = await open('bob', formatInvite(`http://127.0.0.1:${port}${basePath}/`, undefined, { also: [{ base: c.url }] }), `http://127.0.0.1:${port}`);
    await until(() => c.stats().refusedRequests >= 2, 'two upgrades refused at C');
    expect(page.page.view.everConnected).toBe(false);
    expect(c.stats().connections).toBe(0);
  });
});
