/**
 * The Node transport under the client: a WebSocket over `ws` 8 (docs/protocol.md "Framing").
 *
 * - Binary frames only: a text frame from the relay closes the connection with 1003.
 * - `maxPayload` 64 KiB (LIMITS.maxFrameBytes): a larger frame closes the connection with 1009
 *   before it is buffered (THREATS A.1). No compression (A.10), no redirects.
 * - No `Origin` header: the CLI is not a browser (the relay checks Origin only when one is sent).
 * - `onClose` is called exactly once, also when the connection never opened (code 1006). An
 *   upgrade answered with another HTTP status than 101 (the relay's 404 for a wrong path or
 *   password) is reported as 1006 with `{ httpStatus }`; the response body is not read.
 * - With `certFingerprint` at `open` (the link's `c`, or an `a` entry's own pin: SHA-256 of that
 *   relay's certificate), a `wss://` server must present exactly that certificate (THREATS E.26). It is checked on a first TLS
 *   connection that sends nothing, then the WebSocket connects trusting only that certificate
 *   and checks its fingerprint again, so no byte of the request (which carries the secret base
 *   path) reaches a server with another certificate. No fall-back to `ws://`.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import type { CloseInfo, OpenOptions, Transport, TransportConnection, TransportHandlers } from '@safehouse/core/client';
import { bytesEqual, LIMITS } from '@safehouse/core/protocol';

export type WsTransportOptions = {
  /** Largest frame accepted from the relay. Default LIMITS.maxFrameBytes (64 KiB). */
  maxPayload?: number;
  /** Time allowed for the TCP, TLS and HTTP upgrade handshakes. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** `Sec-WebSocket-Protocol` to ask for: the server password's token (core/protocol/password.ts). */
  subprotocol?: string;
};

/** Close code we report when the pinned certificate does not match (1015: TLS handshake failure). */
export const CLOSE_CERT_MISMATCH = 1015;

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function sha256(der: Buffer): Buffer {
  return createHash('sha256').update(der).digest();
}

function matches(cert: PeerCertificate | undefined, pin: Uint8Array): boolean {
  return cert?.raw !== undefined && bytesEqual(sha256(cert.raw), pin);
}

/** Fetches the server's certificate over TLS without sending any application data. */
function probeCertificate(url: URL, timeoutMs: number): Promise<PeerCertificate | undefined> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = tlsConnect({ host, port: Number(url.port || 443), servername: /^[\d.:]+$/.test(host) ? '' : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const done = (cert: PeerCertificate | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(cert);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('secureConnect', () => done(socket.getPeerCertificate()));
    socket.once('error', () => done(undefined));
  });
}

export function createWsTransport(options: WsTransportOptions = {}): Transport {
  const maxPayload = options.maxPayload ?? LIMITS.maxFrameBytes;
  const handshakeTimeout = options.handshakeTimeoutMs ?? 10_000;
  return {
    seesHttpStatus: true,
    open(url: string, handlers: TransportHandlers, openOptions: OpenOptions = {}): TransportConnection {
      // Per connection: each relay of a link has its own pin, or none.
      const pin = openOptions.certFingerprint;
      let closed = false;
      let ws: WebSocket | undefined;
      /** The status that answered the upgrade instead of 101, if one did. */
      let httpStatus: number | undefined;
      const finish = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        const info: CloseInfo | undefined = httpStatus === undefined ? undefined : { httpStatus };
        handlers.onClose(code, reason, info);
      };
      const start = (tls: { ca?: string; pinned?: Uint8Array }) => {
        if (closed) return;
        // ws passes TLS options on to https.request; its types only know some of them.
        const pinned: ConnectionOptions =
          tls.ca !== undefined && tls.pinned !== undefined
            ? {
                ca: tls.ca,
                // The chain is the pinned certificate itself; the name in it does not matter.
                checkServerIdentity: (_host, cert) => (matches(cert, tls.pinned!) ? undefined : new Error('certificate mismatch')),
              }
            : {};
        const wsOptions: ClientOptions = { maxPayload, perMessageDeflate: false, handshakeTimeout, followRedirects: false };
        const socket = new WebSocket(url, options.subprotocol === undefined ? [] : [options.subprotocol], Object.assign(wsOptions, pinned));
        ws = socket;
        socket.on('open', () => !closed && handlers.onOpen());
        socket.on('message', (data: RawData, isBinary: boolean) => {
          if (closed) return;
          if (!isBinary) {
            socket.close(1003, 'binary frames only');
            return;
          }
          handlers.onFrame(toBytes(data));
        });
        // With a listener here, ws leaves a non-101 answer to us: note its status, drop the
        // socket (an 'error', then 'close' 1006, follow). Without one it would say the status only
        // inside an error message.
        socket.on('unexpected-response', (_req, res) => {
          httpStatus = res.statusCode;
          socket.terminate();
        });
        socket.on('close', (code: number, reason: Buffer) => finish(code, reason.toString('utf8')));
        // 'close' follows every 'error' (refused, 404 at the upgrade, oversized frame); the error
        // itself may name the URL, which holds the secret base path: it is not passed on.
        socket.on('error', () => undefined);
      };

      const target = new URL(url);
      if (pin !== undefined && target.protocol === 'wss:') {
        void probeCertificate(target, handshakeTimeout).then((cert) => {
          if (closed) return;
          if (!cert || !matches(cert, pin)) return finish(CLOSE_CERT_MISMATCH, "the server's certificate does not match the link");
          start({ ca: new X509Certificate(cert.raw).toString(), pinned: pin });
        });
      } else if (pin !== undefined && target.protocol !== 'wss:') {
        // A link that pins a certificate is never used without TLS.
        setImmediate(() => finish(CLOSE_CERT_MISMATCH, 'the link pins a certificate but the address is not wss://'));
      } else start({});

      return {
        send(bytes: Uint8Array): void {
          if (ws?.readyState === WebSocket.OPEN) ws.send(bytes, { binary: true });
        },
        close(code?: number, reason?: string): void {
          if (ws && ws.readyState !== WebSocket.CLOSED) {
            if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
            else ws.close(code ?? 1000, reason);
          }
          finish(code ?? 1000, reason ?? '');
        },
        bufferedAmount: () => ws?.bufferedAmount ?? 0,
      };
    },
  };
}

/** The name the CLI uses. */
export const wsTransport = createWsTransport;
