/**
 * The baseline: the smallest useful relay on plain `ws`, as most chat servers are written. A
 * client joins the room named by its URL path (`/room/<n>`); every binary message it sends is
 * forwarded as it is, with one `send` per other member of the room. No protocol, no limits
 * beyond ws's own `maxPayload`, no batching: what the relay is measured against.
 */
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

export type Baseline = { server: Server; port: number; close(): Promise<void> };

export async function startBaseline(maxPayload = 64 * 1024): Promise<Baseline> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload, clientTracking: false });
  const rooms = new Map<string, Set<WebSocket>>();
  wss.on('connection', (ws, req) => {
    const name = req.url ?? '/';
    let room = rooms.get(name);
    if (!room) rooms.set(name, (room = new Set()));
    const members = room;
    members.add(ws);
    ws.on('message', (data, isBinary) => {
      for (const peer of members) if (peer !== ws && peer.readyState === 1) peer.send(data, { binary: isBinary });
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      members.delete(ws);
      if (members.size === 0) rooms.delete(name);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
