/**
 * The sealed join request (joinSeal.ts; THREATS H.38: a join request tells the relay nothing).
 * Round trip, one opaque failure for every wrong input, one size whatever the name, and an
 * independent implementation (node:crypto) that must agree byte for byte on the format.
 */
import { createCipheriv, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../protocol/ids.js';
import { createE2ee } from './index.js';
import { encodeJoinRequest } from './joinRequest.js';
import { JOIN_SEALED_BYTES, JOIN_SEAL_BUCKET, openJoinRequest, sealJoinRequest } from './joinSeal.js';
import { makeProof } from './proof.js';

const e2ee = createE2ee();

async function joiner(name: string, room = randomId(), secret = randomBytes(32)) {
  const pending = await e2ee.createJoinRequest(await e2ee.createIdentity(), name, room, secret);
  return { pending, room, secret };
}

/** Seals `padded` (already padded) as joinSeal.ts would, with node:crypto. */
function sealRaw(padded: Uint8Array, room: string, secret: Uint8Array, version = 2): Uint8Array {
  const key = Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), 'safehouse join request seal v1', 32));
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  const lpRoom = Buffer.alloc(4 + room.length);
  lpRoom.writeUInt32BE(room.length);
  lpRoom.write(room, 4);
  c.setAAD(Buffer.concat([Buffer.of(version), lpRoom]));
  return new Uint8Array(Buffer.concat([Buffer.of(version), nonce, c.update(padded), c.final(), c.getAuthTag()]));
}

function padded(request: Uint8Array, fill = 0): Uint8Array {
  const out = new Uint8Array(JOIN_SEAL_BUCKET).fill(fill);
  new DataView(out.buffer).setUint32(0, request.length, false);
  out.set(request, 4);
  return out;
}

