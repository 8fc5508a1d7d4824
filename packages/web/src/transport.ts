/**
 * The browser transport under the client: the page's own WebSocket (packages/core/src/client/
 * transport.ts), the twin of the CLI's adapter over `ws` (packages/cli/src/transport/ws.ts).
 *
 * - Binary frames only (`binaryType = 'arraybuffer'`): a text frame closes the connection with
 *   1003; a frame over `maxPayload` with 1009 (the browser cannot refuse it before buffering,
 *   but the client never sees it).
 * - The URL it is given is the relay URL the client derived from the link's base: it never
 *   carries the fragment. `open` refuses one that does, as a last guard (THREATS: the fragment
 *   holds the invite secret and must never reach a server).
 * - `onClose` is called exactly once, also when the connection never opened (1006).
 * - A page cannot see the HTTP status of a refused upgrade (the relay's 404 for a missing or
 *   wrong password): it is a failed connection like any other, so `seesHttpStatus` is not set,
 *   and the client names the likely causes after 3 such tries and keeps trying (connection.ts).
 * - The client opens one URL per try: with several relays in the link, each in turn. A relay's
 *   certificate pin (`OpenOptions`) is ignored: a page cannot see the certificate, the browser
 *   checks it its own way (docs/web.md).
 */
import type { Transport, TransportConnection, TransportHandlers } from '@safehouse/core/client';
import { LIMITS } from '@safehouse/core/protocol';

export type BrowserTransportOptions = {
  /** Largest frame accepted from the relay. Default LIMITS.maxFrameBytes (64 KiB). */
  maxPayload?: number;
  /** The WebSocket constructor (tests pass a fake). Default: the page's. */
  WebSocketImpl?: typeof WebSocket;
  /** `Sec-WebSocket-Protocol` to ask for: the server password's token (core/protocol/password.ts),
   *  the one header a page can set on a WebSocket handshake. */
  subprotocol?: string;
};

/** The one check every URL passes before a socket opens: ws(s), and no fragment. */
export function checkRelayUrl(url: string): string | undefined {
  if (url.includes('#')) return 'a relay URL never carries a fragment';
  if (!/^wss?:\/\//.test(url)) return 'a relay URL starts with ws:// or wss://';
  return undefined;
}

/** WebSocket ready states (numbers, so that a fake WebSocket needs no statics). */
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

export function createBrowserTransport(options: BrowserTransportOptions = {}): Transport {
  const maxPayload = options.maxPayload ?? LIMITS.maxFrameBytes;
  return {
    open(url: string, handlers: TransportHandlers): TransportConnection {
      let closed = false;
      const finish = (code: number, reason: string): void => {
        if (closed) return;
        closed = true;
        handlers.onClose(code, reason);
      };
      const refused = checkRelayUrl(url);
      const Impl = options.WebSocketImpl ?? globalThis.WebSocket;
      let ws: WebSocket | undefined;
      if (refused === undefined) {
        try {
          ws = new Impl(url, options.subprotocol === undefined ? [] : [options.subprotocol]);
        } catch {
          // A malformed URL or a blocked port: reported like a refused connection.
          ws = undefined;
        }
      }
      if (!ws) {
        queueMicrotask(() => finish(1006, refused ?? 'the connection could not be opened'));
      } else {
        const socket = ws;
        socket.binaryType = 'arraybuffer';
        socket.onopen = () => {
          if (!closed) handlers.onOpen();
        };
        socket.onmessage = (e: MessageEvent<unknown>) => {
          if (closed) return;
          if (!(e.data instanceof ArrayBuffer)) return socket.close(1003, 'binary frames only');
          if (e.data.byteLength > maxPayload) return socket.close(1009, 'frame too large');
          handlers.onFrame(new Uint8Array(e.data));
        };
        // 'close' follows every 'error'; the error itself says nothing useful and is not passed on.
        socket.onerror = () => undefined;
        socket.onclose = (e: CloseEvent) => finish(e.code, e.reason);
      }
      return {
        send(bytes: Uint8Array): void {
          if (ws?.readyState === OPEN) ws.send(bytes as Uint8Array<ArrayBuffer>);
        },
        close(code?: number, reason?: string): void {
          if (ws && ws.readyState !== CLOSED && ws.readyState !== CLOSING) {
            try {
              // Browsers accept only 1000 and 3000-4999 from a page.
              const c = code === 1000 || (code !== undefined && code >= 3000 && code <= 4999) ? code : 1000;
              ws.close(c, reason?.slice(0, 100));
            } catch {
              /* already closing */
            }
          }
          finish(code ?? 1000, reason ?? '');
        },
        bufferedAmount: () => ws?.bufferedAmount ?? 0,
      };
    },
  };
}
