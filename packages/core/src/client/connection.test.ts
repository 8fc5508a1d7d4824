import { describe, expect, it } from 'vitest';
import { decodeClientFrame, encodeFrame, type ClientHeader, type RelayHeader } from '../protocol/frames.js';
import { randomId } from '../protocol/ids.js';
import { createManualClock } from './clock.js';
import { backoffDelay, Connection, refusalReason, type InboundHeader, type ReadyInfo } from './connection.js';
import type { ConnectionState } from './events.js';
import type { Transport, TransportHandlers } from './transport.js';

type Sock = { handlers: TransportHandlers; sent: ClientHeader[]; closed: boolean };

function fakeTransport() {
  const socks: Sock[] = [];
  const transport: Transport = {
    open(_url, handlers) {
      const s: Sock = { handlers, sent: [], closed: false };
      socks.push(s);
      return {
        send(bytes) {
          const r = decodeClientFrame(bytes);
          if (!r.ok) throw new Error(r.message);
          s.sent.push(r.header);
        },
        close() {
          s.closed = true;
        },
      };
    },
  };
  return { transport, socks };
}

const relayFrame = (h: RelayHeader) => encodeFrame(h);

function setup(random = () => 0.5) {
  const clock = createManualClock();
  const { transport, socks } = fakeTransport();
  const states: ConnectionState[] = [];
  const ready: ReadyInfo[] = [];
  const frames: InboundHeader[] = [];
  const conn = new Connection({
    transport,
    url: 'ws://relay/x/ws',
    clock,
    random,
    onState: (s) => states.push(s),
    onReady: (i) => ready.push(i),
    onFrame: (h) => frames.push(h),
  });
  const handshake = (sock: Sock, relay: string) => {
    sock.handlers.onOpen();
    expect(sock.sent[0]?.t).toBe('hello');
    sock.handlers.onFrame(relayFrame({ v: 1, t: 'hello', relay, maxFrame: 65536, nonce: randomId() }));
  };
  return { clock, socks, states, ready, frames, conn, handshake };
}

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
    expect(t.states[0]).toEqual({ state: 'connecting', attempt: 0 });
    expect(t.conn.send({ v: 1, t: 'ping' })).toBe(false); // not ready before hello
    const relayA = randomId();
    t.handshake(t.socks[0]!, relayA);
    expect(t.conn.isReady()).toBe(true);
    expect(t.conn.relayId).toBe(relayA);
    expect(t.ready).toEqual([{ relay: relayA, restarted: false, first: true, nonce: expect.any(String) }]);

    t.socks[0]!.handlers.onClose(1006, '');
    expect(t.states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 0, delayMs: 250 });
    t.clock.advance(250);
    t.handshake(t.socks[1]!, relayA);
    expect(t.ready[1]).toEqual({ relay: relayA, restarted: false, first: false, nonce: expect.any(String) });

    t.socks[1]!.handlers.onClose(1001, 'going away');
    const s = t.states.at(-1)!;
    t.clock.advance(s.state === 'reconnecting' ? s.delayMs : NaN);
    const relayB = randomId();
    t.handshake(t.socks[2]!, relayB);
    expect(t.ready[2]).toEqual({ relay: relayB, restarted: true, first: false, nonce: expect.any(String) });
    expect(t.states.at(-1)).toEqual({ state: 'connected', restarted: true });
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
