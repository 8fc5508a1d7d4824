/**
 * Our responder (server.ts) against our client, for every wire version: batches round-trip,
 * requests that must be ignored are, replies are never larger than requests (§9.7), and
 * replies signed with bad values (window, radius) are refused by the client with their code.
 */
import { describe, expect, it } from 'vitest';
import { concat, u32, u32List } from './bytes.js';
import { ed25519SignerFromSeed, type Ed25519Signer } from './ed25519.js';
import { framePacket } from './packet.js';
import { buildRequest, type RoughtimeRequest } from './request.js';
import { createDelegation, parseRequest, respond, signReplies, type Delegation, type ServerRequest } from './server.js';
import { encodeMessage, parseMessage, Tag } from './tags.js';
import { verifyReply } from './verify.js';
import { RoughtimeVersion, versionProfile } from './versions.js';

const NOW_MS = 1_790_000_000_000;

async function keys(): Promise<{ longTerm: Ed25519Signer; online: Ed25519Signer; delegation: Delegation }> {
  const longTerm = await ed25519SignerFromSeed(new Uint8Array(32).fill(1));
  const online = await ed25519SignerFromSeed(new Uint8Array(32).fill(2));
  const delegation = await createDelegation({
    longTerm,
    onlinePublicKey: online.publicKey,
    minTimeMs: NOW_MS - 86_400_000,
    maxTimeMs: NOW_MS + 86_400_000,
  });
  return { longTerm, online, delegation };
}

function replaceIn(message: Uint8Array, path: readonly number[], value: Uint8Array): Uint8Array {
  const parsed = parseMessage(message);
  if (!parsed.ok) throw new Error(parsed.detail);
  const [head, ...rest] = path as [number, ...number[]];
  const entries = parsed.message.tags.map((t, i) => [t, parsed.message.values[i]!] as [number, Uint8Array]);
  const at = entries.findIndex(([t]) => t === head);
  entries[at] = [head, rest.length === 0 ? value : replaceIn(entries[at]![1], rest, value)];
  return encodeMessage(entries);
}

const OFFERS: [string, RoughtimeVersion[], RoughtimeVersion][] = [
  ['RFC and drafts 12-19 (default)', [RoughtimeVersion.RFC, RoughtimeVersion.DRAFT_12], RoughtimeVersion.RFC],
  ['RFC only', [RoughtimeVersion.RFC], RoughtimeVersion.RFC],
  ['drafts 12-19 only', [RoughtimeVersion.DRAFT_12], RoughtimeVersion.DRAFT_12],
  ['drafts 08 and 11', [RoughtimeVersion.DRAFT_08, RoughtimeVersion.DRAFT_11], RoughtimeVersion.DRAFT_11],
  ['draft 11', [RoughtimeVersion.DRAFT_11], RoughtimeVersion.DRAFT_11],
  ['draft 08', [RoughtimeVersion.DRAFT_08], RoughtimeVersion.DRAFT_08],
  ['Google', [RoughtimeVersion.GOOGLE], RoughtimeVersion.GOOGLE],
];

describe('server ↔ client round trip', () => {
  it.each(OFFERS)(
    '%s: a mixed batch of 37 verifies, each reply no larger than its request',
    async (_n, versions, chosen) => {
      const { longTerm, online, delegation } = await keys();
      const requests: RoughtimeRequest[] = [];
      for (let i = 0; i < 37; i++) {
        // Every third request of the batch speaks another version, to mix trees within one batch.
        const v = i % 3 === 0 ? [RoughtimeVersion.RFC] : versions;
        requests.push(await buildRequest({ versions: v, publicKey: i % 2 === 0 ? longTerm.publicKey : undefined }));
      }
      const replies = await respond(
        requests.map((r) => r.packet),
        { delegation, online, midpointMs: NOW_MS, radiusSeconds: 3 },
      );
      for (const [i, request] of requests.entries()) {
        const reply = replies[i]!;
        expect(reply.length).toBeLessThanOrEqual(request.packet.length);
        const res = await verifyReply({ request, reply, publicKey: longTerm.publicKey });
        expect(res.ok && res.kind).toBe('time');
        if (!res.ok || res.kind !== 'time') continue;
        expect(res.reply.version).toBe(i % 3 === 0 ? RoughtimeVersion.RFC : chosen);
        expect(res.interval.earliestMs).toBeLessThanOrEqual(NOW_MS);
        expect(res.interval.latestMs).toBeGreaterThanOrEqual(NOW_MS);
        expect(res.interval.latestMs - res.interval.earliestMs).toBeLessThanOrEqual(7_000);
      }
    },
  );
});

