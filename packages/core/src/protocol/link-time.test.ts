/**
 * The invite link's `t` field: Roughtime servers chosen by the inviter (air-gapped rooms).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId, toBase64Url } from './ids.js';
import { formatInvite, parseInvite } from './link.js';
import { decodeTimeServers, encodeTimeServers, MAX_LINK_TIME_SERVERS, type TimeServerSpec } from './link-time.js';

const base = 'http://127.0.0.1:8090/AbCdEfGhIjKlMnOpQrStUv/';
const room = { id: randomId(), secret: randomBytes(32), inviter: randomBytes(32) };
const servers: TimeServerSpec[] = [
  { host: '10.0.0.2', port: 2002, publicKey: randomBytes(32) },
  { host: 'time.lan', port: 2003, publicKey: randomBytes(32) },
  { host: '::1', port: 2004, publicKey: randomBytes(32) },
];

describe('invite link t= (Roughtime servers)', () => {
  it('roundTripsTimeServersInARoomLink', () => {
    const link = formatInvite(base, room, { timeServers: servers });
    expect(link).toMatch(/&t=[A-Za-z0-9_-]+$/);
    const r = parseInvite(link);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.invite.timeServers?.map((s) => [s.host, s.port, toBase64Url(s.publicKey)])).toEqual(
      servers.map((s) => [s.host, s.port, toBase64Url(s.publicKey)]),
    );
  });

  it('isCompact: 35 bytes plus the host per server', () => {
    const t = encodeTimeServers([servers[0]!]);
    expect(t.length).toBe(Math.ceil(((35 + 8) * 4) / 3));
  });

  it('aLinkWithoutTHasNoTimeServers', () => {
    const r = parseInvite(formatInvite(base, room));
    expect(r.ok && r.invite.timeServers).toBeUndefined();
  });

  it('refusesMalformedT', () => {
    const good = encodeTimeServers(servers);
    const bytes = Buffer.from(good, 'base64url');
    const cases = [
      '', // empty
      '!!!', // not base64url
      Buffer.from(bytes.subarray(0, bytes.length - 1)).toString('base64url'), // truncated key
      Buffer.from([0, ...bytes]).toString('base64url'), // zero-length host
      Buffer.concat([Buffer.from([3, 0x61, 0x20, 0x62, 0, 1]), Buffer.alloc(32)]).toString('base64url'), // space in host
      Buffer.concat([Buffer.from([1, 0x61, 0, 0]), Buffer.alloc(32)]).toString('base64url'), // port 0
      encodeTimeServers([servers[0]!]).repeat(1) + 'A', // trailing garbage
    ];
    for (const t of cases) {
      const r = parseInvite(`${formatInvite(base, room)}&t=${t}`);
      expect(r.ok, `t=${t}`).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/Roughtime servers in the link/);
    }
    const nine = Array.from({ length: MAX_LINK_TIME_SERVERS + 1 }, () => servers[0]!);
    expect(() => encodeTimeServers(nine)).toThrow(TypeError);
    const many = Buffer.concat(nine.map(() => Buffer.from(encodeTimeServers([servers[0]!]), 'base64url'))).toString('base64url');
    expect(decodeTimeServers(many)).toBeUndefined();
  });

  it('rejectsWrongTypedSpecsWhenEncoding', () => {
    const bad = [
      { host: '', port: 1, publicKey: randomBytes(32) },
      { host: 'a b', port: 1, publicKey: randomBytes(32) },
      { host: 'a', port: 0, publicKey: randomBytes(32) },
      { host: 'a', port: 65536, publicKey: randomBytes(32) },
      { host: 'a', port: 1.5, publicKey: randomBytes(32) },
      { host: 'a', port: 1, publicKey: randomBytes(31) },
      { host: 'a', port: 1, publicKey: 'key' as unknown as Uint8Array },
    ];
    for (const s of bad) expect(() => encodeTimeServers([s]), JSON.stringify(s)).toThrow(TypeError);
    expect(() => encodeTimeServers([])).toThrow(TypeError);
  });

  it('roundTripsAnyValidList (property)', () => {
    const spec = fc.record({
      host: fc.stringMatching(/^[A-Za-z0-9.:-]{1,40}$/),
      port: fc.integer({ min: 1, max: 65535 }),
      publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: MAX_LINK_TIME_SERVERS }), (list) => {
        const back = decodeTimeServers(encodeTimeServers(list));
        expect(back?.map((s) => [s.host, s.port, [...s.publicKey]])).toEqual(list.map((s) => [s.host, s.port, [...s.publicKey]]));
      }),
    );
  });
});
