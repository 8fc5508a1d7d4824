/**
 * RFC 10049 / drafts 12-19 (VER 0x8000000c and 1) against the shared vectors: the int08h
 * request/reply pair, the 24 live captures from an independent draft-19 server (RADI
 * 0xFFFFFFFF: valid but unusable), the SRV request, roughenough's 8-deep PATH reply and the
 * reference "golden" reply (parse-only: fake signatures), with failing cases derived from each.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, readU32, readU64, u32, u64 } from './bytes.js';
import { verifyEd25519 } from './ed25519.js';
import { framePacket, parsePacket } from './packet.js';
import { buildRequest, srvValue, type RoughtimeRequest } from './request.js';
import { parseRequest } from './server.js';
import { encodeMessage, parseMessage, Tag, type RtMessage } from './tags.js';
import { verifyReply } from './verify.js';
import { RoughtimeVersion, versionProfile } from './versions.js';

const VECTORS = new URL('../../../../../shared/vectors/roughtime/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, VECTORS)));
const INT08H = fromBase64('AW5uAoTSTDfG5NfY1bTh08GUnOqlRb+HVhbJ3ODJvsE=')!;
const MODERN = versionProfile(RoughtimeVersion.DRAFT_12)!;

function top(packet: Uint8Array): RtMessage {
  const p = parsePacket(packet, true);
  if (!p.ok) throw new Error(p.detail);
  return p.message;
}
function sub(msg: RtMessage, ...path: number[]): RtMessage {
  let cur = msg;
  for (const t of path) {
    const p = parseMessage(cur.get(t)!);
    if (!p.ok) throw new Error(p.detail);
    cur = p.message;
  }
  return cur;
}
/** Replaces a tag's value at a nested path and re-frames. */
function replaceIn(message: Uint8Array, path: readonly number[], value: Uint8Array): Uint8Array {
  const parsed = parseMessage(message);
  if (!parsed.ok) throw new Error(parsed.detail);
  const [head, ...rest] = path as [number, ...number[]];
  const entries = parsed.message.tags.map((t, i) => [t, parsed.message.values[i]!] as [number, Uint8Array]);
  const at = entries.findIndex(([t]) => t === head);
  entries[at] = [head, rest.length === 0 ? value : replaceIn(entries[at]![1], rest, value)];
  return encodeMessage(entries);
}
const replacePacket = (packet: Uint8Array, path: readonly number[], value: Uint8Array): Uint8Array =>
  framePacket(replaceIn(packet.subarray(12), path, value));