describe('sealed join requests', () => {
  it('round trip: the body opens under the secret to the request, and the member gets the joiner', async () => {
    const { pending, room, secret } = await joiner('bob');
    expect(await openJoinRequest(pending.body, room, secret)).toEqual(pending.request);
    const req = await e2ee.openJoinRequest(pending.body, room, secret);
    expect(req?.name).toBe('bob');
    expect(req?.room).toBe(room);
  });

  it('wrong secret, wrong room, a flipped byte, truncated or extended → undefined', async () => {
    const { pending, room, secret } = await joiner('bob');
    const body = pending.body;
    expect(await openJoinRequest(body, room, randomBytes(32))).toBeUndefined();
    expect(await openJoinRequest(body, randomId(), secret)).toBeUndefined();
    for (const n of [0, 1, 13, body.length - 17, body.length - 1, body.length - JOIN_SEAL_BUCKET])
      expect(await openJoinRequest(body.subarray(0, n), room, secret)).toBeUndefined();
    expect(await openJoinRequest(Uint8Array.of(...body, 0), room, secret)).toBeUndefined();
    expect(await openJoinRequest(Uint8Array.of(...body, ...new Uint8Array(JOIN_SEAL_BUCKET)), room, secret)).toBeUndefined();
    expect(await e2ee.openJoinRequest(body, room, randomBytes(32))).toBeUndefined();
    expect(await e2ee.openJoinRequest(body, randomId(), secret)).toBeUndefined();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: body.length - 1 }), fc.integer({ min: 1, max: 255 }), async (i, x) => {
        const t = body.slice();
        t[i] = (t[i] ?? 0) ^ x;
        expect(await openJoinRequest(t, room, secret)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('one size whatever the name: a 1-character name, 64 bytes, 32 four-byte characters', async () => {
    const sizes = new Set<number>();
    for (const name of ['a', 'é'.repeat(32), '\u{10348}'.repeat(32)]) {
      const { pending, room, secret } = await joiner(name);
      sizes.add(pending.body.length);
      expect((await e2ee.openJoinRequest(pending.body, room, secret))?.name).toBe(name);
    }
    expect([...sizes]).toEqual([JOIN_SEALED_BYTES]);
    expect(JOIN_SEALED_BYTES).toBe(1 + 12 + 1024 + 16);
  });

  it('nothing of the request shows in the body: not the name, the key, the room', async () => {
    const name = 'canary-Zq81xV';
    const { pending, room, secret } = await joiner(name);
    const req = e2ee.parseJoinRequest(pending.request)!;
    const body = Buffer.from(pending.body);
    for (const needle of [Buffer.from(name), Buffer.from(name, 'utf16le'), Buffer.from(req.publicKey), Buffer.from(req.keyPackage.subarray(0, 16)), Buffer.from(room)])
      expect(body.includes(needle)).toBe(false);
    // Two requests of the same joiner look unrelated (a fresh nonce and KeyPackage each time).
    const again = await e2ee.createJoinRequest(await e2ee.createIdentity(), name, room, secret);
    expect(Buffer.from(again.body).subarray(1, 13).equals(body.subarray(1, 13))).toBe(false);
  });

  it('agrees with an independent implementation of the format (node:crypto)', async () => {
    const { pending, room, secret } = await joiner('bob');
    expect(await openJoinRequest(sealRaw(padded(pending.request), room, secret), room, secret)).toEqual(pending.request);
    // The version byte is in the AAD as well as in front: relabelled, it does not open.
    const v3 = sealRaw(padded(pending.request), room, secret, 3);
    expect(await openJoinRequest(v3, room, secret)).toBeUndefined();
    expect(await openJoinRequest(Uint8Array.of(2, ...v3.subarray(1)), room, secret)).toBeUndefined();
  });

  it('refuses bad padding and lengths even when the AEAD checks out', async () => {
    const { pending, room, secret } = await joiner('bob');
    expect(await openJoinRequest(sealRaw(padded(pending.request, 1), room, secret), room, secret)).toBeUndefined();
    const long = padded(pending.request);
    new DataView(long.buffer).setUint32(0, JOIN_SEAL_BUCKET - 3, false);
    expect(await openJoinRequest(sealRaw(long, room, secret), room, secret)).toBeUndefined();
    expect(await openJoinRequest(sealRaw(new Uint8Array(JOIN_SEAL_BUCKET - 1), room, secret), room, secret)).toBeUndefined();
  });

  it('the member side also checks the proof and the room inside: a link holder cannot seal a request for another room or without a proof', async () => {
    const { pending, room, secret } = await joiner('bob');
    const req = e2ee.parseJoinRequest(pending.request)!;
    // Sealed for this room, but the request inside names another (proof made for that room).
    const other = randomId();
    const inner = encodeJoinRequest(other, 'bob', req.keyPackage, await makeProof('join', secret, other, req.keyPackage));
    expect(await e2ee.openJoinRequest(await sealJoinRequest(inner, room, secret), room, secret)).toBeUndefined();
    // Sealed under the secret, with a proof under another one.
    const wrongProof = encodeJoinRequest(room, 'bob', req.keyPackage, await makeProof('join', randomBytes(32), room, req.keyPackage));
    expect(await e2ee.openJoinRequest(await sealJoinRequest(wrongProof, room, secret), room, secret)).toBeUndefined();
    // Garbage that opens: not a request.
    expect(await e2ee.openJoinRequest(await sealJoinRequest(randomBytes(100), room, secret), room, secret)).toBeUndefined();
  });

  it('wrong-typed inputs: open returns undefined and never throws; seal throws a TypeError', async () => {
    const { pending, room, secret } = await joiner('bob');
    const bad: unknown[][] = [
      [undefined, room, secret], [null, room, secret], ['x', room, secret], [{}, room, secret],
      [pending.body, undefined, secret], [pending.body, 1, secret],
      [pending.body, room, undefined], [pending.body, room, new Uint8Array(16)], [pending.body, room, 'secret'],
    ];
    for (const [b, r, s] of bad) {
      expect(await openJoinRequest(b as Uint8Array, r as string, s as Uint8Array)).toBeUndefined();
      expect(await e2ee.openJoinRequest(b as Uint8Array, r as string, s as Uint8Array)).toBeUndefined();
    }
    await expect(sealJoinRequest(pending.request, room, new Uint8Array(31))).rejects.toThrow(/"secret" expected Uint8Array of length 32, got length=31/);
    await expect(sealJoinRequest('x' as unknown as Uint8Array, room, secret)).rejects.toThrow(TypeError);
    await expect(sealJoinRequest(new Uint8Array(9000), room, secret)).rejects.toThrow(RangeError);
  });
});
