/**
 * The second baseline: the same relay as baseline.ts (a client joins the room named by its URL
 * path, `/room/<n>`; every message it sends goes as it is to every *other* member of the room;
 * no protocol, no limits beyond the payload cap), on uWebSockets.js, the fastest WebSocket server
 * Node can load. What "as fast as Node can go" means, beside what "as most servers are written"
 * (plain `ws`) means.
 *
 * Fan-out is uWS's own pub/sub, a topic per room: `ws.publish` reaches every subscriber but the
 * sender (uWS ≥ 20; rivals.test.ts checks it), and uWS queues what a turn publishes to each
 * subscriber and writes it at the end of the turn, as our relay's writer does. That is how uWS is
 * meant to carry rooms, and by far the stronger baseline: a loop of `ws.send` per member (as
 * baseline.ts does with ws) cost 2.6–7.0 µs of CPU per delivery in this bench, against
 * 0.5–1.0 µs with `publish` (2026-12-05, bench/results/relay-uws-2026-12-05.md).
 *
 * The native addon is loaded from its own file, never through the package's entry point, which
 * falls back to a slow pure-JS implementation (on `ws`) with only a warning when the binary does
 * not load: the bench must fail instead of measuring the fall-back under uWS's name.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Uws from '@trufflesuite/uws-js-unofficial';

const PACKAGE = '@trufflesuite/uws-js-unofficial';

/** Payload cap, as the ws baseline's `maxPayload` (uWS's default is 16 KiB). */
const MAX_PAYLOAD = 64 * 1024;
/**
 * Bytes a subscriber may have queued before uWS *skips* it: the default (64 KiB) silently drops
 * frames to a member that is a little behind (not closes it), which would flatter uWS's rate
 * and show as loss. 64 MiB never binds under the bench's window.
 */
const MAX_BACKPRESSURE = 64 * 1024 * 1024;

type UwsModule = typeof Uws;
type RoomData = { room: string };

/** The uWS addon built for this platform and Node ABI, loaded directly; throws if there is none. */
export function loadUws(): UwsModule {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve(`${PACKAGE}/package.json`));
  const file = join(dir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  if (!existsSync(file))
    throw new Error(
      `${PACKAGE}: no native build for ${process.platform}-${process.arch}, Node ABI ${process.versions.modules} (expected ${file}); refusing the JS fall-back`,
    );
  const uws = require(file) as UwsModule;
  if (typeof uws.App !== 'function' || typeof uws.us_socket_local_port !== 'function')
    throw new Error(`${PACKAGE}: ${file} loaded but does not export App/us_socket_local_port`);
  return uws;
}

export type UwsRelay = { port: number; connections(): number; close(): void };

export function startUws(): Promise<UwsRelay> {
  const uws = loadUws();
  let connections = 0;
  const app = uws.App().ws<RoomData>('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: MAX_PAYLOAD,
    maxBackpressure: MAX_BACKPRESSURE,
    closeOnBackpressureLimit: 0,
    // No heartbeat, as the ws baseline has none (uWS would otherwise close a socket idle 120 s).
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      res.upgrade<RoomData>(
        { room: req.getUrl() },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      connections += 1;
      ws.subscribe(ws.getUserData().room);
    },
    message: (ws, message, isBinary) => {
      ws.publish(ws.getUserData().room, message, isBinary);
    },
    close: () => {
      connections -= 1;
    },
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (listenSocket) => {
      if (listenSocket === false) return reject(new Error('uWS could not listen on 127.0.0.1'));
      resolve({
        port: uws.us_socket_local_port(listenSocket),
        connections: () => connections,
        close: () => uws.us_listen_socket_close(listenSocket),
      });
    });
  });
}