/** The failing cases every valid modern reply yields without its server's keys. */
async function expectDerivedRejections(
  request: RoughtimeRequest,
  reply: Uint8Array,
  publicKey: Uint8Array,
): Promise<number> {
  let n = 0;
  const check = async (r: Uint8Array, code: string, req = request, key = publicKey): Promise<void> => {
    const res = await verifyReply({ request: req, reply: r, publicKey: key });
    expect(res.ok ? `ok:${res.kind}` : res.code).toBe(code);
    n++;
  };
  const msg = top(reply);
  const sig = msg.get(Tag.SIG)!.slice();
  sig[63]! ^= 0x20;
  await check(replacePacket(reply, [Tag.SIG], sig), 'E_ROUGHTIME_RESPONSE_SIGNATURE');
  const midp = readU64(sub(msg, Tag.SREP).get(Tag.MIDP)!, 0);
  await check(replacePacket(reply, [Tag.SREP, Tag.MIDP], u64(midp - 3600n)), 'E_ROUGHTIME_RESPONSE_SIGNATURE');
  await check(replacePacket(reply, [Tag.SREP, Tag.RADI], u32(1)), 'E_ROUGHTIME_RESPONSE_SIGNATURE');
  await check(replacePacket(reply, [Tag.SREP, Tag.VER], u32(RoughtimeVersion.RFC)), 'E_ROUGHTIME_RESPONSE_SIGNATURE');
  await check(replacePacket(reply, [Tag.CERT, Tag.DELE, Tag.MAXT], u64(midp - 1n)), 'E_ROUGHTIME_DELEGATION_SIGNATURE');
  const nonce = request.nonce.slice();
  nonce[31]! ^= 1;
  await check(reply, 'E_ROUGHTIME_NONCE_MISMATCH', await buildRequest({ versions: request.versions, nonce }));
  await check(
    reply,
    'E_ROUGHTIME_DELEGATION_SIGNATURE',
    request,
    fromBase64('Kb3/qMe4VIuxJV32X/HPGu1LnRyAWi531RguQvR7q5s=')!.map((x) => x ^ 1),
  );
  await check(reply.subarray(0, reply.length - 4), 'E_ROUGHTIME_FRAMING');
  await check(reply.subarray(0, 11), 'E_ROUGHTIME_FRAMING');
  const indx = readU32(msg.get(Tag.INDX)!, 0);
  await check(replacePacket(reply, [Tag.INDX], u32(indx ^ 1)), 'E_ROUGHTIME_MERKLE');
  await check(replacePacket(reply, [Tag.INDX], u32(indx | 0x8000_0000)), 'E_ROUGHTIME_MERKLE');
  const path = msg.get(Tag.PATH)!;
  const badPath = path.length === 0 ? new Uint8Array(32) : path.slice();
  if (path.length > 0) badPath[path.length - 1]! ^= 1;
  await check(replacePacket(reply, [Tag.PATH], badPath), 'E_ROUGHTIME_MERKLE');
  await check(replacePacket(reply, [Tag.PATH], new Uint8Array(33 * 32)), 'E_ROUGHTIME_BAD_VALUE');
  await check(replacePacket(reply, [Tag.TYPE], u32(0)), 'E_ROUGHTIME_BAD_VALUE');
  // The same bytes, but the request offered only version 1: the signed VER was not offered.
  const rfcOnly = await buildRequest({ versions: [RoughtimeVersion.RFC], nonce: request.nonce });
  await check(reply, 'E_ROUGHTIME_VERSION', rfcOnly);
  // Another request with the same nonce (the leaf hashes the whole request packet, §5.3).
  const padded = await buildRequest({ versions: request.versions, nonce: request.nonce, size: 1028 });
  await check(reply, 'E_ROUGHTIME_MERKLE', padded);
  return n;
}

describe('int08h request and reply (0x8000000c)', () => {
  it('rebuilds the request byte for byte and verifies the reply', async () => {
    const sent = read('rfc-request.071039e5');
    const nonce = top(sent).get(Tag.NONC)!;
    const request = await buildRequest({ versions: [RoughtimeVersion.DRAFT_12], nonce });
    expect(request.packet).toEqual(sent);
    const res = await verifyReply({ request, reply: read('rfc-response.071039e5'), publicKey: INT08H });
    expect(res.ok && res.kind).toBe('time');
    if (!res.ok || res.kind !== 'time') return;
    expect(res.reply.version).toBe(RoughtimeVersion.DRAFT_12);
    expect(res.reply.midpoint).toBe(1747944450n);
    expect(res.reply.radius).toBe(5);
    expect(res.reply.serverVersions).toEqual([0, RoughtimeVersion.DRAFT_12]);
    expect(res.interval).toEqual({ earliestMs: 1747944445_000, latestMs: 1747944455_000 });
  });

  it('rejects failing cases derived from the reply with their code', async () => {
    const sent = read('rfc-request.071039e5');
    const request = await buildRequest({ versions: [RoughtimeVersion.DRAFT_12], nonce: top(sent).get(Tag.NONC)! });
    expect(await expectDerivedRejections(request, read('rfc-response.071039e5'), INT08H)).toBe(16);
  });

  it('refuses a radius above a smaller cap, as a distinct unusable result', async () => {
    const sent = read('rfc-request.071039e5');
    const request = await buildRequest({ versions: [RoughtimeVersion.DRAFT_12], nonce: top(sent).get(Tag.NONC)! });
    const res = await verifyReply({
      request,
      reply: read('rfc-response.071039e5'),
      publicKey: INT08H,
      maxRadiusSeconds: 4,
    });
    expect(res.ok && res.kind === 'unusable' && res.code).toBe('E_ROUGHTIME_RADIUS_TOO_LARGE');
  });
});

