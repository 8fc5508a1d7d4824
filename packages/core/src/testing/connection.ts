/**
 * Test support (not built, not shipped): a `Connection` over a scripted transport and a manual
 * clock. Each `open` is a `Sock` the test drives (open it, feed it relay frames, close it) and
 * that records what the connection sent, where it went, and the pin it asked for.
 */
import { expect } from 'vitest';
import type { ErrorCode } from '../protocol/errors.js';
import { decodeClientFrame, encodeFrame, type ClientHeader, type RelayHeader } from '../protocol/frames.js';
import { randomId } from '../protocol/ids.js';
import { createManualClock } from '../client/clock.js';
import { Connection, type Endpoint, type InboundHeader, type ReadyInfo } from '../client/connection.js';
import type { ConnectionState } from '../client/events.js';
import type { OpenOptions, Transport, TransportHandlers } from '../client/transport.js';

export type Sock = { url: string; options: OpenOptions | undefined; handlers: TransportHandlers; sent: ClientHeader[]; closed: boolean };

export function fakeTransport(seesHttpStatus = false): { transport: Transport; socks: Sock[] } {
  const socks: Sock[] = [];
  const transport: Transport = {
    ...(seesHttpStatus ? { seesHttpStatus } : {}),
    open(url, handlers, options) {
      const s: Sock = { url, options, handlers, sent: [], closed: false };
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

export const relayFrame = (h: RelayHeader): Uint8Array => encodeFrame(h);

/** The relay's answer to an unauthorised upgrade (a wrong path or password), as an adapter that sees the status reports it. */
export const notFound = (sock: Sock): void => sock.handlers.onClose(1006, '', { httpStatus: 404 });

/** The one relay of the tests that need no more. */
export const ONE: Endpoint[] = [{ ws: 'ws://relay/x/ws', address: 'relay:80' }];

export function setupConnection(options: { random?: () => number; seesHttpStatus?: boolean; endpoints?: Endpoint[] } = {}) {
  const clock = createManualClock();
  const { transport, socks } = fakeTransport(options.seesHttpStatus ?? false);
  const states: ConnectionState[] = [];
  const ready: ReadyInfo[] = [];
  const frames: InboundHeader[] = [];
  const errors: Array<{ code: ErrorCode; message: string }> = [];
  const gaveUp: Array<{ code: ErrorCode; message: string }> = [];
  const conn = new Connection({
    transport,
    endpoints: options.endpoints ?? ONE,
    clock,
    random: options.random ?? (() => 0.5),
    onState: (s) => states.push(s),
    onReady: (i) => ready.push(i),
    onFrame: (h) => frames.push(h),
    onError: (code, message) => errors.push({ code, message }),
    onGiveUp: (code, message) => gaveUp.push({ code, message }),
  });
  const handshake = (sock: Sock, relay: string = randomId()): void => {
    sock.handlers.onOpen();
    expect(sock.sent[0]?.t).toBe('hello');
    sock.handlers.onFrame(relayFrame({ v: 1, t: 'hello', relay, maxFrame: 65536, nonce: randomId() }));
  };
  /** Waits out the delay the last `reconnecting` state announced. */
  const next = (): void => {
    const s = states.at(-1);
    if (s?.state !== 'reconnecting') throw new Error(`expected reconnecting, got ${JSON.stringify(s)}`);
    clock.advance(s.delayMs);
  };
  /** The newest socket. */
  const last = (): Sock => {
    const s = socks.at(-1);
    if (!s) throw new Error('no socket opened');
    return s;
  };
  return { clock, socks, states, ready, frames, errors, gaveUp, conn, handshake, next, last };
}
