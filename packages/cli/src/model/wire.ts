/**
 * Test support (not built, not shipped): the adversarial model's view of the wire.
 *
 * Every honest client reaches the REAL relay through an `AdversaryLine`: a malicious relay (or
 * network) as that client sees it. A command of the model arms a rule on a member's line (drop,
 * duplicate, delay, reorder, tamper the next `msg` frames) or injects frames (replays, splices,
 * fake presence, forged refusals, garbage commits). `stop()` is the adversary stopping: rules
 * are cleared and frames it held are delivered, so that convergence can be checked.
 *
 * Every byte that crosses any line, either way, is kept (`WireLog`) so that the invariants can
 * check that no message text ever crossed the relay in the clear.
 *
 * Transport: by default the in-process connection of `server.control.openPrivileged`. It runs
 * the same relay code as a WebSocket (`relay.attach`), and it is privileged only in that a room
 * policy (`control.setPolicy`) would not apply to it: the model never sets a policy, and with
 * none the relay's policy hook answers `undefined` for every connection (control.ts), so the
 * connection is neutral. `SAFEHOUSE_MODEL_WS=1` uses the `ws` transport on loopback instead.
 */
import type { Transport, TransportConnection, TransportHandlers } from '@safehouse/core/client';
import { decodeRelayFrame, encodeFrame, type RelayHeader } from '@safehouse/core/protocol';
import type { RunningServer } from '@safehouse/server';
import { createWsTransport } from '../transport/ws.js';

export type MsgHeader = Extract<RelayHeader, { t: 'msg' }>;
export type MsgFrame = { header: MsgHeader; body: Uint8Array };

/** Every frame that crossed the relay in a sequence (both ways, every line, attackers too). */
export class WireLog {
  readonly chunks: Buffer[] = [];
  add(bytes: Uint8Array): void {
    this.chunks.push(Buffer.from(bytes));
  }
  /** Whether `text` (UTF-8) occurs in any frame. */
  contains(text: string): boolean {
    const needle = Buffer.from(text, 'utf8');
    return this.chunks.some((c) => c.indexOf(needle) >= 0);
  }
}

/** The transport to the relay: in-process (neutral, see above) or `ws` on loopback. */
export function relayTransport(servers: readonly RunningServer[]): Transport {
  if (process.env.SAFEHOUSE_MODEL_WS === '1') return createWsTransport();
  let turn = 0;
  return {
    // Each connection goes to the next relay (a cluster's): a member that reconnects moves.
    open(_url: string, handlers: TransportHandlers): TransportConnection {
      return (servers[turn++ % servers.length] as RunningServer).control.openPrivileged(handlers);
    },
  };
}

/** One armed rule: applies to the next `n` inbound `msg` frames. */
export type Rule =
  | { kind: 'drop'; n: number }
  | { kind: 'dup'; n: number }
  | { kind: 'delay'; n: number; ms: number }
  | { kind: 'reorder'; n: number; held: Uint8Array[] }
  | { kind: 'tamper'; n: number; at: number };

/**
 * The adversary in front of one client: it survives the client's reconnects (each connection
 * goes through it). `history` is every `msg` it let through, for replays and splices.
 */
export class AdversaryLine {
  readonly rules: Rule[] = [];
  readonly history: MsgFrame[] = [];
  /** Drop every commit to this client (a removed member that keeps its old state). */
  blindCommits = false;
  /** The subscriber count the relay itself last told this client, by room (fakes not counted). */
  readonly presence = new Map<string, number>();
  #toClient: ((bytes: Uint8Array) => void) | undefined;
  #kill: (() => void) | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #late: Uint8Array[] = [];
  #stopped = false;

  constructor(
    readonly log: WireLog,
    private readonly inner: Transport,
  ) {}

  transport(): Transport {
    return {
      open: (url, handlers) => {
        let open = true;
        const toClient = (bytes: Uint8Array): void => {
          if (open) handlers.onFrame(bytes);
        };
        const conn = this.inner.open(url, {
          onOpen: () => handlers.onOpen(),
          onClose: (code, reason) => {
            open = false;
            handlers.onClose(code, reason);
          },
          onFrame: (bytes) => {
            this.log.add(bytes);
            const d = decodeRelayFrame(bytes);
            if (d.ok && d.header.t === 'presence') this.presence.set(d.header.room, d.header.count);
            this.#inbound(bytes, toClient);
          },
        });
        this.#toClient = toClient;
        this.#kill = () => conn.close(1000, '');
        return {
          send: (bytes) => {
            this.log.add(bytes);
            conn.send(bytes);
          },
          close: (code, reason) => conn.close(code, reason),
        };
      },
    };
  }

  /** Hands `bytes` to the client now, as if the relay sent them. */
  inject(bytes: Uint8Array): void {
    this.log.add(bytes);
    this.#toClient?.(bytes);
  }

  /** Closes the current connection (the client reconnects with backoff). */
  kill(): void {
    this.#kill?.();
  }

  arm(rule: Rule): void {
    if (!this.#stopped) this.rules.push(rule);
  }

  /** The adversary stops: no more rules; what it held back is delivered now, in order. */
  stop(): void {
    this.#stopped = true;
    this.blindCommits = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const held = [...this.#late.splice(0)];
    for (const r of this.rules.splice(0)) if (r.kind === 'reorder') held.push(...r.held);
    for (const b of held) this.#toClient?.(b);
  }

  #inbound(bytes: Uint8Array, toClient: (bytes: Uint8Array) => void): void {
    const d = decodeRelayFrame(bytes);
    if (!d.ok || d.header.t !== 'msg') return toClient(bytes);
    const header = d.header;
    if (this.blindCommits && header.kind === 'commit') return;
    const rule = this.rules[0];
    if (!rule) return this.#pass(header, d.body, bytes, toClient);
    rule.n -= 1;
    if (rule.n <= 0 && rule.kind !== 'reorder') this.rules.shift();
    switch (rule.kind) {
      case 'drop':
        return;
      case 'dup':
        this.#pass(header, d.body, bytes, toClient);
        toClient(bytes);
        return;
      case 'delay': {
        this.#late.push(bytes);
        const t = setTimeout(() => {
          this.#timers.delete(t);
          const i = this.#late.indexOf(bytes);
          if (i < 0) return;
          this.#late.splice(i, 1);
          this.#pass(header, d.body, bytes, toClient);
        }, rule.ms);
        this.#timers.add(t);
        return;
      }
      case 'reorder':
        rule.held.push(bytes);
        if (rule.n <= 0) {
          this.rules.shift();
          for (const b of rule.held.reverse()) toClient(b);
        }
        return;
      case 'tamper': {
        const copy = bytes.slice();
        const headerEnd = 2 + ((copy[0] ?? 0) << 8) + (copy[1] ?? 0);
        const bodyLen = copy.length - headerEnd;
        if (bodyLen > 0) {
          const i = headerEnd + (rule.at % bodyLen);
          copy[i] = (copy[i] ?? 0) ^ 0x01;
        }
        toClient(copy);
        return;
      }
    }
  }

  #pass(header: MsgHeader, body: Uint8Array, bytes: Uint8Array, toClient: (bytes: Uint8Array) => void): void {
    this.history.push({ header, body: body.slice() });
    toClient(bytes);
  }
}

/** A `msg` frame re-labelled (room, epoch, id, seq): the body is untouched, so MLS must refuse it. */
export function relabel(f: MsgFrame, changes: Partial<Pick<MsgHeader, 'room' | 'epoch' | 'id' | 'seq'>>): Uint8Array {
  return encodeFrame({ ...f.header, ...changes }, f.body);
}
