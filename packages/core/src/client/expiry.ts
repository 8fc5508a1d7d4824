/**
 * Timed messages against proven time (issue 6; docs/protocol.md "Timed messages").
 *
 * A timed message carries `expiresAt` (Unix ms) inside MLS's authenticated data, so nobody can
 * change it unnoticed. This keeper decides, on time proven by Roughtime and never on the local
 * clock, what the UI may show:
 *   - shown while the proven *latest* present is before `expiresAt`;
 *   - `expired {id, room}` (and forgotten) once the latest possible present reaches it;
 *   - dropped on arrival once even the *earliest* possible present is past it;
 *   - with no fresh proven time: hidden (`time {state: 'unproven'}`), never kept alive by the
 *     local clock; shown again once time is proven, unless expired by then: the same `message`
 *     event again, marked `again` (a UI that kept it shows it; one that did not, because it
 *     scrolled away, never adds it anew at the bottom);
 *   - forgotten with its room (`forget`): a room left stays left, whatever time does. Bounds that go stale between
 *     measurements are measured again at once.
 * The time source extrapolates with the monotonic clock, so a wall clock turned back a day or
 * forward a year changes nothing. Timers use the injected clock's `setTimeout` (relative delays).
 *
 * A recipient can always copy what it was shown: expiry binds honest clients only.
 */
import type { CurrentTime } from '../roughtime/bounds.js';
import type { Clock, TimerId } from './clock.js';
import type { ClientEvent } from './events.js';

/** What the client needs of proven time: `ProvenTimeSource` (core/roughtime) fits. */
export interface TimeSource {
  current(): CurrentTime;
  /** Measures again; never throws for network outcomes. */
  refresh(): Promise<{ readonly ok: boolean; readonly code?: string; readonly detail?: string }>;
  /** How long to wait after failures before the next refresh (RFC 10049 §5); 0 after a success. */
  retryDelayMs?(): number;
}

type MessageEvent = Extract<ClientEvent, { type: 'message' }> & { expiresAt: number };

/**
 * A message is its room, its sender and its id: another member may send one under the same id
 * (issue 12, attack 6), and so may the same sender in another room (one would take the other's
 * place here, and the view's expiry of one must not take the other away).
 */
const keyOf = (e: MessageEvent): string => `${e.room}/${e.fingerprint}/${e.id}`;

export const EXPIRY_DEFAULTS = {
  /** Measure again this often while proven time is in use (bounds go stale after 10 min). */
  refreshMs: 4 * 60_000,
  /** Shortest wait before retrying a failed measurement. */
  minRetryMs: 1_000,
  /** Longest wait between checks while timed messages are shown (notices stale bounds). */
  maxCheckMs: 1_000,
  /** Timed messages kept (shown or hidden) at most; the oldest hidden ones go first; with none
   *  hidden, one more is not shown (never shown untimed) and `E_LIMIT` says so (bounds.ts). */
  maxHeld: 2_000,
} as const;

export class ExpiryKeeper {
  readonly #source: TimeSource | undefined;
  readonly #clock: Clock;
  readonly #emit: (e: ClientEvent) => void;
  /** Timed messages by sender and id (`keyOf`: two senders may use one id): shown (the UI has them) or hidden (waiting for proven time). */
  readonly #held = new Map<string, { event: MessageEvent; shown: boolean; emitted: boolean }>();
  readonly #limit: ((message: string, room: string) => void) | undefined;
  #state: 'none' | 'proven' | 'unproven' = 'none';
  #running = false;
  #stopped = false;
  #refreshTimer: TimerId | undefined;
  #checkTimer: TimerId | undefined;

  constructor(options: { source: TimeSource | undefined; clock: Clock; emit: (e: ClientEvent) => void; limit?: (message: string, room: string) => void }) {
    this.#limit = options.limit;
    this.#source = options.source;
    this.#clock = options.clock;
    this.#emit = options.emit;
  }

  /** Proven bounds now, or undefined. */
  bounds(): { earliestMs: number; latestMs: number } | undefined {
    const c = this.#source?.current();
    return c?.kind === 'bounds' ? c : undefined;
  }

  /**
   * The expiry for a message sent now with `ttlMs`: the middle of the proven present plus the
   * TTL. Measures first when needed; undefined when no proven time can be had.
   */
  async expiresAt(ttlMs: number): Promise<number | undefined> {
    this.need();
    let b = this.bounds();
    if (!b && this.#source) {
      await this.#refresh();
      b = this.bounds();
    }
    return b ? Math.round((b.earliestMs + b.latestMs) / 2) + ttlMs : undefined;
  }

