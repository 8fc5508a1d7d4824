/**
 * A minimal WebSocket client on a raw TCP socket for the load generator: it writes the
 * handshake, checks for `101`, then feeds every byte to a FrameScanner. No per-frame objects,
 * no unmasking (servers do not mask), no UTF-8 checks: it only counts what the relay sent.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { clientFrame, FrameScanner, type FrameSink } from './wire.js';

export type Target = { port: number; path: string };

/** What the owner hears: `chunk` before each batch of bytes (to read the clock once per batch). */
export type ClientSink = Omit<FrameSink, 'ping' | 'close'> & { chunk(): void };

const HEAD_END = Buffer.from('\r\n\r\n');

export class RawClient {
  private readonly scanner: FrameScanner;
  closed = false;

  private constructor(
    readonly socket: Socket,
    sink: ClientSink,
  ) {
    this.scanner = new FrameScanner({
      delivery: (room, sentMs) => sink.delivery(room, sentMs),
      other: (payload) => sink.other(payload),
      ping: (payload) => {
        if (!this.closed) socket.write(clientFrame(0xa, payload));
      },
      close: () => this.close(),
    });
  }

  /** Opens a WebSocket to `target` (from `localAddress` if given) within `ms`. */
  static open(target: Target, sink: ClientSink, localAddress?: string, ms = 10_000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: target.port, ...(localAddress ? { localAddress } : {}) });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`handshake timed out after ${ms} ms`));
      }, ms);
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(HEAD_END);
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        if (!head.subarray(0, 13).toString('latin1').startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`handshake refused: ${head.subarray(0, 12).toString('latin1')}`));
          return;
        }
        const client = new RawClient(socket, sink);
        socket.on('data', (c: Buffer) => {
          sink.chunk();
          client.scanner.push(c);
        });
        socket.on('close', () => (client.closed = true));
        const rest = head.subarray(end + 4);
        resolve(client);
        if (rest.length > 0) client.scanner.push(rest);
      };
      socket.on('data', onData);
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('connect', () =>
        socket.write(
          `GET ${target.path} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
    });
  }

  write(frame: Buffer): void {
    if (!this.closed) this.socket.write(frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }
}
