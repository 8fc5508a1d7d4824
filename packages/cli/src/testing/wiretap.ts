/**
 * Test support (not built, not shipped): a recording TCP proxy between clients and a relay, for
 * "the relay sees nothing" tests (THREATS E.28, H.38). It keeps every byte of every connection in
 * both directions, as sent, and the WebSocket payloads decoded (RFC 6455 §5.2): frames from a
 * client are masked (§5.3), so a plain byte search on the raw stream would miss a plaintext
 * canary in them; decoded, it cannot. Permessage-deflate is off on our relay (THREATS A.10), so a
 * payload is the frame's bytes as the relay reads them. Plain `ws://` only.
 */
import { once } from 'node:events';
import net from 'node:net';

/** One direction of one connection: the raw bytes, and the WebSocket payloads in them. */
export interface TappedStream {
  readonly raw: Buffer;
  /** The payload of every complete frame after the HTTP upgrade, unmasked, in order. */
  readonly payloads: Buffer[];
}

export interface WireTap {
  readonly port: number;
  /** `url` (the relay's) with the tap's port in place of the relay's. */
  via(url: string): string;
  /** Every connection so far, both directions. */
  streams(): Array<{ toRelay: TappedStream; fromRelay: TappedStream }>;
  /** The needles found in any byte, raw or decoded, either direction (empty: none). */
  find(needles: ReadonlyArray<{ label: string; bytes: Buffer }>): string[];
  /** Bytes recorded so far, both directions. */
  total(): number;
  close(): void;
}

/** Decodes a stream of WebSocket frames after the HTTP head; stops at an incomplete frame. */
export function websocketPayloads(stream: Buffer): Buffer[] {
  const head = stream.indexOf('\r\n\r\n');
  if (head < 0) return [];
  const out: Buffer[] = [];
  let at = head + 4;
  for (;;) {
    if (at + 2 > stream.length) break;
    const b1 = stream[at + 1]!;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let p = at + 2;
    if (len === 126) {
      if (p + 2 > stream.length) break;
      len = stream.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (p + 8 > stream.length) break;
      len = Number(stream.readBigUInt64BE(p));
      p += 8;
    }
    const key = masked ? stream.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (p + len > stream.length) break;
    const payload = Buffer.from(stream.subarray(p, p + len));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i % 4]!;
    out.push(payload);
    at = p + len;
  }
  return out;
}

/**
 * The forms a string could take in bytes: UTF-8, UTF-16 (both byte orders), hex, and base64 and
 * base64url at each of the three alignments (the part of the encoding that does not depend on
 * the bytes around it).
 */
export function needlesFor(s: string): Array<{ label: string; bytes: Buffer }> {
  const utf8 = Buffer.from(s, 'utf8');
  const le = Buffer.from(s, 'utf16le');
  const be = Buffer.from(le).swap16();
  const out = [
    { label: 'utf-8', bytes: utf8 },
    { label: 'utf-16le', bytes: le },
    { label: 'utf-16be', bytes: be },
    { label: 'hex', bytes: Buffer.from(utf8.toString('hex')) },
  ];
  for (let skip = 0; skip < 3; skip++) {
    const whole = utf8.subarray(skip, skip + Math.floor((utf8.length - skip) / 3) * 3);
    out.push({ label: `base64+${skip}`, bytes: Buffer.from(whole.toString('base64')) });
    out.push({ label: `base64url+${skip}`, bytes: Buffer.from(whole.toString('base64url')) });
  }
  return out;
}

export async function startWireTap(relayPort: number): Promise<WireTap> {
  const conns: Array<{ toRelay: Buffer[]; fromRelay: Buffer[] }> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const rec = { toRelay: [] as Buffer[], fromRelay: [] as Buffer[] };
    conns.push(rec);
    const relay = net.connect(relayPort, '127.0.0.1');
    sockets.add(client).add(relay);
    client.on('data', (d: Buffer) => rec.toRelay.push(Buffer.from(d)));
    relay.on('data', (d: Buffer) => rec.fromRelay.push(Buffer.from(d)));
    client.pipe(relay);
    relay.pipe(client);
    const closeBoth = (): void => {
      client.destroy();
      relay.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    relay.on('error', closeBoth).on('close', closeBoth);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const streams = (): Array<{ toRelay: TappedStream; fromRelay: TappedStream }> =>
    conns.map((c) => {
      const to = Buffer.concat(c.toRelay);
      const from = Buffer.concat(c.fromRelay);
      return { toRelay: { raw: to, payloads: websocketPayloads(to) }, fromRelay: { raw: from, payloads: websocketPayloads(from) } };
    });
  return {
    port,
    via: (url) => {
      const u = new URL(url);
      u.port = String(port);
      return u.toString();
    },
    streams,
    find(needles) {
      const found = new Set<string>();
      for (const [i, c] of streams().entries())
        for (const [dir, s] of [['to the relay', c.toRelay], ['from the relay', c.fromRelay]] as const)
          for (const hay of [s.raw, Buffer.concat(s.payloads)])
            for (const n of needles) if (hay.includes(n.bytes)) found.add(`${n.label} ${dir} (connection ${i})`);
      return [...found];
    },
    total: () => conns.reduce((n, c) => n + c.toRelay.reduce((m, b) => m + b.length, 0) + c.fromRelay.reduce((m, b) => m + b.length, 0), 0),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