interface LiveCase {
  server: string;
  publicKey: string;
  request: string;
  response: string;
  expect: { midp: number; radi: number; version: number; pathLen: number; index: number };
}
const live = JSON.parse(readFileSync(new URL('live-interop-draft19.json', VECTORS), 'utf8')) as LiveCase[];

describe('live interop with an independent draft-19 server (24 pairs)', () => {
  it('has 24 cases', () => expect(live.length).toBe(24));

  it.each(live.map((c, i) => [i, c] as const))(
    'case %i: request rebuilt, reply valid, RADI 0xFFFFFFFF unusable',
    async (_i, c) => {
      const publicKey = fromBase64(c.publicKey)!;
      const sent = fromHex(c.request);
      const request = await buildRequest({ nonce: top(sent).get(Tag.NONC)!, publicKey });
      expect(request.packet).toEqual(sent); // VER [1, 0x8000000c], SRV, NONC, TYPE, ZZZZ
      const res = await verifyReply({ request, reply: fromHex(c.response), publicKey });
      expect(res.ok && res.kind === 'unusable' && res.code).toBe('E_ROUGHTIME_RADIUS_TOO_LARGE');
      if (!res.ok) return;
      expect(res.reply.midpoint).toBe(BigInt(c.expect.midp));
      expect(res.reply.radius).toBe(c.expect.radi);
      expect(res.reply.version).toBe(c.expect.version);
      expect(res.reply.pathLength).toBe(c.expect.pathLen);
      expect(res.reply.index).toBe(c.expect.index);
      // Without a cap the interval [MIDP - 2^32+1 s, ...] starts before 1970: still unusable.
      const uncapped = await verifyReply({
        request,
        reply: fromHex(c.response),
        publicKey,
        maxRadiusSeconds: Infinity,
      });
      expect(uncapped.ok && uncapped.kind === 'unusable' && uncapped.code).toBe('E_ROUGHTIME_TIME_RANGE');
    },
  );

  it.each(live.map((c, i) => [i, c] as const))(
    'case %i: derived failing cases rejected with their code',
    async (_i, c) => {
      const publicKey = fromBase64(c.publicKey)!;
      const request = await buildRequest({ nonce: top(fromHex(c.request)).get(Tag.NONC)!, publicKey });
      expect(await expectDerivedRejections(request, fromHex(c.response), publicKey)).toBe(16);
    },
  );
});

