/**
 * Test support (not built, not shipped): the wire between clients and the REAL relay, where a
 * test plays a malicious relay or a bad network. Every connection a client opens is a `Line`;
 * on it a test may drop, delay, duplicate, alter or replay the relay's frames to that client
 * (`inbound`), see or change the client's frames (`outbound`), kill the connection, or keep new
 * connections from reaching the relay at all (`down`). The relay behind it is never changed:
 * whatever the wire does, the relay could do, and the client must survive it (docs/protocol.md:
 * "the relay is an adversary").
 *
 * The wire also reads what the relay says, as counts a test can assert on without looking into
 * the relay: `commit` pubs sent, commits the relay accepted (acked), and the last `presence`
 * each line heard per room (a line that hears one is subscribed).
 */
import type { CloseInfo, Transport, TransportConnection } from '@safehouse/core/client';
import { decodeClientFrame, decodeRelayFrame, type ClientHeader, type RelayHeader } from '@safehouse/core/protocol';

/** What a hook decides for one frame: pass it, drop it, or pass these frames instead. */
export type Verdict = 'pass' | 'drop' | { replace: Uint8Array[] };

/** `body` is a view into the frame: copy it to keep it past the call. */
export type InboundHook = (line: Line, header: RelayHeader, body: Uint8Array) => Verdict;
export type OutboundHook = (line: Line, header: ClientHeader, body: Uint8Array) => Verdict;

function apply(verdict: Verdict, bytes: Uint8Array): Uint8Array[] {
  if (verdict === 'pass') return [bytes];
  if (verdict === 'drop') return [];
  return verdict.replace;
}

type MsgHeader = Extract<RelayHeader, { t: 'msg' }>;

/** One WebSocket connection of one client, as the wire sees it. */
export class Line {
  /** True until the connection closed, failed or was killed; frames are delivered only while open. */
  open = true;
  /** Every `msg` the client was handed on this line (after the hooks), for replays. */
  readonly delivered: Array<{ header: MsgHeader; bytes: Uint8Array }> = [];
  /** The last subscriber count the relay told this line, by room (`presence`). */
  readonly presence = new Map<string, number>();

  constructor(
    /** The label of the client that opened it (Wire.transport). */
    readonly owner: string,
    private readonly ends: { toClient(bytes: Uint8Array): void; kill(): void },
  ) {}

  /** Hands `bytes` to the client as if the relay sent them (nothing once the line is closed). */
  deliver(bytes: Uint8Array): void {
    if (this.open) this.ends.toClient(bytes);
  }

  /** The connection dies: the client is told 1006 (no close frame), the relay sees the socket go. */
  kill(): void {
    this.ends.kill();
  }
}

export class Wire {
  /** While true, new connections fail at once (the relay is unreachable); open ones stay. */
  down = false;
  /** Clients (by label) whose new connections fail at once, as if only their network were down. */
  readonly cutOff = new Set<string>();
  /** Relay → client, per line; runs after the wire's own counts. */
  inbound: InboundHook = () => 'pass';
  /** Client → relay, per line. */
  outbound: OutboundHook = () => 'pass';
  /** Sees every frame header each way, before the hooks (for debugging a failing scenario). */
  trace: ((line: Line, direction: 'in' | 'out', header: RelayHeader | ClientHeader) => void) | undefined;
  /** Every line ever opened, oldest first. */
  readonly lines: Line[] = [];
  /** `pub kind:commit` frames clients sent (passed to the relay), accepted or not, resends included. */
  commitPubs = 0;
  /** `rt` frames clients sent, by the relay's Roughtime server number. */
  readonly rtAsked: number[] = [];
  /** Ids of commits the relay acked, by room. */
  readonly #accepted = new Map<string, Set<string>>();
  /** Commit ids clients sent, with their room (an `ack` names only the id). */
  readonly #commitRoom = new Map<string, string>();

  /** The commits the relay accepted in `room` (distinct ids). */
  acceptedCommits(room: string): number {
    return this.#accepted.get(room)?.size ?? 0;
  }

  /** The newest line of the client labelled `owner`. */
  lineOf(owner: string): Line | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i]?.owner === owner) return this.lines[i];
    return undefined;
  }

  /** `inner` (the real `ws` transport) with this wire between the client labelled `owner` and the relay. */
  transport(owner: string, inner: Transport): Transport {
    return {
      ...(inner.seesHttpStatus === true ? { seesHttpStatus: true } : {}),
      open: (url, handlers, options): TransportConnection => {
        let reported = false;
        const closed = (code: number, reason: string, info?: CloseInfo): void => {
          line.open = false;
          if (reported) return;
          reported = true;
          handlers.onClose(code, reason, info);
        };
        let conn: TransportConnection | undefined;
        const line: Line = new Line(owner, {
          toClient: (bytes) => handlers.onFrame(bytes),
          kill: () => {
            if (reported) return;
            // Reported now, so the close ws reports for the socket ended here is not passed on:
            // the client is told the connection was lost, as after a dead network.
            reported = true;
            line.open = false;
            conn?.close(1000, '');
            conn = undefined;
            setTimeout(() => handlers.onClose(1006, ''), 0);
          },
        });
        this.lines.push(line);
        if (this.down || this.cutOff.has(owner)) {
          setTimeout(() => closed(1006, ''), 0);
          return { send: () => undefined, close: () => closed(1000, '') };
        }
        const ws = inner.open(url, {
          onOpen: () => {
            if (line.open) handlers.onOpen();
          },
          onClose: (code, reason, info) => closed(code, reason, info),
          onFrame: (bytes) => {
            if (!line.open) return;
            const d = decodeRelayFrame(bytes);
            if (!d.ok) return line.deliver(bytes);
            this.trace?.(line, 'in', d.header);
            this.#heard(line, d.header);
            for (const b of apply(this.inbound(line, d.header, d.body), bytes)) {
              const r = decodeRelayFrame(b);
              if (r.ok && r.header.t === 'msg') line.delivered.push({ header: r.header, bytes: b });
              line.deliver(b);
            }
          },
        }, options);
        conn = ws;
        return {
          send: (bytes) => {
            if (!line.open) return;
            const d = decodeClientFrame(bytes);
            if (!d.ok) return ws.send(bytes);
            this.trace?.(line, 'out', d.header);
            for (const b of apply(this.outbound(line, d.header, d.body), bytes)) {
              const r = decodeClientFrame(b);
              if (r.ok) this.#said(r.header);
              ws.send(b);
            }
          },
          close: (code, reason) => {
            line.open = false;
            ws.close(code, reason);
            closed(code ?? 1000, reason ?? '');
          },
          bufferedAmount: () => ws.bufferedAmount?.() ?? 0,
        };
      },
    };
  }

  /** What a client sent on to the relay. */
  #said(h: ClientHeader): void {
    if (h.t === 'rt') this.rtAsked.push(h.server);
    if (h.t !== 'pub' || h.kind !== 'commit') return;
    this.commitPubs += 1;
    this.#commitRoom.set(h.id, h.room);
  }

  /** What the relay sent to a line, before any hook. */
  #heard(line: Line, h: RelayHeader): void {
    if (h.t === 'presence') line.presence.set(h.room, h.count);
    if (h.t !== 'ack') return;
    const room = this.#commitRoom.get(h.id);
    if (room === undefined) return;
    let ids = this.#accepted.get(room);
    if (!ids) this.#accepted.set(room, (ids = new Set()));
    ids.add(h.id);
  }
}
