import { describe, expect, it } from 'vitest';
import { randomId } from '../protocol/ids.js';
import { backoffDelay, NOT_FOUND_CAUSES, refusalReason } from './connection.js';
import { notFound, relayFrame, setupConnection, type Sock } from '../testing/connection.js';

const setup = (random = () => 0.5, seesHttpStatus = false) => setupConnection({ random, seesHttpStatus });
const at = { endpoint: 'relay:80', relays: 1 } as const;

describe('backoffDelay', () => {
  it('stays within [0, min(15 s, 0.5 s × 2^n)) with full jitter', () => {
    for (let n = 0; n < 40; n++) {
      const ceiling = Math.min(15_000, 500 * 2 ** n);
      expect(backoffDelay(n, () => 0)).toBe(0);
      expect(backoffDelay(n, () => 0.999999)).toBeLessThan(ceiling);
      expect(backoffDelay(n, () => 0.999999)).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.999));
      const d = backoffDelay(n, Math.random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceiling);
    }
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(10, () => 0.5)).toBe(7500);
  });
});

describe('Connection', () => {
  it('says hello, becomes ready, remembers the relay id and detects a restart', () => {
    const t = setup();
    t.conn.start();
    expect(t.states[0]).toEqual({ state: 'connecting', attempt: 0, ...at });
    expect(t.conn.send({ v: 1, t: 'ping' })).toBe(false); // not ready before hello
    const relayA = randomId();
    t.handshake(t.socks[0]!, relayA);
    expect(t.conn.isReady()).toBe(true);
    expect(t.conn.relayId).toBe(relayA);
    expect(t.ready).toEqual([{ relay: relayA, restarted: false, first: true, nonce: expect.any(String), endpoint: 'relay:80', index: 0 }]);

    t.socks[0]!.handlers.onClose(1006, '');
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 0, delayMs: 250 });
    t.clock.advance(250);
    t.handshake(t.socks[1]!, relayA);
    expect(t.ready[1]).toEqual({ relay: relayA, restarted: false, first: false, nonce: expect.any(String), endpoint: 'relay:80', index: 0 });

    t.socks[1]!.handlers.onClose(1001, 'going away');
    const s = t.states.at(-1)!;
    t.clock.advance(s.state === 'reconnecting' ? s.delayMs : NaN);
    const relayB = randomId();
    t.handshake(t.socks[2]!, relayB);
    expect(t.ready[2]).toEqual({ relay: relayB, restarted: true, first: false, nonce: expect.any(String), endpoint: 'relay:80', index: 0 });
    expect(t.states.at(-1)).toEqual({ state: 'connected', restarted: true, ...at });
  });

  it('backs off exponentially with jitter while the relay is down, and starts over after a lasting connection', () => {
    const t = setup(() => 0.999);
    t.conn.start();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      t.socks[i]!.handlers.onClose(1006, '');
      const s = t.states.at(-1)!;
      if (s.state !== 'reconnecting') throw new Error('expected reconnecting');
      delays.push(s.delayMs);
      t.clock.advance(s.delayMs);
    }
    expect(delays).toEqual([499, 999, 1998, 3996, 7992, 14985, 14985, 14985]);
    // A relay that accepts and drops at once does not reset the backoff...
    t.handshake(t.socks[8]!, randomId());
    t.socks[8]!.handlers.onClose(1006, '');
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 8, delayMs: 14985 });
    t.clock.advance(14985);
    // ...a connection that lasted does.
    t.handshake(t.socks[9]!, randomId());
    t.clock.advance(10_000);
    t.socks[9]!.handlers.onClose(1006, '');
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 0, delayMs: 499 });
  });

  it('pings every 20 s and reconnects when no pong comes within 10 s', () => {
    const t = setup();
    t.conn.start();
    t.handshake(t.socks[0]!, randomId());
    t.clock.advance(20_000);
    expect(t.socks[0]!.sent.at(-1)).toEqual({ v: 1, t: 'ping' });
    t.socks[0]!.handlers.onFrame(relayFrame({ v: 1, t: 'pong' }));
    t.clock.advance(20_000);
    expect(t.socks[0]!.sent.filter((h) => h.t === 'ping')).toHaveLength(2);
    t.clock.advance(9_999);
    expect(t.conn.isReady()).toBe(true);
    t.clock.advance(1);
    expect(t.conn.isReady()).toBe(false);
    expect(t.socks[0]!.closed).toBe(true);
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', reason: 'no pong from the relay' });
    t.clock.advance(250);
    expect(t.socks).toHaveLength(2);
  });

  it('drops a relay that never answers hello, ignores a dead socket and counts garbage', () => {
    const t = setup();
    t.conn.start();
    t.socks[0]!.handlers.onOpen();
    t.clock.advance(10_000);
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting' });
    // the old socket speaks late: ignored
    t.socks[0]!.handlers.onFrame(relayFrame({ v: 1, t: 'hello', relay: randomId(), maxFrame: 65536, nonce: randomId() }));
    expect(t.ready).toHaveLength(0);
    t.clock.advance(250);
    t.handshake(t.socks[1]!, randomId());
    t.socks[1]!.handlers.onFrame(new Uint8Array([0, 3, 1, 2, 3]));
    t.socks[1]!.handlers.onFrame(new TextEncoder().encode('\u0000\u0010{"v":1,"t":"zz"}'));
    expect(t.conn.garbage).toBe(2);
    const room = randomId();
    t.socks[1]!.handlers.onFrame(relayFrame({ v: 1, t: 'presence', room, count: 2 }));
    expect(t.frames).toEqual([{ v: 1, t: 'presence', room, count: 2 }]);
  });

  it('a relay at a connection cap: the reason is told once, then every retry carries it, until a connection is ready', () => {
    const t = setup();
    t.conn.start();
    const refuse = (sock: Sock): void => {
      sock.handlers.onOpen();
      sock.handlers.onFrame(relayFrame({ v: 1, t: 'error', code: 'E_TOO_MANY_CONNECTIONS' }));
      sock.handlers.onClose(1013, 'E_TOO_MANY_CONNECTIONS');
    };
    for (let i = 0; i < 3; i++) {
      refuse(t.socks[i]!);
      const s = t.states.at(-1)!;
      expect(s).toMatchObject({ state: 'reconnecting', attempt: i, reason: refusalReason('E_TOO_MANY_CONNECTIONS') });
      if (s.state === 'reconnecting') t.clock.advance(s.delayMs);
    }
    expect(refusalReason('E_TOO_MANY_CONNECTIONS')).toMatch(/connection limit.*E_TOO_MANY_CONNECTIONS/);
    // The error frame reached the client once, not at every retry; backoff grew as for a drop.
    expect(t.frames).toEqual([{ v: 1, t: 'error', code: 'E_TOO_MANY_CONNECTIONS' }]);
    // Let in: the next refusal (another run) is told again; a plain drop says what it was.
    t.handshake(t.socks[3]!, randomId());
    t.socks[3]!.handlers.onClose(1006, '');
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', reason: 'connection closed (1006)' });
    t.clock.advance(60_000);
    refuse(t.socks[4]!);
    expect(t.frames).toHaveLength(2);
    // Before its hello, the relay's other frames still count for nothing.
    t.clock.advance(60_000);
    t.socks[5]!.handlers.onOpen();
    t.socks[5]!.handlers.onFrame(relayFrame({ v: 1, t: 'presence', room: randomId(), count: 1 }));
    expect(t.frames).toHaveLength(2);
  });

  it('an upgrade answered 404 is said at once (E_NOT_FOUND); after 3 tries in all, with backoff, it gives up', () => {
    const t = setup(() => 0.5, true);
    t.conn.start();
    notFound(t.socks[0]!);
    // Said at the first 404, with the causes and what comes next; the code is not repeated per retry.
    expect(t.errors).toEqual([{ code: 'E_NOT_FOUND', message: `the server answered 404: ${NOT_FOUND_CAUSES}; trying 2 more times` }]);
    expect(NOT_FOUND_CAUSES).toBe("the link's path or the server password is wrong, or the server is gone");
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 0, delayMs: 250, reason: expect.stringMatching(/404/) });
    t.next();
    notFound(t.socks[1]!);
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1, delayMs: 500 });
    t.next();
    expect(t.gaveUp).toEqual([]);
    notFound(t.socks[2]!);
    expect(t.errors).toHaveLength(1);
    expect(t.states.at(-1)).toEqual({ state: 'offline', reason: 'gave up: the server answered 404 to 3 tries' });
    expect(t.gaveUp).toEqual([{ code: 'E_NOT_FOUND', message: expect.stringContaining(`404 to 3 tries: ${NOT_FOUND_CAUSES}`) }]);
    // Nothing more is tried, ever.
    t.clock.advance(600_000);
    expect(t.socks).toHaveLength(3);
    expect(t.clock.pending()).toBe(0);
  });

  it('404s count since the relay last spoke, not in a row: a different failure between them does not reset them', () => {
    const t = setup(() => 0.5, true);
    t.conn.start();
    notFound(t.socks[0]!);
    t.next();
    t.socks[1]!.handlers.onClose(1006, ''); // refused, say
    t.next();
    notFound(t.socks[2]!);
    t.next();
    expect(t.gaveUp).toEqual([]);
    notFound(t.socks[3]!);
    expect(t.gaveUp).toHaveLength(1);
    expect(t.socks).toHaveLength(4);
  });

  it('a client that reached the relay keeps trying through 404s (a restart with another path or password, the password back-off), saying so once per run of them', () => {
    const t = setup(() => 0.5, true);
    t.conn.start();
    t.handshake(t.socks[0]!, randomId());
    t.socks[0]!.handlers.onClose(1006, '');
    for (let i = 1; i <= 6; i++) {
      t.next();
      notFound(t.socks[i]!);
    }
    expect(t.gaveUp).toEqual([]);
    expect(t.errors).toEqual([{ code: 'E_NOT_FOUND', message: expect.stringMatching(/^the server now answers 404: .*still trying$/) }]);
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting' });
    // In again, then 404s again: a new run, said again.
    t.next();
    t.handshake(t.socks[7]!, randomId());
    t.socks[7]!.handlers.onClose(1006, '');
    t.next();
    notFound(t.socks[8]!);
    expect(t.errors).toHaveLength(2);
    expect(t.gaveUp).toEqual([]);
  });

  it('a relay that refused us by a cap (it spoke: the link and password were right) is not given up on for a later 404', () => {
    const t = setup(() => 0.5, true);
    t.conn.start();
    t.socks[0]!.handlers.onOpen();
    t.socks[0]!.handlers.onFrame(relayFrame({ v: 1, t: 'error', code: 'E_TOO_MANY_CONNECTIONS' }));
    t.socks[0]!.handlers.onClose(1013, 'E_TOO_MANY_CONNECTIONS');
    for (let i = 1; i <= 4; i++) {
      t.next();
      notFound(t.socks[i]!);
    }
    expect(t.gaveUp).toEqual([]);
    expect(t.errors.map((e) => e.code)).toEqual(['E_NOT_FOUND']);
  });

  it('where the status cannot be seen (a browser), 3 tries that never reached the relay name the likely causes once (E_CONNECT), and it keeps trying', () => {
    const t = setup();
    t.conn.start();
    for (let i = 0; i < 6; i++) {
      // A 404, a refused port and a relay that is down all look alike here: closed before open.
      t.socks[i]!.handlers.onClose(1006, '');
      if (i === 1) expect(t.errors).toEqual([]);
      t.next();
    }
    expect(t.errors).toEqual([{ code: 'E_CONNECT', message: expect.stringMatching(/could not be reached in 3 tries: if this server has a password, it may be missing or wrong .*the server is down or unreachable; still trying/) }]);
    expect(t.gaveUp).toEqual([]);
    expect(t.socks).toHaveLength(7);
    // Reaching the relay later is the ordinary case again: no more notes.
    t.handshake(t.socks[6]!, randomId());
    for (let i = 6; i < 10; i++) {
      t.socks[i]!.handlers.onClose(1006, '');
      t.next();
    }
    expect(t.errors).toHaveLength(1);
  });

  it('where the status can be seen, the same note gives the last reason and no guess about the password', () => {
    const t = setup(() => 0.5, true);
    t.conn.start();
    t.socks[0]!.handlers.onClose(1006, '');
    t.next();
    t.socks[1]!.handlers.onOpen();
    t.clock.advance(10_000); // opened, but no hello
    t.next();
    t.socks[2]!.handlers.onClose(1006, '', { httpStatus: 502 });
    expect(t.errors).toEqual([{ code: 'E_CONNECT', message: 'the relay could not be reached in 3 tries (last: the server answered HTTP 502); still trying' }]);
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', reason: 'the server answered HTTP 502' });
    expect(t.gaveUp).toEqual([]);
  });

  it('close() goes offline for good', () => {
    const t = setup();
    t.conn.start();
    t.handshake(t.socks[0]!, randomId());
    t.conn.close('quit');
    expect(t.states.at(-1)).toEqual({ state: 'offline', reason: 'quit' });
    t.socks[0]!.handlers.onClose(1000, '');
    t.clock.advance(60_000);
    expect(t.socks).toHaveLength(1);
  });
});
