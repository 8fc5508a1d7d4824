/**
 * Property tests (fast-check): any tampered byte of a valid reply fails verification, for
 * every wire version (vectors and our responder); a truncated reply fails; and for draft 12+
 * any tampered byte of the *request* fails too, since the Merkle leaf covers the whole request.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex } from './bytes.js';
import { ed25519SignerFromSeed } from './ed25519.js';
import { parsePacket } from './packet.js';
import { buildRequest, type RoughtimeRequest } from './request.js';
import { createDelegation, respond } from './server.js';
import { Tag } from './tags.js';
import { verifyReply } from './verify.js';
import { RoughtimeVersion, versionProfile } from './versions.js';

const VECTORS = new URL('../../../../../shared/vectors/roughtime/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, VECTORS)));

interface Case {
  name: string;
  request: RoughtimeRequest;
  reply: Uint8Array;
  publicKey: Uint8Array;
  /**
   * Bytes whose change may go unnoticed, as long as the verified result stays identical: the tag
   * ids of unsigned tags that the version makes optional (renamed, they become unknown tags,
   * which §7 says to ignore). NONC in Google/draft 08/11 replies (some deployed servers omit
   * it; the Merkle leaf binds the nonce anyway) and TYPE in 0x8000000c replies (drafts 12-13
   * had none). And INDX bits at levels where a padded tree makes a node its own sibling.
   */
  unchecked?: ReadonlySet<number>;
}

function nonceOf(packet: Uint8Array, framed: boolean): Uint8Array {
  const p = parsePacket(packet, framed);
  if (!p.ok) throw new Error(p.detail);
  return p.message.get(Tag.NONC)!;
}

/** Offsets of a top-level tag's id in a reply's header. */
function tagIdOffsets(reply: Uint8Array, tag: number, framed = true): Set<number> {
  const p = parsePacket(reply, framed);
  if (!p.ok) throw new Error(p.detail);
  const n = p.message.tags.length;
  const k = p.message.tags.indexOf(tag);
  const at = (framed ? 12 : 0) + 4 + 4 * (n - 1) + 4 * k;
  return new Set([at, at + 1, at + 2, at + 3]);
}

/** Offsets of a top-level tag's value in a reply (parsePacket returns views into the input). */
function tagValueOffsets(reply: Uint8Array, tag: number, framed = true): Set<number> {
  const p = parsePacket(reply, framed);
  if (!p.ok) throw new Error(p.detail);
  const v = p.message.get(tag)!;
  const start = v.byteOffset - reply.byteOffset;
  return new Set(Array.from({ length: v.length }, (_, i) => start + i));
}

async function cases(): Promise<Case[]> {
  const out: Case[] = [];
  // Cloudflare vectors: the first reply of each 100-batch (a 7-node PATH).
  for (const [file, version] of [
    ['cf_roughtime_google_100.json', RoughtimeVersion.GOOGLE],
    ['cf_roughtime_ietf_draft08_100.json', RoughtimeVersion.DRAFT_08],
    ['cf_roughtime_ietf_draft11_100.json', RoughtimeVersion.DRAFT_11],
  ] as const) {
    const vec = JSON.parse(readFileSync(new URL(file, VECTORS), 'utf8')) as {
      root_key: string;
      request: string[];
      replies: string[];
    };
    const publicKey = (await ed25519SignerFromSeed(fromHex(vec.root_key))).publicKey;
    const framed = versionProfile(version)!.framed;
    const request = await buildRequest({
      versions: [version],
      nonce: nonceOf(fromHex(vec.request[3]!), framed),
      publicKey,
    });
    const reply = fromHex(vec.replies[3]!);
    out.push({ name: file, request, reply, publicKey, unchecked: tagIdOffsets(reply, Tag.NONC, framed) });
  }
  // int08h (0x8000000c).
  const int08h = fromBase64('AW5uAoTSTDfG5NfY1bTh08GUnOqlRb+HVhbJ3ODJvsE=')!;
  const reply = read('rfc-response.071039e5');
  out.push({
    name: 'int08h',
    request: await buildRequest({
      versions: [RoughtimeVersion.DRAFT_12],
      nonce: nonceOf(read('rfc-request.071039e5'), true),
    }),
    reply,
    publicKey: int08h,
    unchecked: tagIdOffsets(reply, Tag.TYPE),
  });
  // Live draft-19 capture with a 5-node PATH (valid but unusable: RADI 0xFFFFFFFF), VER 0x8000000c.
  const live = (
    JSON.parse(readFileSync(new URL('live-interop-draft19.json', VECTORS), 'utf8')) as {
      publicKey: string;
      request: string;
      response: string;
    }[]
  )[5]!;
  const livePk = fromBase64(live.publicKey)!;
  const liveReply = fromHex(live.response);
  out.push({
    name: 'draft-19 live',
    request: await buildRequest({ nonce: nonceOf(fromHex(live.request), true), publicKey: livePk }),
    reply: liveReply,
    publicKey: livePk,
    unchecked: tagIdOffsets(liveReply, Tag.TYPE),
  });
  // Our responder, version 1, a batch of 6.
  const longTerm = await ed25519SignerFromSeed(new Uint8Array(32).fill(3));
  const online = await ed25519SignerFromSeed(new Uint8Array(32).fill(4));
  const delegation = await createDelegation({
    longTerm,
    onlinePublicKey: online.publicKey,
    minTimeMs: 0,
    maxTimeMs: 4e12,
  });
  const requests = await Promise.all(Array.from({ length: 6 }, () => buildRequest({ publicKey: longTerm.publicKey })));
  const replies = await respond(
    requests.map((r) => r.packet),
    { delegation, online, midpointMs: 1_790_000_000_000 },
  );
  // A batch of 6 completes its odd levels by repeating the last node (merkle.ts), so leaf 4's
  // sibling one level up is its own node: that INDX bit cannot matter (H(x || x) either way) and
  // the leaf stays bound to the signed root. INDX may change only if the result stays identical.
  out.push({
    name: 'ours, RFC version 1',
    request: requests[4]!,
    reply: replies[4]!,
    publicKey: longTerm.publicKey,
    unchecked: tagValueOffsets(replies[4]!, Tag.INDX),
  });
  return out;
}

