/**
 * Per-sender gap detection (THREATS C.17: "a drop is detected as a gap"). Each sender numbers
 * its messages in a room (`n` in the plaintext, inside MLS, so the relay can neither read nor
 * change it); a receiver that sees `n` jump flags how many are missing. The first number seen
 * from a sender is its baseline (we may have joined mid-conversation); a late message that fills
 * a gap is shown normally. A sender that restarts (a new device identity) starts a new series.
 */

const MAX_SENDERS = 1024;

export class GapTracker {
  #sent = 0;
  readonly #last = new Map<string, number>();

  /** The number for the next message this device sends in the room. */
  next(): number {
    return ++this.#sent;
  }

  /**
   * Records message `n` from `sender` (a fingerprint, base64url); returns how many of its
   * messages before this one have not arrived (0 when none are missing).
   */
  seen(sender: string, n: number | undefined): number {
    if (n === undefined) return 0;
    const last = this.#last.get(sender);
    if (last === undefined || n > last) {
      this.#last.delete(sender); // re-insert: the map stays in least-recently-heard order
      this.#last.set(sender, n);
      if (this.#last.size > MAX_SENDERS) this.#last.delete(this.#last.keys().next().value ?? '');
    }
    return last === undefined || n <= last ? 0 : n - last - 1;
  }
}
