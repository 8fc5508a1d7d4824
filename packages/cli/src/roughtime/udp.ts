/**
 * The Node UDP transport for core/roughtime (`RoughtimeQuery`): one request datagram to
 * `server.address` (`host:port`), resent on silence with the RFC 10049 §5 back-off
 * (waits of 1 s, then 1.5 s: min(1.5^(n-1), 86400) s), the first reply from that address
 * returned. Names are resolved first and the socket is connected, so an unknown host, no
 * network or a closed port (ICMP unreachable) fails at once with a sentence, never a hang. The bytes are opaque here: core makes the nonce and checks the reply.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { parseAddress, queryRetryDelayMs, type RoughtimeQuery, type RoughtimeServer } from '@safehouse/core/roughtime';

export type UdpQueryOptions = {
  /** Sends per query (first + resends). Default 2. */
  attempts?: number;
  /** Replies larger than this are ignored (a request is 1,024 bytes; §9.7). Default 65,507. */
  maxReplyBytes?: number;
};

export function udpQuery(options: UdpQueryOptions = {}): RoughtimeQuery {
  const attempts = options.attempts ?? 2;
  const maxReplyBytes = options.maxReplyBytes ?? 65_507;
  return async (server: RoughtimeServer, request: Uint8Array): Promise<Uint8Array> => {
    const where = parseAddress(server.address ?? '');
    if (!where) throw new Error(`no host:port address`);
    let address: string;
    let family: number;
    try {
      ({ address, family } = await lookup(where.host));
    } catch (e) {
      throw new Error(`cannot resolve ${where.host} (${(e as { code?: string }).code ?? 'lookup failed'})`, { cause: e });
    }
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        let sent = 0;
        let timer: NodeJS.Timeout | undefined;
        const fail = (why: string): void => {
          clearTimeout(timer);
          reject(new Error(why));
        };
        const send = (): void => {
          sent++;
          socket.send(request, (err) => err && fail(`cannot send (${(err as { code?: string }).code ?? err.message})`));
          timer = setTimeout(() => (sent < attempts ? send() : fail(`no answer after ${attempts} tries`)), queryRetryDelayMs(sent));
        };
        socket.on('message', (msg) => {
          if (msg.length > maxReplyBytes) return;
          clearTimeout(timer);
          resolve(new Uint8Array(msg));
        });
        socket.on('error', (err: Error & { code?: string }) => fail(err.code === 'ECONNREFUSED' ? 'port closed (connection refused)' : `socket error (${err.code ?? err.message})`));
        // Connected: only that address's datagrams arrive, and ICMP errors are reported.
        socket.connect(where.port, address, send);
      });
    } finally {
      socket.close();
    }
  };
}
