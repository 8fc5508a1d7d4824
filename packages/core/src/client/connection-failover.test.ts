/**
 * Failover between the relays of one cluster (connection.ts; docs/protocol.md "Connection"):
 * the next relay promptly while some are untried in the round, the backoff per round, `closing`
 * leaves at once, and the 404 rules judge the cluster as a whole.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import { createManualClock } from './clock.js';
import { backoffDelay, CONNECTION_DEFAULTS, Connection, MAX_ENDPOINTS, type Endpoint } from './connection.js';
import { fakeTransport, notFound, relayFrame, setupConnection } from '../testing/connection.js';

const pinA = randomBytes(32);
const A: Endpoint = { ws: 'wss://a.lan:8443/x/ws', address: 'a.lan:8443', certFingerprint: pinA };
const B: Endpoint = { ws: 'ws://b.lan:8090/x/ws', address: 'b.lan:8090' };
const C: Endpoint = { ws: 'ws://[fd00::3]:8090/x/ws', address: '[fd00::3]:8090' };

/** Relay instance ids (random per relay process). */
const RELAY_A = randomId();
const RELAY_B = randomId();
const RELAY_C = randomId();

const refused = (t: ReturnType<typeof setupConnection>): void => t.last().handlers.onClose(1006, '');

describe('Connection failover', () => {
  it('triesTheNextRelayWithinTheJitterWhileSomeAreUntriedThenBacksOffPerRound', () => {
    const t = setupConnection({ endpoints: [A, B, C], random: () => 0.5 });
    t.conn.start();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      refused(t);
      const s = t.states.at(-1)!;
      if (s.state !== 'reconnecting') throw new Error('expected reconnecting');
      delays.push(s.delayMs);
      t.next();
    }
    expect(t.socks.map((s) => s.url)).toEqual([A, B, C, A, B, C, A, B, C, A].map((e) => e.ws));
    const jitter = CONNECTION_DEFAULTS.failoverJitterMs / 2;
    expect(delays).toEqual([jitter, jitter, backoffDelay(0, () => 0.5), jitter, jitter, backoffDelay(1, () => 0.5), jitter, jitter, backoffDelay(2, () => 0.5)]);
    // Each state names its relay by host:port (the URL, which holds the secret path, is never in one).
    expect(t.states.slice(0, 4)).toEqual([
      { state: 'connecting', attempt: 0, endpoint: 'a.lan:8443', relays: 3 },
      { state: 'reconnecting', attempt: 0, delayMs: jitter, reason: 'connection closed (1006)', endpoint: 'a.lan:8443', relays: 3 },
      { state: 'connecting', attempt: 0, endpoint: 'b.lan:8090', relays: 3 },
      { state: 'reconnecting', attempt: 0, delayMs: jitter, reason: 'connection closed (1006)', endpoint: 'b.lan:8090', relays: 3 },
    ]);
    expect(t.states.some((s) => JSON.stringify(s).includes('/x/'))).toBe(false);
  });

  it('theJitterStaysUnderItsBound', () => {
    for (const r of [0, 0.999999]) {
      const t = setupConnection({ endpoints: [A, B], random: () => r });
      t.conn.start();
      refused(t);
      const s = t.states.at(-1)!;
      expect(s.state === 'reconnecting' && s.delayMs).toBe(Math.floor(r * CONNECTION_DEFAULTS.failoverJitterMs));
    }
  });

  it("handsEachRelaysOwnPinToTheTransport", () => {
    const t = setupConnection({ endpoints: [A, B] });
    t.conn.start();
    refused(t);
    t.next();
    expect(t.socks.map((s) => s.options)).toEqual([{ certFingerprint: pinA }, {}]);
  });

  it('reachesTheSecondRelayWhenTheFirstIsDownAndSaysWhichOne', () => {
    const t = setupConnection({ endpoints: [A, B] });
    t.conn.start();
    refused(t);
    t.next();
    t.handshake(t.last(), RELAY_B);
    expect(t.states.at(-1)).toEqual({ state: 'connected', restarted: false, endpoint: 'b.lan:8090', relays: 2 });
    expect(t.ready).toEqual([{ relay: RELAY_B, restarted: false, first: true, nonce: expect.any(String), endpoint: 'b.lan:8090', index: 1 }]);
    expect(t.conn.endpoint).toBe('b.lan:8090');
    expect(t.errors).toEqual([]);
  });

  it('aDropAfterALastingConnectionStartsANewRoundAtTheNextRelay', () => {
    const t = setupConnection({ endpoints: [A, B] });
    t.conn.start();
    t.handshake(t.last(), RELAY_A);
    t.clock.advance(15_000); // lasting (10 s), and before the first ping
    refused(t);
    // A counts as the round's first try: B now, and if B fails too, the backoff from its start.
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 0, delayMs: 125, endpoint: 'a.lan:8443' });
    t.next();
    t.handshake(t.last(), RELAY_B);
    // Another relay instance: the client re-subscribes and resends (ReadyInfo.restarted).
    expect(t.ready.at(-1)).toMatchObject({ relay: RELAY_B, restarted: true, endpoint: 'b.lan:8090', index: 1 });
    t.clock.advance(15_000); // lasting (10 s), and before the first ping
    refused(t);
    t.next();
    refused(t); // A is down as well: the round is over
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 0, delayMs: backoffDelay(0, () => 0.5), endpoint: 'a.lan:8443' });
    t.next();
    expect(t.last().url).toBe(B.ws);
  });

  it('relaysThatAcceptAndDropAtOnceAreNotHammered: every round ends in a backoff that grows', () => {
    const t = setupConnection({ endpoints: [A, B], random: () => 0.999 });
    t.conn.start();
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      t.handshake(t.last());
      refused(t);
      const s = t.states.at(-1)!;
      if (s.state === 'reconnecting') waits.push(s.delayMs);
      t.next();
    }
    expect(waits.filter((_, i) => i % 2 === 1)).toEqual([0, 1, 2, 3, 4].map((n) => backoffDelay(n, () => 0.999)));
    expect(waits.filter((_, i) => i % 2 === 0).every((d) => d < CONNECTION_DEFAULTS.failoverJitterMs)).toBe(true);
  });

  it('aRelayThatSaysClosingIsLeftAtOnceForTheNext', () => {
    const t = setupConnection({ endpoints: [A, B] });
    t.conn.start();
    t.handshake(t.last(), RELAY_A);
    const onA = t.last();
    onA.handlers.onFrame(relayFrame({ v: 1, t: 'closing' }));
    // The client is told (it says so), and the connection has already moved on.
    expect(t.frames).toEqual([{ v: 1, t: 'closing' }]);
    expect(onA.closed).toBe(true);
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', reason: 'the relay is shutting down', endpoint: 'a.lan:8443', delayMs: 125 });
    t.next();
    expect(t.last().url).toBe(B.ws);
    t.handshake(t.last(), RELAY_B);
    expect(t.states.at(-1)).toEqual({ state: 'connected', restarted: true, endpoint: 'b.lan:8090', relays: 2 });
    // A's late close is from a connection already left: nothing happens.
    onA.handlers.onClose(1001, 'E_SERVER_CLOSING');
    expect(t.conn.isReady()).toBe(true);
  });

  it('aLoneRelayThatSaysClosingIsWaitedFor: it closes, and the backoff brings the client back', () => {
    const t = setupConnection();
    t.conn.start();
    t.handshake(t.last());
    t.last().handlers.onFrame(relayFrame({ v: 1, t: 'closing' }));
    expect(t.conn.isReady()).toBe(true);
    expect(t.frames).toEqual([{ v: 1, t: 'closing' }]);
  });

  it('a404FromOneRelayWhileAnotherWorksNeverEndsTheClient', () => {
    const t = setupConnection({ endpoints: [A, B], seesHttpStatus: true });
    t.conn.start();
    notFound(t.last());
    expect(t.errors).toEqual([{ code: 'E_NOT_FOUND', message: `the relay a.lan:8443 answered 404: ${NOT_FOUND}; trying the other relays` }]);
    t.next();
    t.handshake(t.last(), RELAY_B);
    // Every later drop from B passes by A (404 again) and back to B: never given up.
    for (let i = 0; i < 10; i++) {
      refused(t);
      t.next();
      notFound(t.last());
      t.next();
      t.handshake(t.last(), RELAY_B);
    }
    expect(t.gaveUp).toEqual([]);
    expect(t.conn.isReady()).toBe(true);
    expect(t.errors.slice(1).every((e) => e.message === 'the relay a.lan:8443 now answers 404: ' + REACHED_404)).toBe(true);
  });

  it('a404FromOneRelayBeforeAnyOtherSpokeIsNotEnoughToGiveUp: the others are tried first', () => {
    const t = setupConnection({ endpoints: [A, B, C], seesHttpStatus: true });
    t.conn.start();
    notFound(t.last());
    t.next();
    notFound(t.last());
    t.next();
    expect(t.gaveUp).toEqual([]);
    t.handshake(t.last(), RELAY_C);
    expect(t.conn.isReady()).toBe(true);
  });

  it('givesUpWhenTheClusterAnswered404ToMaxOfThreeAndOneTryPerRelay', () => {
    for (const endpoints of [[A, B], [A, B, C, { ws: 'ws://d.lan/x/ws', address: 'd.lan:80' }]]) {
      const t = setupConnection({ endpoints, seesHttpStatus: true });
      const tries = Math.max(3, endpoints.length);
      t.conn.start();
      for (let i = 1; i < tries; i++) {
        notFound(t.last());
        t.next();
      }
      expect(t.gaveUp).toEqual([]);
      notFound(t.last());
      expect(t.states.at(-1)).toEqual({ state: 'offline', reason: `gave up: the relays answered 404 to ${tries} tries` });
      expect(t.gaveUp).toEqual([{ code: 'E_NOT_FOUND', message: expect.stringContaining(`the relays answered 404 to ${tries} tries: ${NOT_FOUND}`) }]);
      expect(t.errors).toHaveLength(1);
      expect(t.socks).toHaveLength(tries);
    }
  });

  it('namesTheLikelyCausesOnceAfterEveryRelayFailedSilently (E_CONNECT)', () => {
    const t = setupConnection({ endpoints: [A, B, C, { ws: 'ws://d.lan/x/ws', address: 'd.lan:80' }] });
    t.conn.start();
    for (let i = 0; i < 3; i++) {
      refused(t);
      t.next();
    }
    expect(t.errors).toEqual([]);
    refused(t);
    expect(t.errors).toEqual([{ code: 'E_CONNECT', message: expect.stringMatching(/^none of the 4 relays could be reached in 4 tries: if this server has a password, .*; still trying$/) }]);
  });

  it('refusesAnEmptyOrOverlongListOfEndpoints', () => {
    const { transport } = fakeTransport();
    const make = (endpoints: unknown) => () =>
      new Connection({ transport, endpoints: endpoints as Endpoint[], clock: createManualClock(), onState: () => undefined, onReady: () => undefined, onFrame: () => undefined });
    expect(make([])).toThrow(TypeError);
    expect(make(Array.from({ length: MAX_ENDPOINTS + 1 }, () => B))).toThrow(TypeError);
    expect(make([{ ws: 1, address: 'x' }])).toThrow(TypeError);
    expect(make('ws://x/ws')).toThrow(TypeError);
    expect(make(Array.from({ length: MAX_ENDPOINTS }, () => B))).not.toThrow();
  });
});

const NOT_FOUND = "the link's path or the server password is wrong, or the server is gone";
const REACHED_404 =
  "it no longer knows this link's path or password (it restarted with other ones, or it is gone), or, if it has a password, too many wrong ones came from your network lately; still trying the relays";
