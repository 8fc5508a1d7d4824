/**
 * One logical connection to the relay over a `Transport`, kept alive across drops
 * (docs/protocol.md "Connection"):
 *   idle → connecting → (hello exchanged) connected → dropped → reconnecting (backoff) → connecting …
 *   any state → close() → offline (for good)
 *
 * - The relay is one of `endpoints`: the relays of one cluster (a link's own, then its `a` list),
 *   which share rooms, base path and password. Each try goes to the next endpoint in the list
 *   after the last one failed or dropped. While some endpoint is untried in this round, the next
 *   try comes after a short jitter (≤ `failoverJitterMs`, 250 ms); once every endpoint failed in
 *   a row, the round is over and the backoff below applies before the next. A relay that sends
 *   `closing` (it is shutting down) is left at once for the next, when there is one. States and
 *   `ReadyInfo` name the endpoint by `host:port` (never its URL: the path is a secret).
 * - `hello {session}` first; the relay's `hello {relay}` makes the connection ready. A different
 *   `relay` id than last time means the relay restarted (the outbox resends recent messages).
 * - App-level `ping` every 20 s; no `pong` within 10 s → drop and reconnect (browsers cannot see
 *   WebSocket pings, and a half-open TCP connection may never report its death).
 * - Reconnect after `backoffDelay(n)`: full jitter over 0.5 s × 2^n, capped at 15 s, n counting
 *   rounds; n and the round start over once a connection stayed up 10 s.
 * - A relay that refuses the connection after the handshake (a connection cap: `error
 *   E_TOO_MANY_CONNECTIONS`, then close 1013) is retried like a drop; the reason is in the
 *   `reconnecting` state, and the `error` frame is passed on once per run of refusals, so a UI
 *   says why without repeating it at every retry.
 * - A client that has not reached the relay yet in this run (no `hello`, no refusal) tries
 *   `firstTries` (3) times, or once per endpoint if there are more. "The relay" here is the
 *   cluster: any endpoint that spoke counts, so a 404 from one while another works never ends
 *   it. An upgrade answered 404 (seen by a transport that sees the HTTP status,
 *   `Transport.seesHttpStatus`) is said at once (`onError E_NOT_FOUND`); the third 404 (from
 *   any endpoint) ends the connection (`offline`, then `onGiveUp E_NOT_FOUND`). Any other try
 *   that ended before the relay spoke (refused, no `hello`, another status) counts too: the
 *   third such names the likely causes once (`onError E_CONNECT`; in a browser, which sees no status, a
 *   missing or wrong password among them) and the connection keeps trying. A client that
 *   reached the relay before never gives up: 404s then are said once per run of them (the
 *   server restarted with another path or password, or the password back-off holds the
 *   client's address), and it keeps trying as after any drop (docs/protocol.md "Connection").
 * Frames from a connection that was already dropped are ignored (each open has a generation).
 */
import type { ErrorCode } from '../protocol/errors.js';
import type { ClientHeader, RelayHeader } from '../protocol/frames.js';
import { decodeRelayFrame, encodeFrame } from '../protocol/frames.js';
import { randomId } from '../protocol/ids.js';
import { LIMITS } from '../protocol/limits.js';
import type { Clock, TimerId } from './clock.js';
import type { ConnectionState } from './events.js';
import type { Transport, TransportConnection } from './transport.js';

export const CONNECTION_DEFAULTS = {
  pingIntervalMs: 20_000,
  pongTimeoutMs: 10_000,
  /** How long the relay may take to answer our `hello`. */
  helloTimeoutMs: 10_000,
  backoffBaseMs: 500,
  backoffCapMs: 15_000,
  /**
   * Tries before a client that never reached the relay says why it cannot, and gives up if the
   * server answered each with 404. A 404 may be passing (an upgrade that came in while the relay
   * was stopping, a proxy reloading); 3 stays below the relay's 5 free password tries per address
   * (server/password.ts), so one wrong run does not make the address wait.
   */
  firstTries: 3,
  /** Longest wait before the next endpoint while some are untried in this round (uniform, so that a relay's clients do not all move at once). */
  failoverJitterMs: 250,
} as const;

