/**
 * The transport under the client: something that carries binary frames to a relay (WebSocket
 * today, peer-to-peer links later). Adapters live with their runtime (the Node one over `ws` is
 * in packages/cli/src/transport/ws.ts); `core` only sees this interface.
 */

export interface TransportHandlers {
  /** The connection is open; frames may be sent. */
  onOpen(): void;
  /** One binary frame arrived (the adapter refuses text frames and oversized frames). */
  onFrame(bytes: Uint8Array): void;
  /** The connection closed or failed to open (code 1006 when no close frame came). Called once. */
  onClose(code: number, reason: string): void;
}

export interface TransportConnection {
  send(bytes: Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet written, when the transport can tell. */
  bufferedAmount?(): number;
}

export interface Transport {
  /** Starts connecting at once; reports through `handlers`. Never throws for network errors. */
  open(url: string, handlers: TransportHandlers): TransportConnection;
}
