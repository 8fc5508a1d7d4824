/**
 * The relay's WebSocket: `ws`'s own class (handshake, frame parsing, masking, close handshake,
 * limits all untouched), with its events handed straight to the connection that owns it instead
 * of through EventEmitter listeners. ws documents the `WebSocket` server option for exactly this
 * (a class that extends its own). An idle connection then carries no listener table and no
 * closures of its own; with ten thousand idle peers that is most of the relay's memory.
 *
 * Pings are answered by the connection, not by ws's auto-pong (which keeps a closure per socket):
 * each ping is charged to the peer's flood guard like a frame, so a ping flood is refused and then
 * closed like any other flood (connection.ts).
 */
import { WebSocket } from 'ws';

/** Where a socket finds its connection: set once, by the connection's constructor. */
export const OWNER = Symbol('connection');

/** What a socket tells its connection; `Connection` implements it. */
export interface SocketEvents {
  /** A whole message arrived. */
  received(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void;
  /** The peer sent a ping; the connection decides whether to answer. */
  pinged(data: Buffer): void;
  /** The peer sent a pong (the answer to our ping, or unsolicited). */
  ponged(data: Buffer): void;
  /** A protocol error: the socket has already chosen a close code and is closing. */
  errored(err: Error & { code?: string }): void;
  /** The socket is gone. */
  gone(): void;
}

/** The part of `ws.WebSocket` a connection uses (control.ts carries the same shape in memory). */
export interface PeerSocket {
  [OWNER]: SocketEvents | undefined;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly extensions: string;
  send(data: Uint8Array, options: { binary: boolean; compress: boolean; fin: boolean }): void;
  ping(): void;
  pong(data: Buffer): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** No extension is ever negotiated (the gate turns compression off): one empty table for all. */
const NO_EXTENSIONS = Object.freeze({});

export class RelaySocket extends WebSocket implements PeerSocket {
  [OWNER]: SocketEvents | undefined = undefined;
  /**
   * ws makes an empty extension table per socket and hands it to the socket's frame reader and
   * writer; set here, before ws hands it on, they share one (ws replaces it, never fills it, if an
   * extension is negotiated).
   */
  protected _extensions: object = NO_EXTENSIONS;

  /**
   * ws emits these five on a server socket (and 'open' before any owner is set). Listeners added
   * with `on` never fire: nothing may rely on them (the gate keeps ws's `clientTracking` off).
   */
  override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
    const owner = this[OWNER];
    if (owner === undefined) return false;
    switch (event) {
      case 'message':
        owner.received(a as Buffer | ArrayBuffer | Buffer[], b as boolean);
        return true;
      case 'ping':
        owner.pinged(a as Buffer);
        return true;
      case 'pong':
        owner.ponged(a as Buffer);
        return true;
      case 'error':
        owner.errored(a as Error & { code?: string });
        return true;
      case 'close':
        owner.gone();
        return true;
      default:
        return false;
    }
  }
}
