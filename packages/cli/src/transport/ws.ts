/**
 * The Node transport under the client: a WebSocket over `ws` 8 (docs/protocol.md "Framing").
 *
 * - Binary frames only: a text frame from the relay closes the connection with 1003.
 * - `maxPayload` 64 KiB (LIMITS.maxFrameBytes): a larger frame closes the connection with 1009
 *   before it is buffered (THREATS A.1). No compression (A.10), no redirects.
 * - No `Origin` header: the CLI is not a browser (the relay checks Origin only when one is sent).
 * - `onClose` is called exactly once, also when the connection never opened (code 1006).
 */
import { WebSocket, type RawData } from 'ws';
import type { Transport, TransportConnection, TransportHandlers } from '@safehouse/core/client';
import { LIMITS } from '@safehouse/core/protocol';

export type WsTransportOptions = {
  /** Largest frame accepted from the relay. Default LIMITS.maxFrameBytes (64 KiB). */
  maxPayload?: number;
  /** Time allowed for the TCP, TLS and HTTP upgrade handshakes. Default 10 s. */
  handshakeTimeoutMs?: number;
};

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function createWsTransport(options: WsTransportOptions = {}): Transport {
  const maxPayload = options.maxPayload ?? LIMITS.maxFrameBytes;
  const handshakeTimeout = options.handshakeTimeoutMs ?? 10_000;
  return {
    open(url: string, handlers: TransportHandlers): TransportConnection {
      let closed = false;
      const finish = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        handlers.onClose(code, reason);
      };
      const ws = new WebSocket(url, { maxPayload, perMessageDeflate: false, handshakeTimeout, followRedirects: false });
      ws.on('open', () => handlers.onOpen());
      ws.on('message', (data: RawData, isBinary: boolean) => {
        if (closed) return;
        if (!isBinary) {
          ws.close(1003, 'binary frames only');
          return;
        }
        handlers.onFrame(toBytes(data));
      });
      ws.on('close', (code: number, reason: Buffer) => finish(code, reason.toString('utf8')));
      // 'close' follows every 'error' (refused, 404 at the upgrade, oversized frame); the error
      // itself may name the URL, which holds the secret base path: it is not passed on.
      ws.on('error', () => undefined);
      return {
        send(bytes: Uint8Array): void {
          if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: true });
        },
        close(code?: number, reason?: string): void {
          if (ws.readyState === WebSocket.CLOSED) return;
          if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
          else ws.close(code ?? 1000, reason);
          finish(code ?? 1000, reason ?? '');
        },
        bufferedAmount: () => ws.bufferedAmount,
      };
    },
  };
}

/** The name the CLI uses. */
export const wsTransport = createWsTransport;
