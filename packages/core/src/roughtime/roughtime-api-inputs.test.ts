/**
 * Wrong-typed inputs for every public entry point: builders throw a UsageError (E_USAGE) that
 * says what was expected; verifiers and parsers never throw and return a rejection.
 */
import { describe, expect, it } from 'vitest';
import * as rt from './index.js';
import { UsageError } from '../protocol/errors.js';

const JUNK: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  NaN,
  'x',
  {},
  [],
  [1, 2],
  new Uint8Array(0),
  new Uint16Array(4),
  () => 0,
];

async function throwsUsage(f: () => unknown): Promise<void> {
  let caught: unknown;
  try {
    await f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(UsageError);
  expect((caught as UsageError).code).toBe('E_USAGE');
}

describe('builders reject wrong arguments with E_USAGE', () => {
  const cases: [string, () => unknown][] = [
    ['versions: string', () => rt.buildRequest({ versions: 'x' as never })],
    ['versions: empty', () => rt.buildRequest({ versions: [] })],
    ['versions: unknown', () => rt.buildRequest({ versions: [7 as never] })],
    ['versions: repeated', () => rt.buildRequest({ versions: [1, 1] })],
    ['versions: families mixed', () => rt.buildRequest({ versions: [1, rt.RoughtimeVersion.DRAFT_08] })],
    ['versions: Google with others', () => rt.buildRequest({ versions: [0, 1] })],
    ['nonce: 31 bytes', () => rt.buildRequest({ nonce: new Uint8Array(31) })],
    ['nonce: 32 bytes for Google', () => rt.buildRequest({ versions: [0], nonce: new Uint8Array(32) })],
    ['nonce: array', () => rt.buildRequest({ nonce: [1, 2] as never })],
    ['publicKey: 31 bytes', () => rt.buildRequest({ publicKey: new Uint8Array(31) })],
    [
      'publicKey: 31 bytes, version without SRV',
      () => rt.buildRequest({ versions: [rt.RoughtimeVersion.DRAFT_08], publicKey: new Uint8Array(31) }),
    ],
    ['size: below 1,024', () => rt.buildRequest({ size: 1020 })],
    ['size: not whole words', () => rt.buildRequest({ size: 1026 })],
    ['options: null', () => rt.buildRequest(null as never)],
    ['srvValue: string', () => rt.srvValue('key' as never)],
    ['tagValue: 5 characters', () => rt.tagValue('ABCDE')],
    ['tagValue: empty', () => rt.tagValue('')],
    ['encodeMessage: not an array', () => rt.encodeMessage('x' as never)],
    ['framePacket: string', () => rt.framePacket('x' as never)],
    ['ed25519SignerFromSeed: 16 bytes', () => rt.ed25519SignerFromSeed(new Uint8Array(16))],
    ['ed25519PublicKey: null', () => rt.ed25519PublicKey(null as never)],
    [
      'createDelegation: max before min',
      async () => {
        const s = await rt.ed25519SignerFromSeed(new Uint8Array(32));
        return rt.createDelegation({ longTerm: s, onlinePublicKey: s.publicKey, minTimeMs: 10, maxTimeMs: 5 });
      },
    ],
    [
      'createDelegation: fractional time',
      async () => {
        const s = await rt.ed25519SignerFromSeed(new Uint8Array(32));
        return rt.createDelegation({ longTerm: s, onlinePublicKey: s.publicKey, minTimeMs: 0.5, maxTimeMs: 5 });
      },
    ],
    ['signReplies: not an array', () => rt.signReplies('x' as never, {} as never)],
    ['measure: no servers', () => rt.measure([], { query: () => Promise.resolve(new Uint8Array()) })],
    [
      'measure: server without key',
      () => rt.measure([{ name: 'a' } as never], { query: () => Promise.resolve(new Uint8Array()) }),
    ],
    ['measure: no query', () => rt.measure([{ name: 'a', publicKey: new Uint8Array(32) }], {} as never)],
    [
      'measure: quorum above servers',
      () =>
        rt.measure([{ name: 'a', publicKey: new Uint8Array(32) }], {
          query: () => Promise.resolve(new Uint8Array()),
          quorum: 2,
        }),
    ],
    [
      'measure: negative drift',
      () =>
        rt.measure([{ name: 'a', publicKey: new Uint8Array(32) }], {
          query: () => Promise.resolve(new Uint8Array()),
          driftPpm: -1,
        }),
    ],
    ['ProvenClock: negative maxAge', () => new rt.ProvenClock({ maxAgeMs: -1 })],
    ['boundsAt: NaN now', () => rt.boundsAt({ earliestMs: 0, earliestAt: 0, latestMs: 0, latestAt: 0 }, NaN)],
    ['anchorInterval: received before sent', () => rt.anchorInterval({ earliestMs: 0, latestMs: 1 }, 5, 4)],
  ];
  it.each(cases)('%s', async (_name, f) => throwsUsage(f));
});

describe('verifiers and parsers never throw', () => {
  it('verifyReply returns E_USAGE for every junk argument', async () => {
    const request = await rt.buildRequest();
    const good = { request, reply: new Uint8Array(100), publicKey: new Uint8Array(32) };
    for (const junk of JUNK) {
      for (const input of [
        junk,
        { ...good, request: junk },
        { ...good, reply: junk },
        { ...good, publicKey: junk },
        { ...good, maxRadiusSeconds: junk === undefined ? -1 : junk },
      ]) {
        const r = await rt.verifyReply(input as never);
        if (input === good) continue;
        expect(r.ok ? 'ok' : r.code).toMatch(/^E_(USAGE|ROUGHTIME_\w+)$/);
      }
    }
    const mismatched = await rt.verifyReply({ ...good, request: { ...request, nonce: new Uint8Array(64) } });
    expect(mismatched.ok ? 'ok' : mismatched.code).toBe('E_USAGE');
  });

  it.each(JUNK.map((j) => [j]))('parsers on %o', async (junk) => {
    const code = (r: { ok: boolean; code?: string }): string => (r.ok ? 'ok' : r.code!);
    expect(code(rt.parseMessage(junk as never))).toMatch(/^E_/);
    expect(code(rt.unframePacket(junk as never))).toMatch(/^E_/);
    expect(code(rt.parsePacket(junk as never, true))).toMatch(/^E_/);
    expect(code(rt.parsePacket(junk as never, false))).toMatch(/^E_/);
    expect(code(rt.parseRequest(junk as never))).toMatch(/^E_/);
    expect(code(await rt.checkMalfeasanceReport(junk))).toMatch(/^E_/);
    expect(await rt.verifyEd25519(junk as never, new Uint8Array(0), new Uint8Array(64))).toBe(false);
    expect(await rt.verifyEd25519(new Uint8Array(32), junk as never, new Uint8Array(64))).toBe(false);
    expect(rt.isFramed(junk as never)).toBe(false);
    expect(rt.isSupportedVersion(junk)).toBe(junk === 0); // 0 stands for Google's protocol
  });

  it('measure reports a transport that resolves with junk as unreachable', async () => {
    const res = await rt.measure([{ name: 'a', publicKey: new Uint8Array(32).fill(1) }], {
      query: () => Promise.resolve('not bytes' as never),
      now: () => 0,
    });
    expect(res.links[0]!.outcome.kind).toBe('unreachable');
    expect(res.ok ? 'ok' : res.code).toBe('E_ROUGHTIME_NO_QUORUM');
  });
});