/** Most endpoints one connection takes: a link's own relay and the 8 of its `a` field. */
export const MAX_ENDPOINTS = 9;

/** A connection up this long counts as a success: the next drop starts the backoff over. */
const STABLE_MS = 10_000;

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base·2^n)). */
export function backoffDelay(
  attempt: number,
  random: () => number,
  baseMs: number = CONNECTION_DEFAULTS.backoffBaseMs,
  capMs: number = CONNECTION_DEFAULTS.backoffCapMs,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Why the relay refused a connection, for the `reconnecting` state (the code is in it too). */
export function refusalReason(code: ErrorCode): string {
  if (code === 'E_TOO_MANY_CONNECTIONS')
    return 'the relay is at its connection limit, for your address or in all (E_TOO_MANY_CONNECTIONS)';
  if (code === 'E_UNAVAILABLE') return "the relay cannot reach its cluster's Redis just now (E_UNAVAILABLE)";
  return `the relay refused the connection (${code})`;
}

/** What a 404 at the upgrade means: the relay answers every unauthorised request so, on purpose (THREATS B.12). */
export const NOT_FOUND_CAUSES = "the link's path or the server password is wrong, or the server is gone";

/** Frames the connection passes on (everything but `hello` and `pong`, which it handles). */
export type InboundHeader = Exclude<RelayHeader, { t: 'hello' } | { t: 'pong' }>;

/**
 * `nonce`: this connection's, signed by every `sub` (docs/protocol.md "Membership authority").
 * `endpoint`: the `host:port` of the relay it reached, `index` its place in `endpoints`.
 * `restarted`: another relay instance than the last `hello` (a restart, or another relay of the cluster).
 */
export type ReadyInfo = { relay: string; restarted: boolean; first: boolean; nonce: string; endpoint: string; index: number };

/** One relay the connection may use (core/protocol/link.ts `RelayEndpoint` has all three). */
export type Endpoint = {
  /** Its WebSocket URL: it holds the secret base path, so it is never shown nor logged. */
  ws: string;
  /** `host:port`: what states and UIs show. */
  address: string;
  /** Its certificate pin, handed to the transport at every open (`OpenOptions`). */
  certFingerprint?: Uint8Array;
};

export type ConnectionOptions = {
  transport: Transport;
  /** The relays to use, tried in this order (1 to `MAX_ENDPOINTS`). */
  endpoints: readonly Endpoint[];
  clock: Clock;
  random?: () => number;
  /** Random per client process (protocol `hello.session`). */
  session?: string;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  helloTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  failoverJitterMs?: number;
  onState(state: ConnectionState): void;
  onReady(info: ReadyInfo): void;
  onFrame(header: InboundHeader, body: Uint8Array): void;
  /** A frame that failed to decode (THREATS C.21: counted and dropped). */
  onGarbage?(code: string, message: string): void;
  /** Tries before giving up on 404s, or naming the likely causes (default `CONNECTION_DEFAULTS.firstTries`). */
  firstTries?: number;
  /** Why the relay cannot be reached, when the user can act on it (`E_NOT_FOUND`, `E_CONNECT`): said once, not at every retry. */
  onError?(code: ErrorCode, message: string): void;
  /** The connection gave up for good (it went `offline` just before): nothing more will be tried. */
  onGiveUp?(code: ErrorCode, message: string): void;
};

type Phase = 'idle' | 'connecting' | 'handshake' | 'ready' | 'waiting' | 'closed';

export class Connection {
  readonly #o: ConnectionOptions;
  readonly #session: string;
  readonly #random: () => number;
  readonly #endpoints: readonly Endpoint[];
  #phase: Phase = 'idle';
  #conn: TransportConnection | undefined;
  #gen = 0;
  /** Rounds over (every endpoint failed once in a row) since the last lasting connection: the backoff's n. */
  #attempt = 0;
  /** The endpoint of the current try, or of the next one while waiting. */
  #index = 0;
  /** Tries in the current round. */
  #tried = 0;
  #readyAt: number | undefined;
  #relay: string | undefined;
  #nonce: string | undefined;
  #maxFrame: number = LIMITS.maxFrameBytes;
  #timers: { ping?: TimerId; pong?: TimerId; hello?: TimerId; retry?: TimerId } = {};
  /** The code of an `error` the relay sent on the current connection before its `hello`: it refused us. */
  #refused: ErrorCode | undefined;
  /** The refusal last passed on to `onFrame`; forgotten once a connection is ready. */
  #told: ErrorCode | undefined;
  /** The relay spoke to us (a `hello`, or a refusal) in this run: the link and password were right once. */
  #reached = false;
  /** Upgrades answered 404 since the relay last spoke to us. */
  #notFound = 0;
  /** Tries that ended before the relay spoke, 404s aside, until it first did; -1 once said. */
  #silent = 0;
  /** Frames that failed to decode, since start. */
  garbage = 0;

  constructor(options: ConnectionOptions) {
    const { endpoints } = options;
    const n = Array.isArray(endpoints) ? endpoints.length : -1;
    if (n < 1 || n > MAX_ENDPOINTS) throw new TypeError(`"endpoints" expected 1-${MAX_ENDPOINTS} relays, got ${n < 0 ? typeof endpoints : n}`);
    for (const e of endpoints)
      if (typeof e?.ws !== 'string' || typeof e.address !== 'string') throw new TypeError('"endpoints" expected {ws, address, certFingerprint?} each');
    this.#endpoints = endpoints.slice();
    this.#o = options;
    this.#session = options.session ?? randomId();
    this.#random = options.random ?? Math.random;
  }

  /** The nonce of the current connection (from the relay's `hello`); undefined while not ready. */
  get nonce(): string | undefined {
    return this.#phase === 'ready' ? this.#nonce : undefined;
  }

  /** The relay's instance id from its last `hello`. */
  get relayId(): string | undefined {
    return this.#relay;
  }

  /** `host:port` of the relay of the current try (or of the next one, while waiting). */
  get endpoint(): string {
    return this.#here().address;
  }

  /** How many relays this connection may use. */
  get relays(): number {
    return this.#endpoints.length;
  }

  #here(): Endpoint {
    const e = this.#endpoints[this.#index];
    if (!e) throw new RangeError(`endpoint ${this.#index} of ${this.#endpoints.length}`);
    return e;
  }

  isReady(): boolean {
    return this.#phase === 'ready';
  }

  start(): void {
    if (this.#phase !== 'idle') return;
    this.#open();
  }

  /** Sends a frame if the connection is ready; returns false (nothing sent) otherwise. */
  send(header: ClientHeader, body?: Uint8Array): boolean {
    if (this.#phase !== 'ready' || !this.#conn) return false;
    const bytes = encodeFrame(header, body);
    if (bytes.length > this.#maxFrame) throw new RangeError(`frame expected ≤ ${this.#maxFrame} bytes, got ${bytes.length}`);
    this.#conn.send(bytes);
    return true;
  }

  /** Closes for good: no reconnect. */
  close(reason = 'closed'): void {
    if (this.#phase === 'closed') return;
    this.#clearTimers();
    this.#phase = 'closed';
    this.#gen++;
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.close(1000, 'bye');
    this.#o.onState({ state: 'offline', reason });
  }

  #open(): void {
    const gen = ++this.#gen;
    this.#phase = 'connecting';
    this.#refused = undefined;
    this.#tried++;
    const here = this.#here();
    this.#o.onState({ state: 'connecting', attempt: this.#attempt, endpoint: here.address, relays: this.#endpoints.length });
    const live = () => gen === this.#gen;
    const pin = here.certFingerprint;
    this.#conn = this.#o.transport.open(here.ws, {
      onOpen: () => {
        if (!live()) return;
        this.#phase = 'handshake';
        this.#conn?.send(encodeFrame({ v: 1, t: 'hello', session: this.#session }));
        this.#timers.hello = this.#o.clock.setTimeout(() => {
          if (!live()) return;
          if (this.#refused) return this.#drop(refusalReason(this.#refused));
          this.#noteSilent('the relay did not answer hello');
          this.#drop('the relay did not answer hello');
        }, this.#o.helloTimeoutMs ?? CONNECTION_DEFAULTS.helloTimeoutMs);
      },
      onFrame: (bytes) => {
        if (live()) this.#onBytes(bytes);
      },
      onClose: (code, reason, info) => {
        if (!live()) return;
        const status = info?.httpStatus;
        if (status === 404) return this.#onNotFound();
        if (this.#refused) return this.#drop(refusalReason(this.#refused), false);
        const why = status !== undefined ? `the server answered HTTP ${status}` : `connection closed (${code}${reason ? ` ${reason}` : ''})`;
        if (this.#phase !== 'ready') this.#noteSilent(why);
        this.#drop(why, false);
      },
    }, pin ? { certFingerprint: pin } : {});
  }

  #onBytes(bytes: Uint8Array): void {
    const r = decodeRelayFrame(bytes, this.#maxFrame);
    if (!r.ok) {
      this.garbage++;
      this.#o.onGarbage?.(r.code, r.message);
      return;
    }
    const h = r.header;
    if (h.t === 'hello') {
      if (this.#phase !== 'handshake') return;
      this.#timers.hello?.cancel();
      const restarted = this.#relay !== undefined && this.#relay !== h.relay;
      const first = this.#relay === undefined;
      this.#relay = h.relay;
      this.#nonce = h.nonce;
      this.#maxFrame = Math.min(LIMITS.maxFrameBytes, Math.max(1024, h.maxFrame));
      this.#phase = 'ready';
      this.#told = undefined;
      this.#reached = true;
      this.#notFound = 0;
      this.#readyAt = this.#o.clock.now();
      this.#schedulePing();
      const endpoint = this.#here().address;
      this.#o.onState({ state: 'connected', restarted, endpoint, relays: this.#endpoints.length });
      this.#o.onReady({ relay: h.relay, restarted, first, nonce: h.nonce, endpoint, index: this.#index });
      return;
    }
    if (h.t === 'error' && this.#phase === 'handshake') {
      // The relay refuses this connection (it closes it next): say why once, not at every retry.
      // It answered, so the link and the password are right.
      this.#refused = h.code;
      this.#reached = true;
      this.#notFound = 0;
      if (this.#told !== h.code) {
        this.#told = h.code;
        this.#o.onFrame(h, r.body);
      }
      return;
    }
    if (this.#phase !== 'ready') return; // nothing else counts before the handshake
    if (h.t === 'pong') {
      this.#timers.pong?.cancel();
      this.#timers.pong = undefined;
      return;
    }
    this.#o.onFrame(h, r.body);
    // Shutting down (or it lost what it shares with the cluster): another relay takes us now.
    // Alone, we wait for it to close the connection, and come back when it is back.
    if (h.t === 'closing' && this.#endpoints.length > 1 && this.#phase === 'ready') this.#drop('the relay is shutting down');
  }

  #schedulePing(): void {
    const gen = this.#gen;
    this.#timers.ping = this.#o.clock.setTimeout(() => {
      if (gen !== this.#gen || this.#phase !== 'ready') return;
      this.send({ v: 1, t: 'ping' });
      this.#timers.pong = this.#o.clock.setTimeout(() => gen === this.#gen && this.#drop('no pong from the relay'), this.#o.pongTimeoutMs ?? CONNECTION_DEFAULTS.pongTimeoutMs);
      this.#schedulePing();
    }, this.#o.pingIntervalMs ?? CONNECTION_DEFAULTS.pingIntervalMs);
  }

  /**
   * The upgrade was answered 404: a wrong path or password, or no relay there (the relay cannot
   * say which, by design). Said at once; a client that never reached the relay gives up after
   * `firstTries` of them, one that did keeps trying (see the file's comment).
   */
  #onNotFound(): void {
    const tries = this.#firstTries();
    const n = ++this.#notFound;
    // With one relay, "the server"; with several, the one that answered, and the others are tried.
    const one = this.#endpoints.length === 1;
    const who = one ? 'the server' : `the relay ${this.#here().address}`;
    if (n === 1)
      this.#o.onError?.(
        'E_NOT_FOUND',
        this.#reached
          ? `${who} now answers 404: it no longer knows this link's path or password (it restarted with other ones, or it is gone), or, if it has a password, too many wrong ones came from your network lately; still trying${one ? '' : ' the relays'}`
          : `${who} answered 404: ${NOT_FOUND_CAUSES}${one ? (tries > 1 ? `; trying ${tries - 1} more time${tries > 2 ? 's' : ''}` : '') : '; trying the other relays'}`,
      );
    if (!this.#reached && n >= tries) {
      const whose = one ? 'the server' : 'the relays';
      this.close(`gave up: ${whose} answered 404 to ${n} tries`);
      this.#o.onGiveUp?.('E_NOT_FOUND', `${whose} answered 404 to ${n} tries: ${NOT_FOUND_CAUSES}; check both and join again (after several wrong passwords, the server answers your address 404 for a few minutes, whatever it sends)`);
      return;
    }
    this.#drop(`${who} answered 404`, false);
  }

  /** Tries before giving up on 404s or naming the causes: `firstTries`, and at least one per endpoint. */
  #firstTries(): number {
    return Math.max(this.#o.firstTries ?? CONNECTION_DEFAULTS.firstTries, this.#endpoints.length);
  }

  /** A try ended before the relay spoke (not a 404): after `firstTries` of them, say the likely causes once. */
  #noteSilent(last: string): void {
    if (this.#reached || this.#silent < 0) return;
    const tries = this.#firstTries();
    if (++this.#silent < tries) return;
    this.#silent = -1; // said: not again in this run
    const what = this.#endpoints.length === 1 ? 'the relay could not be reached' : `none of the ${this.#endpoints.length} relays could be reached`;
    this.#o.onError?.(
      'E_CONNECT',
      this.#o.transport.seesHttpStatus === true
        ? `${what} in ${tries} tries (last: ${last}); still trying`
        : `${what} in ${tries} tries: if this server has a password, it may be missing or wrong (this client cannot see the server's answer), or the server is down or unreachable; still trying`,
    );
  }

  /** The current connection is dead: forget it and schedule the next attempt. */
  #drop(reason: string, closeIt = true): void {
    if (this.#phase === 'closed' || this.#phase === 'waiting') return;
    this.#clearTimers();
    this.#gen++;
    const conn = this.#conn;
    this.#conn = undefined;
    if (closeIt) conn?.close(4000, 'reconnecting');
    // The backoff starts over only after a connection that lasted: a relay that accepts and
    // drops us at once (overload, abuse limits) must not be hammered at the shortest delay.
    // The relay that dropped us then counts as the new round's first try.
    if (this.#phase === 'ready' && this.#readyAt !== undefined && this.#o.clock.now() - this.#readyAt >= STABLE_MS) {
      this.#attempt = 0;
      this.#tried = 1;
    }
    this.#readyAt = undefined;
    const lost = this.#here().address;
    const n = this.#endpoints.length;
    this.#index = (this.#index + 1) % n;
    const attempt = this.#attempt;
    let delayMs: number;
    if (this.#tried < n) {
      // Another relay of the cluster is untried in this round: go there now (a little jitter).
      delayMs = Math.floor(this.#random() * (this.#o.failoverJitterMs ?? CONNECTION_DEFAULTS.failoverJitterMs));
    } else {
      delayMs = backoffDelay(this.#attempt, this.#random, this.#o.backoffBaseMs, this.#o.backoffCapMs);
      this.#attempt++;
      this.#tried = 0;
    }
    this.#phase = 'waiting';
    this.#o.onState({ state: 'reconnecting', delayMs, attempt, reason, endpoint: lost, relays: n });
    this.#timers.retry = this.#o.clock.setTimeout(() => {
      if (this.#phase === 'waiting') this.#open();
    }, delayMs);
  }

  #clearTimers(): void {
    for (const t of Object.values(this.#timers)) t?.cancel();
    this.#timers = {};
  }
}