describe('parseRequest: requests a server must ignore', () => {
  const nonce = new Uint8Array(32).fill(5);
  const pad = (entries: [number, Uint8Array][]): Uint8Array => {
    const bare = encodeMessage(entries);
    return framePacket(encodeMessage([...entries, [Tag.ZZZZ, new Uint8Array(1024 - 12 - bare.length - 8)]]));
  };
  const cases: [string, Uint8Array, string][] = [
    ['shorter than 1,024 bytes', new Uint8Array(1023), 'E_ROUGHTIME_BAD_VALUE'],
    [
      'without VER',
      pad([
        [Tag.NONC, nonce],
        [Tag.TYPE, u32(0)],
      ]),
      'E_ROUGHTIME_MISSING_TAG',
    ],
    [
      'offering only unknown versions',
      pad([
        [Tag.VER, u32List([2, 0x80000007])],
        [Tag.NONC, nonce],
        [Tag.TYPE, u32(0)],
      ]),
      'E_ROUGHTIME_VERSION',
    ],
    [
      'without NONC',
      pad([
        [Tag.VER, u32(1)],
        [Tag.TYPE, u32(0)],
      ]),
      'E_ROUGHTIME_MISSING_TAG',
    ],
    [
      'with a short NONC',
      pad([
        [Tag.VER, u32(1)],
        [Tag.NONC, nonce.subarray(0, 28)],
        [Tag.TYPE, u32(0)],
      ]),
      'E_ROUGHTIME_BAD_VALUE',
    ],
    [
      'version 1 without TYPE',
      pad([
        [Tag.VER, u32(1)],
        [Tag.NONC, nonce],
      ]),
      'E_ROUGHTIME_MISSING_TAG',
    ],
    [
      'TYPE 1 (a response)',
      pad([
        [Tag.VER, u32(1)],
        [Tag.NONC, nonce],
        [Tag.TYPE, u32(1)],
      ]),
      'E_ROUGHTIME_BAD_VALUE',
    ],
    [
      'a 28-byte SRV',
      pad([
        [Tag.VER, u32(1)],
        [Tag.NONC, nonce],
        [Tag.TYPE, u32(0)],
        [Tag.SRV, new Uint8Array(28)],
      ]),
      'E_ROUGHTIME_BAD_VALUE',
    ],
    [
      'Google with a 32-byte nonce',
      encodeMessage([
        [Tag.NONC, nonce],
        [Tag.PAD, new Uint8Array(1024 - 16 - 32)],
      ]),
      'E_ROUGHTIME_BAD_VALUE',
    ],
    [
      'a broken frame',
      concat(framePacket(new Uint8Array(1012)).subarray(0, 1020), new Uint8Array(8)),
      'E_ROUGHTIME_FRAMING',
    ],
  ];
  it.each(cases)('%s', (_n, packet, code) => {
    const r = parseRequest(packet);
    expect(r.ok ? 'ok' : r.code).toBe(code);
  });

  it('draft 12-13 requests without TYPE are answered (TYPE came in draft 14)', () => {
    const r = parseRequest(
      pad([
        [Tag.VER, u32(RoughtimeVersion.DRAFT_12)],
        [Tag.NONC, nonce],
      ]),
    );
    expect(r.ok && r.request.version).toBe(RoughtimeVersion.DRAFT_12);
  });

  it('ignores unknown versions and picks the newest we share', () => {
    const r = parseRequest(
      pad([
        [Tag.VER, u32List([RoughtimeVersion.RFC, 7, RoughtimeVersion.DRAFT_08])],
        [Tag.NONC, nonce],
        [Tag.TYPE, u32(0)],
      ]),
    );
    expect(r.ok && r.request.versions).toEqual([RoughtimeVersion.RFC, RoughtimeVersion.DRAFT_08]);
    expect(r.ok && r.request.version).toBe(RoughtimeVersion.RFC);
  });
});

describe('signReplies', () => {
  it('does not answer a request whose SRV names another key (§5.2)', async () => {
    const { online, delegation } = await keys();
    const other = await buildRequest({ publicKey: new Uint8Array(32).fill(9) });
    const mine = await buildRequest({ publicKey: delegation.longTermPublicKey });
    const replies = await respond([other.packet, mine.packet], { delegation, online, midpointMs: NOW_MS });
    expect(replies[0]).toBeUndefined();
    expect(replies[1]).toBeInstanceOf(Uint8Array);
  });

  it('never sends a reply larger than its request (§9.7)', async () => {
    const { online, delegation } = await keys();
    const small: ServerRequest = {
      packet: new Uint8Array(64),
      nonce: new Uint8Array(32),
      versions: [1],
      version: 1,
      srv: undefined,
    };
    expect(await signReplies([small], { delegation, online, midpointMs: NOW_MS })).toEqual([undefined]);
  });

  it('refuses to sign outside its delegation or with a key it was not delegated', async () => {
    const { longTerm, online, delegation } = await keys();
    const r = parseRequest((await buildRequest()).packet);
    if (!r.ok) throw new Error(r.detail);
    await expect(signReplies([r.request], { delegation, online, midpointMs: NOW_MS + 2 * 86_400_000 })).rejects.toThrow(
      /delegation window/,
    );
    await expect(signReplies([r.request], { delegation, online: longTerm, midpointMs: NOW_MS })).rejects.toThrow(
      /not the delegated key/,
    );
    await expect(
      signReplies([r.request], { delegation, online, midpointMs: NOW_MS, radiusSeconds: 0 }),
    ).rejects.toThrow(/radiusSeconds/);
  });
});

