import { toBase64Url } from '../protocol/ids.js';

/**
 * The message ids a session has accepted, within a bounded window (default: the last 4096):
 * memory stays flat however long the room lives. A byte-for-byte replay is caught by MLS
 * itself (its generation was consumed, inbound.ts); the ids catch what MLS cannot: the same
 * message encrypted again under the same id, as a client's outbox does after a reconnect.
 */
export const DEFAULT_DEDUP_WINDOW = 4096;

/**
 * The dedup key of a message: its id under its sender's identity fingerprint. An id is chosen
 * by its sender, so an id alone lets one member squat another's (send a message under the id
 * the victim's genuine one carries, delivered first: the genuine one was then dropped as a
 * duplicate). Ids are 22 base64url characters and never hold the separator.
 */
export function dedupKey(sender: Uint8Array, id: string): string {
  return `${toBase64Url(sender)}/${id}`;
}

export class IdWindow {
  readonly #max: number;
  readonly #set = new Set<string>();
  readonly #order: string[] = [];
  #next = 0;

  constructor(max = DEFAULT_DEDUP_WINDOW) {
    if (!Number.isSafeInteger(max) || max < 1)
      throw new TypeError(`"max" expected a positive integer, got ${String(max)}`);
    this.#max = max;
  }

  has(id: string): boolean {
    return this.#set.has(id);
  }

  add(id: string): void {
    if (this.#set.has(id)) return;
    if (this.#order.length < this.#max) this.#order.push(id);
    else {
      const old = this.#order[this.#next];
      if (old !== undefined) this.#set.delete(old);
      this.#order[this.#next] = id;
      this.#next = (this.#next + 1) % this.#max;
    }
    this.#set.add(id);
  }

  get size(): number {
    return this.#set.size;
  }
}
