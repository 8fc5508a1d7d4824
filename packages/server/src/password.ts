/**
 * The password check at the WebSocket upgrade (docs/security.md, THREATS B.12/B.13).
 *
 * The client sends `Sec-WebSocket-Protocol: safehouse.<token>` (core/protocol/password.ts). The
 * gate asks `check(ip, header)`: the header is compared with the expected value as HMACs under a
 * per-process random key with `timingSafeEqual`, so the time taken does not depend on how much
 * of it is right. A failure is answered by the caller with the standard 404, like every other
 * unauthorised request: a prober cannot tell a wrong password from a wrong path.
 *
 * Back-off per source address: `freeAttempts` failures are free; after that the address is
 * refused without looking at the header for 2^(failures - freeAttempts) seconds (at most
 * `maxBackoffMs`), so guessing online costs hours, not seconds. A success forgets the address.
 * At most `maxTracked` addresses are remembered (the oldest is forgotten first): memory is bounded.
 * Nothing here logs: not the header, not the address.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { passwordSubprotocol } from '@safehouse/core/protocol';

export type PasswordBackoff = {
  /** Failures from one address before it must wait. Default 5. */
  freeAttempts: number;
  /** Longest wait. Default 5 minutes. */
  maxBackoffMs: number;
  /** Addresses remembered. Default 10,000. */
  maxTracked: number;
};

export const DEFAULT_PASSWORD_BACKOFF: Readonly<PasswordBackoff> = Object.freeze({
  freeAttempts: 5,
  maxBackoffMs: 300_000,
  maxTracked: 10_000,
});

type Failures = { count: number; until: number };

export class PasswordGate {
  readonly #key = randomBytes(32);
  readonly #expected: Buffer;
  readonly #failures = new Map<string, Failures>();
  readonly #backoff: PasswordBackoff;
  readonly #now: () => number;

  private constructor(expectedHeader: string, backoff: PasswordBackoff, now: () => number) {
    this.#expected = this.#mac(expectedHeader);
    this.#backoff = backoff;
    this.#now = now;
  }

  /** Derives the expected subprotocol once (PBKDF2); the password itself is not kept. */
  static async create(
    password: string,
    basePath: string,
    backoff: Partial<PasswordBackoff> = {},
    now: () => number = Date.now,
  ): Promise<PasswordGate> {
    return new PasswordGate(
      await passwordSubprotocol(password, basePath),
      { ...DEFAULT_PASSWORD_BACKOFF, ...backoff },
      now,
    );
  }

  #mac(s: string): Buffer {
    return createHmac('sha256', this.#key).update(s, 'utf8').digest();
  }

  /** Whether the handshake's `Sec-WebSocket-Protocol` header carries the password, from an address allowed to try. */
  check(ip: string, header: string | string[] | undefined): boolean {
    const value = typeof header === 'string' ? header.trim() : '';
    // Always computed, whatever the address's state: the answer's timing says nothing.
    const right = timingSafeEqual(this.#mac(value), this.#expected);
    const now = this.#now();
    const f = this.#failures.get(ip);
    if (f && f.until > now) return false;
    if (right) {
      this.#failures.delete(ip);
      return true;
    }
    this.#fail(ip, f, now);
    return false;
  }

  #fail(ip: string, f: Failures | undefined, now: number): void {
    const count = (f?.count ?? 0) + 1;
    const over = count - this.#backoff.freeAttempts;
    const until = over > 0 ? now + Math.min(this.#backoff.maxBackoffMs, 1000 * 2 ** Math.min(over - 1, 30)) : 0;
    this.#failures.delete(ip); // re-inserted last: the Map's order is the eviction order
    this.#failures.set(ip, { count, until });
    while (this.#failures.size > this.#backoff.maxTracked) {
      const oldest = this.#failures.keys().next();
      if (oldest.done === true) break;
      this.#failures.delete(oldest.value);
    }
  }

  wipe(): void {
    this.#key.fill(0);
    this.#expected.fill(0);
    this.#failures.clear();
  }
}
