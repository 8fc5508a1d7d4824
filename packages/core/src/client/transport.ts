/**
 * The transport under the client: something that carries binary frames to a relay (WebSocket
 * today, peer-to-peer links later). Adapters live with their runtime (the Node one over `ws` is
 * in packages/cli/src/transport/ws.ts); `core` only sees this interface.
 */

/** What an adapter knows of why a connection failed to open, beyond the close code. */
export type CloseInfo = {
  /**
   * The HTTP status that answered the WebSocket upgrade instead of `101` (the relay answers
   * every unauthorised upgrade, a wrong path or password, with `404`). Only an adapter that can
   * see it sets it (Node's `ws`); a browser's WebSocket cannot (`Transport.seesHttpStatus`).
   */
  httpStatus?: number;
};

/** What the client asks of one connection besides its URL (each relay of a link has its own). */
export type OpenOptions = {
  /**
   * SHA-256 of the relay's DER certificate: the link's `c` for its own host, an `a` entry's pin
   * for another relay. An adapter that can check it (Node's) connects only to a `wss://` server
   * that presents exactly that certificate, and sends it nothing otherwise. A page cannot: the
   * browser checks certificates its own way, and its adapter ignores this.
   */
  certFingerprint?: Uint8Array;
};

export interface TransportHandlers {
  /** The connection is open; frames may be sent. */
  onOpen(): void;
  /** One binary frame arrived (the adapter refuses text frames and oversized frames). */
  onFrame(bytes: Uint8Array): void;
  /** The connection closed or failed to open (code 1006 when no close frame came). Called once. */
  onClose(code: number, reason: string, info?: CloseInfo): void;
}

export interface TransportConnection {
  send(bytes: Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet written, when the transport can tell. */
  bufferedAmount?(): number;
}

export interface Transport {
  /**
   * True when `onClose` reports the HTTP status of a refused upgrade (`CloseInfo.httpStatus`).
   * Without it, a refused upgrade looks like any connection that failed to open, and the client
   * can only name the likely causes (connection.ts).
   */
  readonly seesHttpStatus?: boolean;
  /**
   * Starts connecting at once; reports through `handlers`. Never throws for network errors. An
   * adapter that wraps another passes `options` on: a pin it dropped would go unchecked.
   */
  open(url: string, handlers: TransportHandlers, options?: OpenOptions): TransportConnection;
}
