/**
 * Cloudflare's published vectors (shared/vectors/roughtime/cf_roughtime_*.json) for Google's
 * protocol, draft 08 (0x80000008) and draft 11 (0x8000000b): every request is rebuilt byte for
 * byte from its nonce, every reply of every batch (1, 10, 100) verifies, and failing cases
 * derived from every reply are rejected with their specific code. The vectors carry the key
 * seeds, so derived cases can also be re-signed (delegation window, huge radius).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, readU32, u32, u64 } from './bytes.js';
import { ed25519PublicKey, ed25519SignerFromSeed } from './ed25519.js';
import { framePacket } from './packet.js';
import { buildRequest, type RoughtimeRequest } from './request.js';
import { createDelegation, respond } from './server.js';
import { encodeMessage, parseMessage, Tag } from './tags.js';
import { verifyReply, type VerifyReplyResult } from './verify.js';
import { RoughtimeVersion, versionProfile } from './versions.js';

const VECTORS = new URL('../../../../../shared/vectors/roughtime/', import.meta.url);
interface CfVector {
  info: string;
  root_key: string;
  online_key: string;
  request: string[];
  replies: string[];
}
const load = (name: string): CfVector => JSON.parse(readFileSync(new URL(name, VECTORS), 'utf8')) as CfVector;

/** Replaces the value of `tag` inside the message at `path` (nested tags), re-encoding each level. */
function replaceIn(message: Uint8Array, path: readonly number[], value: Uint8Array): Uint8Array {
  const parsed = parseMessage(message);
  if (!parsed.ok) throw new Error(parsed.detail);
  const [head, ...rest] = path as [number, ...number[]];
  const entries = parsed.message.tags.map((t, i) => [t, parsed.message.values[i]!] as [number, Uint8Array]);
  const at = entries.findIndex(([t]) => t === head);
  const next = rest.length === 0 ? value : replaceIn(entries[at]![1], rest, value);
  if (at < 0) entries.push([head, next]);
  else entries[at] = [head, next];
  return encodeMessage(entries);
}

function getIn(message: Uint8Array, path: readonly number[]): Uint8Array {
  let cur = message;
  for (const t of path) {
    const p = parseMessage(cur);
    if (!p.ok) throw new Error(p.detail);
    cur = p.message.get(t)!;
  }
  return cur;
}

const FORMATS = [
  { label: 'Google', file: 'cf_roughtime_google', version: RoughtimeVersion.GOOGLE },
  { label: 'draft 08', file: 'cf_roughtime_ietf_draft08', version: RoughtimeVersion.DRAFT_08 },
  { label: 'draft 11', file: 'cf_roughtime_ietf_draft11', version: RoughtimeVersion.DRAFT_11 },
] as const;

const counts: Record<string, { pass: number; fail: number }> = {};