  /** Timed messages are in use (one arrived, or a room has a timer): keep proven time fresh. */
  need(): void {
    if (this.#running || this.#stopped || !this.#source) return;
    this.#running = true;
    void this.#refresh();
  }

  /** A timed `message` event: shown, hidden or dropped (see the file comment). */
  offer(event: MessageEvent): void {
    if (this.#stopped) return;
    this.need();
    const b = this.bounds();
    if (b) this.#setState('proven');
    if (b && b.earliestMs >= event.expiresAt) return; // expired before it arrived: never shown
    if (b && b.latestMs >= event.expiresAt) return; // expires within the uncertainty of the present: treated as expired
    if (!this.#room(event)) return;
    if (b) {
      this.#held.set(keyOf(event), { event, shown: true, emitted: true });
      this.#emit(event);
      this.#schedule();
      return;
    }
    this.#hold(event);
    this.#setState('unproven');
  }

  /** The room ended here (left, removed, refused): its messages are nobody's to show or take away any more. */
  forget(room: string): void {
    for (const [key, h] of this.#held) if (h.event.room === room) this.#held.delete(key);
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#refreshTimer?.cancel();
    this.#checkTimer?.cancel();
    this.#held.clear();
  }

  #hold(event: MessageEvent): void {
    const key = keyOf(event);
    this.#held.set(key, { event, shown: false, emitted: this.#held.get(key)?.emitted ?? false });
  }

  /**
   * Room for one more (bounded: `maxHeld`): the oldest hidden one goes first; with none hidden,
   * this one is not shown at all (shown, it would have nobody to take it away on time).
   */
  #room(event: MessageEvent): boolean {
    if (this.#held.has(keyOf(event)) || this.#held.size < EXPIRY_DEFAULTS.maxHeld) return true;
    for (const [key, h] of this.#held) {
      if (!h.shown) {
        this.#held.delete(key);
        return true;
      }
    }
    this.#limit?.(`${EXPIRY_DEFAULTS.maxHeld} timed messages are on screen already; a timed message was not shown`, event.room);
    return false;
  }

  async #refresh(): Promise<void> {
    const source = this.#source;
    if (!source || this.#stopped) return;
    this.#refreshTimer?.cancel();
    const r = await source.refresh();
    if (this.#stopped) return;
    const delay = r.ok ? EXPIRY_DEFAULTS.refreshMs : Math.max(EXPIRY_DEFAULTS.minRetryMs, source.retryDelayMs?.() ?? 0);
    this.#refreshTimer = this.#clock.setTimeout(() => void this.#refresh(), delay);
    this.#check(r.ok ? undefined : { code: r.code, detail: r.detail });
  }

  /** Re-evaluates every held message against the proven present. */
  #check(failure?: { code: string | undefined; detail: string | undefined }): void {
    if (this.#stopped) return;
    const b = this.bounds();
    if (!b) {
      for (const h of this.#held.values()) h.shown = false;
      const lost = this.#state === 'proven' && failure === undefined;
      this.#setState('unproven', failure);
      this.#schedule();
      // The bounds went stale between measurements: measure again now, not at the next refresh.
      if (lost) void this.#refresh();
      return;
    }
    this.#setState('proven');
    for (const [key, h] of [...this.#held]) {
      if (b.latestMs >= h.event.expiresAt) {
        this.#held.delete(key);
        // Only what a UI may have shown needs taking away; a hidden one simply goes.
        this.#emit({ type: 'expired', id: h.event.id, fingerprint: h.event.fingerprint, room: h.event.room, expiresAt: h.event.expiresAt });
      } else if (!h.shown) {
        h.shown = true;
        this.#emit(h.emitted ? { ...h.event, again: true } : h.event);
        h.emitted = true;
      }
    }
    this.#schedule();
  }

  #setState(state: 'proven' | 'unproven', failure?: { code: string | undefined; detail: string | undefined }): void {
    if (this.#state === state) return;
    const first = this.#state === 'none';
    this.#state = state;
    if (state === 'proven') {
      const b = this.bounds();
      this.#emit({ type: 'time', state, message: 'time is proven by Roughtime; timed messages are shown until they expire', ...(b ?? {}) });
    } else if (!first || this.#source !== undefined || this.#held.size > 0) {
      const why = this.#source ? (failure?.detail ?? 'no fresh proven time') : 'no Roughtime servers are configured';
      this.#emit({
        type: 'time',
        state,
        message: `time cannot be proven (${why}); timed messages are hidden until it can`,
        ...(failure?.code !== undefined ? { code: failure.code } : {}),
      });
    }
  }

  /** One timer at the next instant a shown message may expire, at most `maxCheckMs` away. */
  #schedule(): void {
    this.#checkTimer?.cancel();
    this.#checkTimer = undefined;
    if (this.#held.size === 0 || this.#stopped) return;
    const b = this.bounds();
    let wait: number = EXPIRY_DEFAULTS.maxCheckMs;
    if (b) for (const h of this.#held.values()) wait = Math.min(wait, h.event.expiresAt - b.latestMs);
    this.#checkTimer = this.#clock.setTimeout(() => this.#check(), Math.max(1, wait));
  }
}