const all = await cases();

/** A tampered reply must fail; only an `unchecked` byte may pass, and then with the same result. */
async function expectFailsOrSame(c: Case, bad: Uint8Array, at: number): Promise<void> {
  const res = await verifyReply({ request: c.request, reply: bad, publicKey: c.publicKey });
  if (!res.ok) return;
  expect(c.unchecked?.has(at), `byte ${at} changed and the reply still verifies`).toBe(true);
  const orig = await verifyReply({ request: c.request, reply: c.reply, publicKey: c.publicKey });
  if (!orig.ok) throw new Error('original must verify');
  const essence = (r: typeof res) => [
    r.kind,
    r.reply.version,
    r.reply.midpoint,
    r.reply.radius,
    r.kind === 'time' ? r.interval : r.code,
  ];
  expect(essence(res)).toEqual(essence(orig));
}

describe.each(all)('$name', (c) => {
  it('verifies untouched', async () => {
    expect((await verifyReply({ request: c.request, reply: c.reply, publicKey: c.publicKey })).ok).toBe(true);
  });

  it('any tampered byte of the reply fails verification', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: c.reply.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const bad = c.reply.slice();
        bad[at]! ^= x;
        await expectFailsOrSame(c, bad, at);
      }),
      { numRuns: 300 },
    );
  });

  it('every byte, flipped in turn, fails verification', async () => {
    for (let at = 0; at < c.reply.length; at++) {
      const bad = c.reply.slice();
      bad[at]! ^= 0x01;
      await expectFailsOrSame(c, bad, at);
    }
  });

  it('any truncation or extension fails verification', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: c.reply.length - 1 }), async (len) => {
        expect(
          (await verifyReply({ request: c.request, reply: c.reply.subarray(0, len), publicKey: c.publicKey })).ok,
        ).toBe(false);
      }),
      { numRuns: 100 },
    );
    const longer = new Uint8Array(c.reply.length + 4);
    longer.set(c.reply);
    expect((await verifyReply({ request: c.request, reply: longer, publicKey: c.publicKey })).ok).toBe(false);
  });

  it('splices (a range deleted, duplicated or replaced) never throw and never change what verifies', async () => {
    const orig = await verifyReply({ request: c.request, reply: c.reply, publicKey: c.publicKey });
    if (!orig.ok) throw new Error('original must verify');
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: c.reply.length }),
        fc.nat({ max: 80 }),
        fc.constantFrom('delete', 'duplicate', 'replace'),
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        async (at, len, op, junk) => {
          const head = c.reply.subarray(0, at);
          const mid = c.reply.subarray(at, at + len);
          const tail = c.reply.subarray(at + len);
          const parts =
            op === 'delete' ? [head, tail] : op === 'duplicate' ? [head, mid, mid, tail] : [head, junk, tail];
          const bad = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let o = 0;
          for (const p of parts) {
            bad.set(p, o);
            o += p.length;
          }
          const res = await verifyReply({ request: c.request, reply: bad, publicKey: c.publicKey });
          if (res.ok) {
            expect([res.kind, res.reply.midpoint, res.reply.radius, res.reply.version]).toEqual([
              orig.kind,
              orig.reply.midpoint,
              orig.reply.radius,
              orig.reply.version,
            ]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('for draft 12+, any tampered byte of the request makes the reply fail (§5.3: the leaf is the request)', async () => {
    if (c.request.profile.leaf !== 'request') return;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: c.request.packet.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, x) => {
          const packet = c.request.packet.slice();
          packet[at]! ^= x;
          const res = await verifyReply({ request: { ...c.request, packet }, reply: c.reply, publicKey: c.publicKey });
          expect(res.ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