describe.each(FORMATS)('Cloudflare vectors, $label', ({ label, file, version }) => {
  const profile = versionProfile(version)!;
  const framed = profile.framed;
  const unframe = (p: Uint8Array): Uint8Array => (framed ? p.subarray(12) : p);
  const reframe = (m: Uint8Array): Uint8Array => (framed ? framePacket(m) : m);
  counts[label] = { pass: 0, fail: 0 };
  afterAll(() => {
    // 111 replies per format (batches of 1, 10, 100); 10 derived failing cases per reply.
    expect(counts[label]).toEqual({ pass: 111, fail: 111 * 10 });
  });

  for (const size of ['001', '010', '100']) {
    const vec = load(`${file}_${size}.json`);
    const rootSeed = fromHex(vec.root_key);
    const onlineSeed = fromHex(vec.online_key);
    const publicKey = ed25519PublicKey(rootSeed);

    it(`${size}: rebuilds every request and verifies every reply (${vec.replies.length})`, async () => {
      expect(vec.request.length).toBe(vec.replies.length);
      for (let i = 0; i < vec.request.length; i++) {
        const sent = fromHex(vec.request[i]!);
        const nonce = getIn(unframe(sent), [Tag.NONC]);
        const request = await buildRequest({ versions: [version], nonce, publicKey });
        expect(request.packet).toEqual(sent);
        const result = await verifyReply({ request, reply: fromHex(vec.replies[i]!), publicKey });
        expect(result.ok && result.kind).toBe('time');
        if (result.ok && result.kind === 'time') {
          expect(result.reply.version).toBe(version);
          expect(result.reply.index).toBe(i);
          // Generated with MIDP 50 s, RADI 5 s, delegation [0, 100] s.
          expect(result.interval).toEqual({ earliestMs: 45_000, latestMs: 55_000 });
        }
        counts[label]!.pass++;
      }
    });

    it(`${size}: rejects failing cases derived from every reply with their code`, async () => {
      const root = await ed25519SignerFromSeed(rootSeed);
      const online = await ed25519SignerFromSeed(onlineSeed);
      const otherKey = ed25519PublicKey(new Uint8Array(32).fill(7));
      for (let i = 0; i < vec.replies.length; i++) {
        const reply = fromHex(vec.replies[i]!);
        const msg = unframe(reply);
        const nonce = getIn(unframe(fromHex(vec.request[i]!)), [Tag.NONC]);
        const request: RoughtimeRequest = await buildRequest({ versions: [version], nonce, publicKey });
        const expectReject = async (r: Uint8Array, code: string, req = request, key = publicKey): Promise<void> => {
          const res: VerifyReplyResult = await verifyReply({ request: req, reply: r, publicKey: key });
          expect(res.ok ? `ok:${res.kind}` : res.code, `${label} ${size} reply ${i}: expected ${code}`).toBe(code);
          counts[label]!.fail++;
        };
        // Tampered signature: flip one bit of SIG.
        const sig = getIn(msg, [Tag.SIG]).slice();
        sig[10]! ^= 0x01;
        await expectReject(reframe(replaceIn(msg, [Tag.SIG], sig)), 'E_ROUGHTIME_RESPONSE_SIGNATURE');
        // Tampered midpoint: MIDP + 1 under the old signature.
        const midp = getIn(msg, [Tag.SREP, Tag.MIDP]);
        const later = u64(new DataView(midp.buffer, midp.byteOffset).getBigUint64(0, true) + 1n);
        await expectReject(reframe(replaceIn(msg, [Tag.SREP, Tag.MIDP], later)), 'E_ROUGHTIME_RESPONSE_SIGNATURE');
        // Wrong nonce: the reply checked against a request with another nonce.
        const otherNonce = nonce.slice();
        otherNonce[0]! ^= 0xff;
        await expectReject(
          reply,
          'E_ROUGHTIME_NONCE_MISMATCH',
          await buildRequest({ versions: [version], nonce: otherNonce, publicKey }),
        );
        // Wrong long-term key.
        await expectReject(reply, 'E_ROUGHTIME_DELEGATION_SIGNATURE', request, otherKey);
        // Truncated packet.
        await expectReject(
          reply.subarray(0, reply.length - 4),
          framed ? 'E_ROUGHTIME_FRAMING' : 'E_ROUGHTIME_BAD_VALUE',
        );
        await expectReject(reply.subarray(0, 10), framed ? 'E_ROUGHTIME_FRAMING' : 'E_ROUGHTIME_MALFORMED');
        // Wrong Merkle index and path.
        const indx = readU32(getIn(msg, [Tag.INDX]), 0);
        await expectReject(reframe(replaceIn(msg, [Tag.INDX], u32(indx ^ 1))), 'E_ROUGHTIME_MERKLE');
        const path = getIn(msg, [Tag.PATH]);
        const badPath = path.length === 0 ? new Uint8Array(profile.hashBytes) : path.slice();
        if (path.length > 0) badPath[0]! ^= 0x80;
        await expectReject(reframe(replaceIn(msg, [Tag.PATH], badPath)), 'E_ROUGHTIME_MERKLE');
        // Delegation window violated: MAXT re-signed below MIDP (MIDP is 50 s).
        const dele = getIn(msg, [Tag.CERT, Tag.DELE]);
        const maxt = profile.unitsPerSecond === 1 ? 49n : 49_000_000n;
        const badDele = replaceIn(dele, [Tag.MAXT], u64(maxt));
        const badCert = encodeMessage([
          [Tag.SIG, await root.sign(new Uint8Array([...profile.delegationContext, ...badDele]))],
          [Tag.DELE, badDele],
        ]);
        await expectReject(reframe(replaceIn(msg, [Tag.CERT], badCert)), 'E_ROUGHTIME_DELEGATION_WINDOW');
        // Huge radius, properly signed: the signature is accepted, the time is not used.
        const srep = replaceIn(getIn(msg, [Tag.SREP]), [Tag.RADI], u32(0xffffffff));
        const resigned = replaceIn(
          replaceIn(msg, [Tag.SREP], srep),
          [Tag.SIG],
          await online.sign(new Uint8Array([...profile.responseContext, ...srep])),
        );
        const huge = await verifyReply({ request, reply: reframe(resigned), publicKey });
        expect(huge.ok && huge.kind === 'unusable' && huge.code).toBe('E_ROUGHTIME_RADIUS_TOO_LARGE');
        counts[label]!.fail++;
      }
    });
  }

  it('our server reproduces the 1-request reply byte for byte', async () => {
    const vec = load(`${file}_001.json`);
    const longTerm = await ed25519SignerFromSeed(fromHex(vec.root_key));
    const online = await ed25519SignerFromSeed(fromHex(vec.online_key));
    const delegation = await createDelegation({
      longTerm,
      onlinePublicKey: online.publicKey,
      minTimeMs: 0,
      maxTimeMs: 100_000,
    });
    const [reply] = await respond([fromHex(vec.request[0]!)], {
      delegation,
      online,
      midpointMs: 50_000,
      radiusSeconds: 5,
    });
    expect(reply).toEqual(fromHex(vec.replies[0]!));
  });

  it('our server answers every request of the 100-batch, and each reply verifies', async () => {
    const vec = load(`${file}_100.json`);
    const longTerm = await ed25519SignerFromSeed(fromHex(vec.root_key));
    const online = await ed25519SignerFromSeed(fromHex(vec.online_key));
    const delegation = await createDelegation({
      longTerm,
      onlinePublicKey: online.publicKey,
      minTimeMs: 0,
      maxTimeMs: 100_000,
    });
    const packets = vec.request.map(fromHex);
    const replies = await respond(packets, { delegation, online, midpointMs: 50_000, radiusSeconds: 5 });
    for (let i = 0; i < packets.length; i++) {
      const nonce = getIn(unframe(packets[i]!), [Tag.NONC]);
      const request = await buildRequest({ versions: [version], nonce, publicKey: longTerm.publicKey });
      const res = await verifyReply({ request, reply: replies[i]!, publicKey: longTerm.publicKey });
      expect(res.ok && res.kind).toBe('time');
    }
  });
});
