/**
 * The piece the client holds: a server list, a transport, and the proven present. `refresh()`
 * measures (RFC 10049 §8.2) with a fresh random choice of servers and adopts the quorum's
 * bounds; `current()` and `compare()` answer from them until they go stale. Failures count
 * toward the §5 back-off; malfeasance is handed to `onMalfeasance` (report it, alert the user).
 */
import { aint, isArray } from './bytes.js';
import { queryRetryDelayMs } from './backoff.js';
import { ProvenClock, type CurrentTime, type ProvenClockOptions } from './bounds.js';
import {
  chooseServers,
  measure,
  type Malfeasance,
  type MeasureOptions,
  type MeasureResult,
  type RoughtimeServer,
} from './chain.js';
import { UsageError } from '../protocol/errors.js';

export interface TimeSourceOptions extends ProvenClockOptions, Omit<MeasureOptions, 'now'> {
  readonly servers: readonly RoughtimeServer[];
  /** Servers per measurement (§8.1: at least three); default min(3, servers). */
  readonly count?: number;
  readonly onMalfeasance?: (m: Malfeasance) => void;
}

export class ProvenTimeSource {
  readonly #clock: ProvenClock;
  readonly #options: TimeSourceOptions;
  readonly #count: number;
  #failures = 0;
  #inFlight: Promise<MeasureResult> | undefined;

  constructor(options: TimeSourceOptions) {
    if (typeof options !== 'object' || options === null || !isArray(options.servers) || options.servers.length === 0) {
      throw new UsageError('E_USAGE', '"servers" expected a non-empty array');
    }
    this.#options = options;
    this.#count = aint('count', options.count ?? Math.min(3, options.servers.length), 1, options.servers.length);
    this.#clock = new ProvenClock(options);
  }

  /** Measures now; concurrent calls share one measurement. Never throws for network outcomes. */
  refresh(): Promise<MeasureResult> {
    this.#inFlight ??= this.#measure().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #measure(): Promise<MeasureResult> {
    const o = this.#options;
    const servers = chooseServers(o.servers, this.#count, o.random);
    const res = await measure(servers, o);
    if (res.malfeasance) o.onMalfeasance?.(res.malfeasance);
    if (res.ok) {
      this.#clock.update(res.bounds);
      this.#failures = 0;
    } else {
      this.#failures++;
    }
    return res;
  }

  current(): CurrentTime {
    return this.#clock.current();
  }

  compare(instantMs: number): 'past' | 'future' | 'unknown' {
    return this.#clock.compare(instantMs);
  }

  /** How long to wait before the next refresh after failures (§5), or 0 after a success. */
  retryDelayMs(): number {
    return this.#failures === 0 ? 0 : queryRetryDelayMs(this.#failures);
  }
}
