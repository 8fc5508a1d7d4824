import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomId } from '../protocol/ids.js';
import { DeviceIdentity } from './identity.js';
import { createE2ee, exportIdentity, importIdentity } from './index.js';

/** The cheapest cost a file may ask for (2^14: 16 MiB), to keep the tests quick. */
const fast = { logN: 14 };

describe('device identities', () => {
  it('Ed25519 public key, fingerprint = SHA-256(public key), non-extractable by default', async () => {
    const id = (await createE2ee().createIdentity()) as DeviceIdentity;
    expect(id.publicKey.length).toBe(32);
    expect(id.fingerprint).toEqual(new Uint8Array(await crypto.subtle.digest('SHA-256', id.publicKey)));
    await expect(exportIdentity(id, 'pw', fast)).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('a disposed identity can no longer be used', async () => {
    const e2ee = createE2ee();
    const id = (await e2ee.createIdentity()) as DeviceIdentity;
    const s = await e2ee.createGroup(id, 'a', randomId());
    id.dispose();
    await expect(s.encrypt(new Uint8Array(1), { room: s.room, id: randomId() })).rejects.toMatchObject({
      code: 'E_USAGE',
    });
    await expect(e2ee.createGroup(id, 'a', randomId())).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});

describe('identity files (passphrase-encrypted)', () => {
  it('round-trip: same key, and it still signs for MLS', async () => {
    const e2ee = createE2ee();
    const id = await e2ee.createIdentity({ exportable: true });
    const file = await exportIdentity(id, 'correct horse', fast);
    const back = await importIdentity(file, 'correct horse');
    expect(back.publicKey).toEqual(id.publicKey);
    expect(back.fingerprint).toEqual(id.fingerprint);
    const room = randomId();
    const s = await e2ee.createGroup(back, 'alice', room);
    expect(s.members()[0]?.fingerprint).toEqual(id.fingerprint);
    // Imported without { exportable: true }: cannot be exported again.
    await expect(exportIdentity(back, 'x', fast)).rejects.toMatchObject({ code: 'E_USAGE' });
    const again = await importIdentity(file, 'correct horse', { exportable: true });
    expect(await exportIdentity(again, 'new passphrase', fast)).toBeInstanceOf(Uint8Array);
  });

  it('wrong passphrase and damaged files are one error: E_IDENTITY_LOCKED', async () => {
    const id = await createE2ee().createIdentity({ exportable: true });
    const file = await exportIdentity(id, 'pw', fast);
    await expect(importIdentity(file, 'PW')).rejects.toMatchObject({ code: 'E_IDENTITY_LOCKED' });
    await fc.assert(
      // (Bytes 5-7, the scrypt cost, are left out here: a flip there may ask for a costly but
      // allowed setting; they are covered below.)
      fc.asyncProperty(
        fc.integer({ min: 0, max: file.length - 1 }).filter((i) => i < 5 || i > 7),
        fc.integer({ min: 1, max: 255 }),
        async (i, x) => {
          const t = file.slice();
          t[i]! ^= x;
          await expect(importIdentity(t, 'pw')).rejects.toMatchObject({ code: 'E_IDENTITY_LOCKED' });
        },
      ),
      { numRuns: 8 },
    );
    for (const bad of [new Uint8Array(0), file.slice(0, 40), undefined]) {
      await expect(importIdentity(bad as unknown as Uint8Array, 'pw')).rejects.toMatchObject({
        code: 'E_IDENTITY_LOCKED',
      });
    }
  });

  it('version 2 header: scrypt cost in the clear, authenticated', async () => {
    const id = await createE2ee().createIdentity({ exportable: true });
    const file = await exportIdentity(id, 'pw', fast);
    expect([...file.slice(0, 8)]).toEqual([0x53, 0x48, 0x49, 0x44, 2, 14, 8, 1]);
    // A cheaper, a costlier (still allowed) or an unbounded cost, or another version: all refused.
    for (const [i, v] of [
      [4, 1],
      [5, 13],
      [5, 15],
      [5, 21],
      [5, 255],
      [6, 16],
      [6, 0],
      [7, 2],
      [7, 0],
    ] as const) {
      const t = file.slice();
      t[i] = v;
      await expect(importIdentity(t, 'pw')).rejects.toMatchObject({ code: 'E_IDENTITY_LOCKED' });
    }
  });

  it('defaults to scrypt N = 2^17, r = 8, p = 1', async () => {
    const id = await createE2ee().createIdentity({ exportable: true });
    const file = await exportIdentity(id, 'pw');
    expect([...file.slice(4, 8)]).toEqual([2, 17, 8, 1]);
    expect((await importIdentity(file, 'pw')).publicKey).toEqual(id.publicKey);
  });

  it('refuses weak settings', async () => {
    const id = await createE2ee().createIdentity({ exportable: true });
    await expect(exportIdentity(id, '', fast)).rejects.toMatchObject({ code: 'E_USAGE' });
    for (const logN of [10, 13, 21, 14.5, Number.NaN]) {
      await expect(exportIdentity(id, 'pw', { logN })).rejects.toMatchObject({ code: 'E_USAGE' });
    }
  });
});
