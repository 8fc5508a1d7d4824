/**
 * Our cipher suite 1 implementation (WebCrypto for HPKE, Ed25519 and AES-GCM; @noble/hashes for
 * SHA-256, HMAC and HKDF) must give exactly the bytes of ts-mls's all-WebCrypto default.
 */
import fc from 'fast-check';
import {
  type CiphersuiteImpl,
  createApplicationMessage,
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  generateKeyPackage,
  joinGroup,
  processPrivateMessage,
} from 'ts-mls';
import { beforeAll, describe, expect, it } from 'vitest';
import { basicCredential } from './credential.js';
import { clientConfig, loadSuite } from './suite.js';

let ours: CiphersuiteImpl;
let webcrypto: CiphersuiteImpl;
beforeAll(async () => {
  ours = await loadSuite();
  webcrypto = await loadSuite({ webCryptoKdf: true });
});

const bytes = (max = 100) => fc.uint8Array({ maxLength: max });

describe('nobleSuiteIsInterchangeable', () => {
  // MLS salts are empty or one hash long (RFC 9420 §8); @hpke/core accepts only those.
  it('HKDF extract/expand, SHA-256 and HMAC agree with WebCrypto', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 32, maxLength: 32 })),
        bytes(),
        bytes(),
        fc.integer({ min: 1, max: 255 }),
        async (salt, ikm, info, len) => {
          const prk = await ours.kdf.extract(salt, ikm);
          expect(prk).toEqual(await webcrypto.kdf.extract(salt, ikm));
          expect(await ours.kdf.expand(prk, info, len)).toEqual(await webcrypto.kdf.expand(prk, info, len));
          expect(await ours.hash.digest(ikm)).toEqual(await webcrypto.hash.digest(ikm));
          const mac = await ours.hash.mac(prk, info);
          expect(mac).toEqual(await webcrypto.hash.mac(prk, info));
          expect(await ours.hash.verifyMac(prk, mac, info)).toBe(true);
          expect(await webcrypto.hash.verifyMac(prk, mac, info)).toBe(true);
          const bad = mac.slice();
          bad[0]! ^= 1;
          expect(await ours.hash.verifyMac(prk, bad, info)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a member on each implementation share a group (commit and messages both ways)', async () => {
    const enc = new TextEncoder();
    const ka = await generateKeyPackage(basicCredential('a'), defaultCapabilities(), defaultLifetime, [], ours);
    const kb = await generateKeyPackage(basicCredential('b'), defaultCapabilities(), defaultLifetime, [], webcrypto);
    const a0 = await createGroup(enc.encode('g'), ka.publicPackage, ka.privatePackage, [], ours, clientConfig());
    const add = await createCommit(
      { state: a0, cipherSuite: ours },
      { extraProposals: [{ proposalType: 'add', add: { keyPackage: kb.publicPackage } }], ratchetTreeExtension: true },
    );
    let a = add.newState;
    let b = await joinGroup(
      add.welcome!,
      kb.publicPackage,
      kb.privatePackage,
      emptyPskIndex,
      webcrypto,
      undefined,
      undefined,
      clientConfig(),
    );
    expect(b.keySchedule.epochAuthenticator).toEqual(a.keySchedule.epochAuthenticator);
    const upd = await createCommit({ state: b, cipherSuite: webcrypto });
    b = upd.newState;
    if (upd.commit.wireformat !== 'mls_private_message') throw new Error('expected a PrivateMessage');
    const r = await processPrivateMessage(a, upd.commit.privateMessage, emptyPskIndex, ours);
    a = r.newState;
    expect(a.keySchedule.epochAuthenticator).toEqual(b.keySchedule.epochAuthenticator);
    const m = await createApplicationMessage(a, enc.encode('hi'), ours);
    const got = await processPrivateMessage(b, m.privateMessage, emptyPskIndex, webcrypto);
    expect(got.kind === 'applicationMessage' && new TextDecoder().decode(got.message)).toBe('hi');
  });
});
