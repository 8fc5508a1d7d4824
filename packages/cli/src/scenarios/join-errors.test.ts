/**
 * Errors a person can act on (issue 13), with the real relay, the real e2ee and the `ws`
 * transport, in-process: a wrong server password is said at once and given up after 3 tries
 * (no 62 s wait for E_JOIN_TIMEOUT); a client that was in keeps trying through 404s and gets
 * back in; a link whose invite secret was altered says that it is still waiting, and why, then
 * ends naming the likely causes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type ClientEvent } from '@safehouse/core/client';
import { passwordSubprotocol } from '@safehouse/core/protocol';
import { silentLogger, startServer, type RunningServer } from '@safehouse/server';
import { createWsTransport } from '../transport/ws.js';
import { Scenario, until, type Peer } from '../testing/scenario.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scenario(options: Parameters<typeof Scenario.start>[0] = {}): Promise<Scenario> {
  const s = await Scenario.start(options);
  cleanups.push(() => s.close());
  return s;
}

/** The same link with another invite secret (`k`): one character changed, still 32 bytes. */
function alterSecret(link: string): { link: string; secrets: string[] } {
  const k = /[#&]k=([A-Za-z0-9_-]{43})/.exec(link)?.[1];
  if (k === undefined) throw new Error('a room link');
  const altered = (k[0] === 'A' ? 'B' : 'A') + k.slice(1);
  return { link: link.replace(`k=${k}`, `k=${altered}`), secrets: [k, altered] };
}

/** Every text an event carries a person would read. */
const texts = (events: ClientEvent[]): string[] => events.map((e) => JSON.stringify(e));

describe('errors a person can act on (real relay)', () => {
  it('aWrongPasswordIsSaidAtOnceAndGivenUpAfterThreeTries', async () => {
    const s = await scenario({ password: 'the right one' });
    const token = (pw: string) => passwordSubprotocol(pw, s.server.basePath);
    const { link } = await s.founder('alice', { transport: createWsTransport({ subprotocol: await token('the right one') }) });
    const refusedBefore = s.server.stats().refusedRequests;
    const started = Date.now();
    const trudy = await s.joiner('trudy', link, {
      transport: createWsTransport({ subprotocol: await token('the wrong one') }),
      // The protocol's own backoff and join timeout: the give-up must not wait for either.
      connection: {},
      timing: {},
    });
    await until(() => trudy.of('fatal').length === 1, 'the give-up', 10_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(trudy.last('fatal')).toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringMatching(/404 to 3 tries: the link's path or the server password is wrong, or the server is gone/) });
    // Said once, at the first 404: before the second try.
    const errors = trudy.of('error');
    expect(errors).toEqual([{ type: 'error', code: 'E_NOT_FOUND', message: expect.stringMatching(/^the server answered 404: .*; trying 2 more times$/) }]);
    const at = (e: ClientEvent) => trudy.events.indexOf(e);
    const secondTry = trudy.of('connection').find((c) => c.state === 'connecting' && c.attempt === 1)!;
    expect(at(errors[0]!)).toBeLessThan(at(secondTry));
    expect(trudy.of('connection').at(-1)).toMatchObject({ state: 'offline' });
    expect(trudy.of('connection').filter((c) => c.state === 'connecting')).toHaveLength(3);
    expect(trudy.of('left')).toHaveLength(1); // the room it asked for ends here
    // 3 upgrades reached the relay, and no more come.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(s.server.stats().refusedRequests - refusedBefore).toBe(3);
    expect(trudy.of('fatal')).toHaveLength(1);
    expect(trudy.of('error')).toHaveLength(1);
  });

  it('aClientThatWasInKeepsTryingThrough404sAndGetsBackInWhenTheRelayIsBack', async () => {
    let server: RunningServer = await startServer({ port: 0, logger: silentLogger });
    cleanups.push(() => server.close());
    const { port, basePath } = server;
    const events: ClientEvent[] = [];
    const client = createClient({ transport: createWsTransport(), name: 'alice', link: server.url, connection: { backoffBaseMs: 50, backoffCapMs: 200 } });
    cleanups.push(() => client.quit({ timeoutMs: 200 }));
    client.on((e) => events.push(e));
    await client.start();
    await until(() => events.some((e) => e.type === 'connection' && e.state === 'connected'), 'connected');
    // The relay comes back on the same port under another path: every upgrade gets the 404.
    await server.close();
    server = await startServer({ port, basePath: '/another-path', logger: silentLogger });
    await until(() => server.stats().refusedRequests >= 5, 'five 404s');
    expect(events.filter((e) => e.type === 'fatal')).toEqual([]);
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', code: 'E_NOT_FOUND', message: expect.stringMatching(/^the server now answers 404: .*still trying$/) }]);
    // Back on its own path: in again.
    await server.close();
    server = await startServer({ port, basePath, logger: silentLogger });
    await until(() => events.filter((e) => e.type === 'connection' && e.state === 'connected').length === 2, 'connected again');
    expect(events.filter((e) => e.type === 'fatal')).toEqual([]);
  });

  it('aLinkWhoseInviteSecretWasAlteredSaysItIsStillWaitingAndEndsNamingTheCauses', async () => {
    const s = await scenario();
    const { peer: alice, link } = await s.founder();
    const altered = alterSecret(link);
    const bob: Peer = await s.joiner('bob', altered.link, { timing: { joinTimeoutMs: 3_000 } });
    await until(() => bob.of('fatal').length === 1, 'the timeout', 10_000);
    const room = bob.client.currentRoom() ?? bob.of('left')[0]!.room;
    const waiting = bob.of('info').filter((e) => e.message.startsWith('still waiting'));
    // At a sixth and at half of the join timeout (10 s and 30 s of 60 s by default).
    expect(waiting).toEqual(
      ['500ms', '1s'].map((at) => ({
        type: 'info',
        room,
        message: `still waiting for a member of lobby to admit you (${at} of 3s): no member may be online, or the link's invite secret is wrong or was revoked`,
      })),
    );
    expect(bob.of('error')).toEqual([
      {
        type: 'error',
        code: 'E_JOIN_TIMEOUT',
        room,
        message: "no member admitted you to lobby within 3s: no member may be online, or the link's invite secret is wrong or was revoked (then ask a member for the room's current link); try again when a member is online",
      },
    ]);
    expect(bob.last('fatal')).toMatchObject({ code: 'E_JOIN_TIMEOUT' });
    const order = ['info', 'error', 'fatal'].map((t) => bob.events.findIndex((e) => e.type === t && (t !== 'info' || waiting.includes(e as never))));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Alice, online all along, could not open the request: nobody was admitted.
    expect(alice.of('member-joined')).toEqual([]);
    // Nothing secret in what bob was told.
    for (const t of texts(bob.events)) for (const secret of altered.secrets) expect(t).not.toContain(secret);
  });
});
