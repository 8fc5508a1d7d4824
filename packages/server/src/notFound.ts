/**
 * The one answer to everything a stranger may ask (THREATS B.12): a plain 404 that looks like
 * any web server's and never names Safehouse. Whether the request was a GET for a random path,
 * a POST for the base path, a WebSocket upgrade with a foreign Origin or garbage that did not
 * parse, the bytes on the wire are the same, except the `Date` header. A HEAD request gets the
 * same head without the body, as HTTP requires (and as a HEAD for a random path would).
 *
 * The bytes are written in two ways that a test holds identical: through `ServerResponse` for
 * ordinary requests, and raw on the socket for upgrades, CONNECT and unparseable requests,
 * where no `ServerResponse` exists (the `ws` library's own 400/401 answers would give us away).
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const BODY = Buffer.from(
  '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n',
  'latin1',
);

/** Headers in wire order. `Connection: close`: an upgrade socket cannot be kept alive, so no 404 is. */
function headers(): [string, string][] {
  return [
    ['Date', new Date().toUTCString()],
    ['Content-Type', 'text/html'],
    ['Content-Length', String(BODY.length)],
    ['Connection', 'close'],
  ];
}

/** The full response as bytes, for a raw socket. */
export function notFoundBytes(method: string | undefined): Buffer {
  const head = `HTTP/1.1 404 Not Found\r\n${headers()
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return method === 'HEAD' ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), BODY]);
}

/** Answers an ordinary request. Node writes no headers of its own: `Date` and `Connection` are set. */
export function sendNotFound(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.sendDate = false;
  res.writeHead(404, 'Not Found', headers().flat());
  res.end(BODY); // node:http drops the body of an answer to HEAD and keeps Content-Length
}

/** Answers on a socket that node:http has handed over (upgrade, CONNECT, parse error), then closes it. */
export function writeNotFound(socket: Duplex, method: string | undefined): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Whatever else the peer sends is not read; the socket is destroyed once our bytes are out,
  // or after a short grace if the peer does not read them.
  socket.removeAllListeners('data');
  const timer = setTimeout(() => socket.destroy(), 2_000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(notFoundBytes(method), () => socket.destroy());
}
