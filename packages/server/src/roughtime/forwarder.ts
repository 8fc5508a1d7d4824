/**
 * The relay's Roughtime path for browsers, which cannot send UDP (docs/protocol.md "Roughtime
 * through the relay"): `rt {id, server}` + request bytes → one UDP datagram to the relay's
 * configured server number `server` → the reply datagram back as `rt {id}` + bytes, or
 * `nack {id, code}`. The bytes are opaque here: the client made the nonce and checks the
 * signature, so this path can only delay or drop. It forwards only to servers configured on the
 * relay (`--roughtime-upstream`, its own `--roughtime-port`), never to an address a client names.
 *
 * Limits (each default written here): requests of 1,024-1,280 bytes (LIMITS.maxRoughtimeBytes),
 * replies no larger; per connection 2 requests/s with a burst of 8; 64 in flight in all; 2 s to
 * answer. Counts only are kept; nothing is logged.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { LIMITS, PROTOCOL_VERSION, type ErrorCode, type RelayHeader } from '@safehouse/core/protocol';
import { MIN_REQUEST_BYTES } from '@safehouse/core/roughtime';
import { TokenBucket } from '../limiter.js';

export type Upstream = { readonly host: string; readonly port: number };

export const FORWARDER_DEFAULTS = {
  ratePerSecond: 2,
  rateBurst: 8,
  maxInFlight: 64,
  timeoutMs: 2_000,
} as const;

/** Sends a frame back to the connection that asked (the relay frames it). */
export type RtReply = (header: Extract<RelayHeader, { t: 'rt' } | { t: 'nack' }>, body?: Uint8Array) => void;

export type ForwarderStats = { forwarded: number; answered: number; refused: number; unanswered: number };

export class RoughtimeForwarder {
  readonly stats: ForwarderStats = { forwarded: 0, answered: 0, refused: 0, unanswered: 0 };
  readonly #buckets = new WeakMap<object, TokenBucket>();
  readonly #sockets = new Set<dgram.Socket>();
  #closed = false;

  constructor(
    readonly upstreams: readonly Upstream[],
    private readonly o: { ratePerSecond: number; rateBurst: number; maxInFlight: number; timeoutMs: number } = FORWARDER_DEFAULTS,
  ) {}

  /** `peer` is the asking connection (its rate bucket's key); `reply` frames and sends to it. */
  forward(peer: object, id: string, server: number, request: Uint8Array, reply: RtReply): void {
    const refuse = (code: ErrorCode): void => {
      this.stats.refused++;
      reply({ v: PROTOCOL_VERSION, t: 'nack', id, code });
    };
    const upstream = this.upstreams[server];
    if (this.#closed || upstream === undefined) return refuse('E_ROUGHTIME_UNREACHABLE');
    if (request.length < MIN_REQUEST_BYTES || request.length > LIMITS.maxRoughtimeBytes) return refuse('E_ROUGHTIME_BAD_VALUE');
    let bucket = this.#buckets.get(peer);
    if (!bucket) this.#buckets.set(peer, (bucket = new TokenBucket(this.o.rateBurst, this.o.ratePerSecond)));
    if (this.#sockets.size >= this.o.maxInFlight || !bucket.take()) return refuse('E_RATE_LIMITED');

    // One socket per request, connected to the upstream: only its datagrams are received.
    const socket = dgram.createSocket(isIP(upstream.host) === 6 ? 'udp6' : 'udp4');
    this.#sockets.add(socket);
    this.stats.forwarded++;
    let done = false;
    const finish = (answer: Uint8Array | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#sockets.delete(socket);
      socket.close();
      if (this.#closed) return;
      if (answer === undefined) {
        this.stats.unanswered++;
        reply({ v: PROTOCOL_VERSION, t: 'nack', id, code: 'E_ROUGHTIME_UNREACHABLE' });
      } else {
        this.stats.answered++;
        reply({ v: PROTOCOL_VERSION, t: 'rt', id }, answer);
      }
    };
    const timer = setTimeout(() => finish(undefined), this.o.timeoutMs);
    timer.unref();
    // §9.7: a reply larger than its request is not passed on.
    socket.on('message', (msg) => finish(msg.length <= request.length ? new Uint8Array(msg) : undefined));
    socket.on('error', () => finish(undefined));
    socket.connect(upstream.port, upstream.host, () => socket.send(request, (err) => err && finish(undefined)));
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sockets) s.close();
    this.#sockets.clear();
  }
}
