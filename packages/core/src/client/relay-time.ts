/**
 * Roughtime through the relay, for clients that cannot send UDP (browsers): the request is made
 * here (nonce and all, by core/roughtime), carried as opaque bytes in an `rt {id, server}` frame
 * to one of the Roughtime servers *configured on the relay*, and the reply comes back in
 * `rt {id}`. The signature is checked here too, so the relay can only delay or drop.
 *
 * `server.address` is the relay's server number (0, 1, ...) as a string; the server's public key
 * comes from the user or the invite link, never from the relay.
 */
import type { RoughtimeQuery, RoughtimeServer } from '../roughtime/chain.js';
import { randomId } from '../protocol/ids.js';
import type { ClientHeader } from '../protocol/frames.js';
import type { TimeServerSpec } from '../protocol/link-time.js';
import { DEFAULT_VERSIONS } from '../roughtime/versions.js';
import type { Clock, TimerId } from './clock.js';

/** How long one request through the relay may take before it counts as unanswered. */
export const RELAY_TIME_TIMEOUT_MS = 3_000;

export class RelayTimeQuery {
  readonly #pending = new Map<string, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void; timer: TimerId }>();

  constructor(
    private readonly send: (h: Extract<ClientHeader, { t: 'rt' }>, body: Uint8Array) => boolean,
    private readonly clock: Clock,
  ) {}

  readonly query: RoughtimeQuery = (server: RoughtimeServer, request: Uint8Array) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const index = Number(server.address);
      if (!Number.isInteger(index) || index < 0) return reject(new Error(`server ${server.name} has no relay server number`));
      const id = randomId();
      if (!this.send({ v: 1, t: 'rt', id, server: index }, request)) return reject(new Error('not connected to the relay'));
      const timer = this.clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error('no answer through the relay in time'));
      }, RELAY_TIME_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
    });

  /** An `rt {id}` reply: true if it answered one of ours. The body is copied (not ours to keep). */
  onReply(id: string, body: Uint8Array): boolean {
    const p = this.#pending.get(id);
    if (!p) return false;
    this.#pending.delete(id);
    p.timer.cancel();
    p.resolve(body.slice());
    return true;
  }

  /** A `nack {id, code}`: true if it refused one of ours. */
  onNack(id: string, code: string): boolean {
    const p = this.#pending.get(id);
    if (!p) return false;
    this.#pending.delete(id);
    p.timer.cancel();
    p.reject(new Error(`the relay could not carry the request (${code})`));
    return true;
  }
}

/**
 * An invite link's `t` servers as servers reached through the relay, by position: entry i is the
 * relay's server number i (`safehouse serve` numbers its own Roughtime server 0, then each
 * `--roughtime-upstream`). The key is the link's, so a relay that numbers them otherwise only
 * makes verification fail; it cannot make the client accept a time.
 */
export function relayTimeServers(specs: readonly TimeServerSpec[]): RoughtimeServer[] {
  const seen = new Set<string>();
  return specs.flatMap((t, i) => {
    const key = t.publicKey.join(',');
    if (seen.has(key)) return []; // one key counts once toward a quorum
    seen.add(key);
    return [{ name: `${t.host}:${t.port} (relay server ${i})`, address: String(i), publicKey: t.publicKey, versions: DEFAULT_VERSIONS }];
  });
}