describe('SRV request (0x8000000c)', () => {
  it('parses, and our builder lays it out identically', async () => {
    const sent = read('rfc-request.SRV.417aa962');
    const parsed = parseRequest(sent);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request.version).toBe(RoughtimeVersion.DRAFT_12);
    expect(parsed.request.srv?.length).toBe(32);
    expect(Array.from(parsed.request.nonce.subarray(0, 4))).toEqual([0x41, 0x7a, 0xa9, 0x62]);
    // Same nonce and version with some key, then the vector's SRV value in place: identical bytes.
    const someKey = new Uint8Array(32).fill(9);
    const ours = await buildRequest({
      versions: [RoughtimeVersion.DRAFT_12],
      nonce: parsed.request.nonce,
      publicKey: someKey,
    });
    const srv = await srvValue(someKey);
    const at = indexOf(ours.packet, srv);
    ours.packet.set(parsed.request.srv!, at);
    expect(ours.packet).toEqual(sent);
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe("roughenough's reply with an 8-node PATH (INDX 2)", () => {
  const reply = read('rfc-response.path8.index2.4c16c619');

  it('parses every field', () => {
    const msg = top(reply);
    expect(msg.tags).toEqual([Tag.SIG, Tag.NONC, Tag.TYPE, Tag.PATH, Tag.SREP, Tag.CERT, Tag.INDX]);
    expect(msg.get(Tag.PATH)!.length).toBe(256);
    expect(readU32(msg.get(Tag.INDX)!, 0)).toBe(2);
    const srep = sub(msg, Tag.SREP);
    expect(srep.tags).toEqual([Tag.VER, Tag.RADI, Tag.MIDP, Tag.VERS, Tag.ROOT]);
    expect(readU32(srep.get(Tag.VER)!, 0)).toBe(RoughtimeVersion.DRAFT_12);
    expect(readU32(srep.get(Tag.RADI)!, 0)).toBe(5);
    expect(readU64(srep.get(Tag.MIDP)!, 0)).toBe(1748359193n);
    const dele = sub(msg, Tag.CERT, Tag.DELE);
    expect(readU64(dele.get(Tag.MINT)!, 0)).toBe(0n);
    expect(readU64(dele.get(Tag.MAXT)!, 0)).toBe(0xffffffffffffffffn);
  });

  it("its SREP signature verifies under DELE's key with the response context", async () => {
    const msg = top(reply);
    const pubk = sub(msg, Tag.CERT, Tag.DELE).get(Tag.PUBK)!;
    const signed = new Uint8Array([...MODERN.responseContext, ...msg.get(Tag.SREP)!]);
    expect(await verifyEd25519(pubk, signed, msg.get(Tag.SIG)!)).toBe(true);
    expect(await verifyEd25519(pubk, signed.subarray(1), msg.get(Tag.SIG)!)).toBe(false);
  });

  it('is rejected under a key that did not sign it, and for a request it does not answer', async () => {
    const nonce = top(reply).get(Tag.NONC)!;
    const request = await buildRequest({ versions: [RoughtimeVersion.DRAFT_12], nonce });
    const res = await verifyReply({ request, reply, publicKey: INT08H });
    expect(res.ok ? res.kind : res.code).toBe('E_ROUGHTIME_DELEGATION_SIGNATURE');
    const other = await buildRequest({ versions: [RoughtimeVersion.DRAFT_12] });
    const res2 = await verifyReply({ request: other, reply, publicKey: INT08H });
    expect(res2.ok ? res2.kind : res2.code).toBe('E_ROUGHTIME_NONCE_MISMATCH');
  });
});

describe('reference "golden" reply (fake signatures)', () => {
  const reply = read('golden-response.phase8');

  it('parses every field', () => {
    const msg = top(reply);
    expect(msg.get(Tag.SIG)).toEqual(new Uint8Array(64).fill(0x33));
    expect(msg.get(Tag.NONC)).toEqual(new Uint8Array(32).fill(0x44));
    expect(readU32(msg.get(Tag.TYPE)!, 0)).toBe(1);
    expect(msg.get(Tag.PATH)!.length).toBe(64);
    expect(readU32(msg.get(Tag.INDX)!, 0)).toBe(7);
    const srep = sub(msg, Tag.SREP);
    expect(readU64(srep.get(Tag.MIDP)!, 0)).toBe(0x1122334455667788n);
    expect(srep.get(Tag.VERS)).toEqual(new Uint8Array([1, 0, 0, 0, 0x0c, 0, 0, 0x80]));
    const dele = sub(msg, Tag.CERT, Tag.DELE);
    expect(dele.get(Tag.PUBK)).toEqual(new Uint8Array(32).fill(0x11));
    expect(readU64(dele.get(Tag.MINT)!, 0)).toBe(0x0102030405060708n);
    expect(readU64(dele.get(Tag.MAXT)!, 0)).toBe(0x1112131415161718n);
  });

  it('does not verify: the delegation signature is fake', async () => {
    const request = await buildRequest({ nonce: new Uint8Array(32).fill(0x44) });
    const res = await verifyReply({ request, reply, publicKey: new Uint8Array(32).fill(0x22) });
    expect(res.ok ? res.kind : res.code).toBe('E_ROUGHTIME_DELEGATION_SIGNATURE');
    const wrongNonce = await buildRequest({ nonce: new Uint8Array(32).fill(0x45) });
    const res2 = await verifyReply({ request: wrongNonce, reply, publicKey: INT08H });
    expect(res2.ok ? res2.kind : res2.code).toBe('E_ROUGHTIME_NONCE_MISMATCH');
  });
});