describe('the client refuses correctly signed replies with bad values', () => {
  for (const version of [
    RoughtimeVersion.RFC,
    RoughtimeVersion.DRAFT_12,
    RoughtimeVersion.DRAFT_11,
    RoughtimeVersion.DRAFT_08,
    RoughtimeVersion.GOOGLE,
  ]) {
    const profile = versionProfile(version)!;
    const unframe = (p: Uint8Array): Uint8Array => (profile.framed ? p.subarray(12) : p);
    const reframe = (m: Uint8Array): Uint8Array => (profile.framed ? framePacket(m) : m);

    it(`${profile.name}: MIDP outside the delegation window → E_ROUGHTIME_DELEGATION_WINDOW`, async () => {
      const { longTerm, online, delegation } = await keys();
      const request = await buildRequest({ versions: [version] });
      const [reply] = await respond([request.packet], { delegation, online, midpointMs: NOW_MS });
      // A correctly signed delegation that ends an hour before MIDP.
      const early = await createDelegation({
        longTerm,
        onlinePublicKey: online.publicKey,
        minTimeMs: 0,
        maxTimeMs: NOW_MS - 3_600_000,
      });
      const family = version === RoughtimeVersion.GOOGLE ? 'google' : profile.verInSrep ? 'modern' : 'draft';
      const swapped = reframe(replaceIn(unframe(reply!), [Tag.CERT], early.certs[family]));
      const res = await verifyReply({ request, reply: swapped, publicKey: longTerm.publicKey });
      expect(res.ok ? res.kind : res.code).toBe('E_ROUGHTIME_DELEGATION_WINDOW');
    });

    it(`${profile.name}: RADI 0xFFFFFFFF is valid but unusable; a radius at the cap is used`, async () => {
      const { longTerm, online, delegation } = await keys();
      const request = await buildRequest({ versions: [version] });
      const [huge] = await respond([request.packet], {
        delegation,
        online,
        midpointMs: NOW_MS,
        radiusSeconds: 0xffffffff,
      });
      const res = await verifyReply({ request, reply: huge!, publicKey: longTerm.publicKey });
      expect(res.ok && res.kind === 'unusable' && res.code).toBe('E_ROUGHTIME_RADIUS_TOO_LARGE');
      const [ten] = await respond([request.packet], { delegation, online, midpointMs: NOW_MS, radiusSeconds: 10 });
      expect((await verifyReply({ request, reply: ten!, publicKey: longTerm.publicKey })).ok).toBe(true);
      const eleven = await respond([request.packet], { delegation, online, midpointMs: NOW_MS, radiusSeconds: 11 });
      const r11 = await verifyReply({ request, reply: eleven[0]!, publicKey: longTerm.publicKey });
      expect(r11.ok && r11.kind).toBe('unusable');
    });

    it(`${profile.name}: a version we did not offer → E_ROUGHTIME_VERSION`, async () => {
      if (version === RoughtimeVersion.GOOGLE) return; // no VER on the wire
      const { longTerm, online, delegation } = await keys();
      const request = await buildRequest({ versions: [version] });
      const [reply] = await respond([request.packet], { delegation, online, midpointMs: NOW_MS });
      const other =
        version === RoughtimeVersion.RFC
          ? RoughtimeVersion.DRAFT_12
          : version === RoughtimeVersion.DRAFT_12
            ? RoughtimeVersion.RFC
            : version === RoughtimeVersion.DRAFT_11
              ? RoughtimeVersion.DRAFT_08
              : RoughtimeVersion.DRAFT_11;
      let msg = unframe(reply!);
      if (profile.verInSrep) {
        const p = parseMessage(msg);
        if (!p.ok) throw new Error(p.detail);
        const srep = replaceIn(p.message.get(Tag.SREP)!, [Tag.VER], u32(other));
        msg = replaceIn(
          replaceIn(msg, [Tag.SREP], srep),
          [Tag.SIG],
          await online.sign(concat(profile.responseContext, srep)),
        );
      } else {
        msg = replaceIn(msg, [Tag.VER], u32(other));
      }
      const res = await verifyReply({ request, reply: reframe(msg), publicKey: longTerm.publicKey });
      expect(res.ok ? res.kind : res.code).toBe('E_ROUGHTIME_VERSION');
    });
  }

  it('RADI 0 in a signed draft-12+ response → E_ROUGHTIME_BAD_VALUE (§5.2.5)', async () => {
    const { longTerm, online, delegation } = await keys();
    const request = await buildRequest();
    const [reply] = await respond([request.packet], { delegation, online, midpointMs: NOW_MS });
    const msg = reply!.subarray(12);
    const p = parseMessage(msg);
    if (!p.ok) throw new Error(p.detail);
    const srep = replaceIn(p.message.get(Tag.SREP)!, [Tag.RADI], u32(0));
    const resigned = replaceIn(
      replaceIn(msg, [Tag.SREP], srep),
      [Tag.SIG],
      await online.sign(concat(versionProfile(1)!.responseContext, srep)),
    );
    const res = await verifyReply({ request, reply: framePacket(resigned), publicKey: longTerm.publicKey });
    expect(res.ok ? res.kind : res.code).toBe('E_ROUGHTIME_BAD_VALUE');
  });
});
