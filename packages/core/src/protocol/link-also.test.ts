/**
 * The invite link's `a` field: other relays of the same cluster (link-also.ts), and what
 * `parseInvite` makes of them (`Invite.relays`, the link's own first).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes, randomId, toBase64Url } from './ids.js';
import { formatInvite, parseInvite, type Invite } from './link.js';
import { decodeAlsoRelays, encodeAlsoRelays, MAX_LINK_ALSO, splitAuthority, type AlsoRelay } from './link-also.js';

const path = '/AbCdEfGhIjKlMnOpQrStUv/';
const base = `http://127.0.0.1:8090${path}`;
const room = { id: randomId(), secret: randomBytes(32), inviter: randomBytes(32) };

function parsed(link: string): Invite {
  const r = parseInvite(link);
  if (!r.ok) throw new Error(r.message);
  return r.invite;
}

/** The `a` field's bytes for one relay, written by hand. */
function entry(flags: number, host: string, port: number, pin?: Uint8Array): number[] {
  return [flags, host.length, ...Array.from(host, (c) => c.charCodeAt(0)), port >>> 8, port & 0xff, ...(pin ?? [])];
}
const HOST_NOT = "relay 1's host is not a DNS name, an IPv4 address or a bracketed IPv6 address";
const b64 = (bytes: number[]): string => toBase64Url(Uint8Array.from(bytes));

describe('invite link a= (other relays of the cluster)', () => {
  it('roundTripsRelaysInOrderAfterTheLinksOwn', () => {
    const pin = randomBytes(32);
    const own = randomBytes(32);
    const link = formatInvite(base.replace('http:', 'https:'), room, {
      certFingerprint: own,
      also: [{ base: `https://relay-b.lan:8443${path}`, certFingerprint: pin }, { base: `http://10.0.0.3:8090${path}` }, { base: `https://[fd00::4]${path}` }],
    });
    expect(link).toMatch(/&c=[A-Za-z0-9_-]+&a=[A-Za-z0-9_-]+$/);
    const invite = parsed(link);
    expect(invite.relays).toEqual([
      { base: `https://127.0.0.1:8090${path}`, ws: `wss://127.0.0.1:8090${path}ws`, address: '127.0.0.1:8090', certFingerprint: own },
      { base: `https://relay-b.lan:8443${path}`, ws: `wss://relay-b.lan:8443${path}ws`, address: 'relay-b.lan:8443', certFingerprint: pin },
      { base: `http://10.0.0.3:8090${path}`, ws: `ws://10.0.0.3:8090${path}ws`, address: '10.0.0.3:8090' },
      { base: `https://[fd00::4]${path}`, ws: `wss://[fd00::4]${path}ws`, address: '[fd00::4]:443' },
    ]);
    // The first is the link's own, as before.
    expect(invite.relays[0]).toMatchObject({ base: invite.base, ws: invite.ws, certFingerprint: invite.certFingerprint });
    // Formatting again from what was parsed gives the same link (a client's invite links keep the list).
    expect(formatInvite(invite.base, invite.room, { certFingerprint: own, also: invite.relays.slice(1) })).toBe(link);
  });

  it('aLinkWithoutANamesOnlyItsOwnRelay', () => {
    expect(parsed(formatInvite(base, room)).relays.map((r) => r.address)).toEqual(['127.0.0.1:8090']);
    expect(formatInvite(base, room, { also: [] })).toBe(formatInvite(base, room));
  });

  it('isCompact: 4 bytes plus the host per relay, 32 more with a pin', () => {
    expect(encodeAlsoRelays([{ tls: false, host: '10.0.0.3', port: 8090 }]).length).toBe(Math.ceil(((4 + 8) * 4) / 3));
    expect(encodeAlsoRelays([{ tls: true, host: '10.0.0.3', port: 8090, certFingerprint: randomBytes(32) }]).length).toBe(Math.ceil(((36 + 8) * 4) / 3));
  });

  it('decodesHandWrittenBytes', () => {
    const pin = randomBytes(32);
    const r = decodeAlsoRelays(b64([...entry(0, 'b.lan', 80), ...entry(3, '[::1]', 443, pin)]));
    expect(r).toEqual({ ok: true, relays: [{ tls: false, host: 'b.lan', port: 80 }, { tls: true, host: '[::1]', port: 443, certFingerprint: pin }] });
  });

  it('refusesMalformedA (each with its own reason)', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty'],
      ['!!!', 'not base64url'],
      [b64([0]), 'relay 1 is cut short'],
      [b64(entry(0, 'b.lan', 80).slice(0, -1)), 'relay 1 is cut short'],
      [b64(entry(3, 'b.lan', 443, randomBytes(31))), 'relay 1 is cut short'],
      [b64([...entry(0, 'b.lan', 80), 0]), 'relay 2 is cut short'], // trailing byte
      [b64(entry(4, 'b.lan', 80)), 'relay 1 has unknown flags 0x04'],
      [b64(entry(0x81, 'b.lan', 80)), 'relay 1 has unknown flags 0x81'],
      [b64(entry(2, 'b.lan', 80, randomBytes(32))), 'relay 1 has a certificate pin but no TLS'],
      [b64(entry(0, '', 80)), HOST_NOT],
      [b64(entry(0, 'a b', 80)), HOST_NOT],
      [b64(entry(0, '::1', 80)), HOST_NOT], // IPv6 without brackets
      [b64(entry(0, '[fe80::1%eth0]', 80)), HOST_NOT], // no zone ids
      [b64(entry(0, 'b.lan:80', 80)), HOST_NOT], // a port in the host
      [b64(entry(0, 'user@b.lan', 80)), HOST_NOT],
      [b64(entry(0, 'b..lan', 80)), HOST_NOT],
      [b64(entry(0, 'b.lan\u001b', 80)), HOST_NOT],
      [b64(entry(0, 'b.lan', 0)), 'relay 1 has port 0'],
      [b64(Array.from({ length: MAX_LINK_ALSO + 1 }, (_, i) => entry(0, `r${i}.lan`, 80)).flat()), `more than ${MAX_LINK_ALSO} relays`],
    ];
    for (const [a, reason] of cases) {
      const r = parseInvite(`${formatInvite(base, room)}&a=${a}`);
      expect(r.ok, `a=${a}`).toBe(false);
      if (!r.ok) expect(r.message).toBe(`the other relays in the link (a) are malformed: ${reason}`);
    }
  });

  it('acceptsEightRelays', () => {
    const eight = Array.from({ length: MAX_LINK_ALSO }, (_, i) => entry(0, `r${i}.lan`, 80)).flat();
    expect(parsed(`${base}#a=${b64(eight)}`).relays).toHaveLength(MAX_LINK_ALSO + 1);
  });

  it('refusesARelayNamedTwiceOrTheLinksOwnHostAgain', () => {
    const twice = b64([...entry(0, 'b.lan', 8090), ...entry(0, 'B.LAN', 8090)]);
    expect(parseInvite(`${base}#a=${twice}`)).toEqual({ ok: false, message: 'the link names the relay B.LAN:8090 twice' });
    expect(parseInvite(`${base}#a=${b64(entry(0, '127.0.0.1', 8090))}`)).toEqual({ ok: false, message: 'the link names the relay 127.0.0.1:8090 twice' });
    // The same host and port under another scheme is another relay (an odd set-up, not a repeat).
    expect(parsed(`${base}#a=${b64(entry(1, '127.0.0.1', 8090))}`).relays).toHaveLength(2);
    // `a` itself twice is a repeated key, refused like any other.
    expect(parseInvite(`${base}#a=${b64(entry(0, 'b.lan', 1))}&a=${b64(entry(0, 'c.lan', 1))}`)).toEqual({ ok: false, message: 'the link repeats "a"' });
  });

  it('rejectsWhatAWellBehavedCallerNeverPassesWhenFormatting', () => {
    const also = (a: unknown): (() => string) => () => formatInvite(base, room, { also: a as Array<{ base: string }> });
    const bad: unknown[] = [
      [{ base: 'http://b.lan/other/' }], // another path
      [{ base: `ftp://b.lan${path}` }],
      [{ base: `http://b.lan:0${path}` }],
      [{ base: `http://u@b.lan${path}` }],
      [{ base: 42 }],
      [null],
      [{ base: base }], // the link's own host
      [{ base: `http://b.lan${path}` }, { base: `http://b.lan:80${path}` }], // the same relay twice
      [{ base: `http://b.lan${path}`, certFingerprint: randomBytes(32) }], // a pin without TLS
      [{ base: `https://b.lan${path}`, certFingerprint: randomBytes(31) }],
      Array.from({ length: MAX_LINK_ALSO + 1 }, (_, i) => ({ base: `http://r${i}.lan${path}` })),
    ];
    for (const a of bad) expect(also(a), JSON.stringify(a)).toThrow(TypeError);
    const wrong: unknown[] = [
      { tls: 'yes', host: 'b', port: 1 },
      { tls: false, host: 'b', port: 1.5 },
      { tls: false, host: 'b', port: 65536 },
      { tls: false, host: '', port: 1 },
      { tls: false, host: 'x'.repeat(254), port: 1 },
    ];
    for (const r of wrong) expect(() => encodeAlsoRelays([r as AlsoRelay]), JSON.stringify(r)).toThrow(TypeError);
    expect(() => encodeAlsoRelays([])).toThrow(TypeError);
  });

  it('splitsAuthorities', () => {
    expect(splitAuthority('h:1', false)).toEqual({ host: 'h', port: 1 });
    expect(splitAuthority('h', true)).toEqual({ host: 'h', port: 443 });
    expect(splitAuthority('[::1]', false)).toEqual({ host: '[::1]', port: 80 });
    expect(splitAuthority('[::ffff:127.0.0.1]:9', false)).toEqual({ host: '[::ffff:127.0.0.1]', port: 9 });
    for (const a of ['', ':80', 'h:', 'h:0', 'h:65536', 'h:123456', '::1', '[::1', 'a@h', 'h:1:2', '[]', '[h]']) expect(splitAuthority(a, false), a).toBeUndefined();
  });

  it('roundTripsAnyValidList (property)', () => {
    const label = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    const host = fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.')),
      fc.ipV4(),
      fc.ipV6().map((a) => `[${a}]`),
    );
    const relay: fc.Arbitrary<AlsoRelay> = fc
      .record({ tls: fc.boolean(), host, port: fc.integer({ min: 1, max: 65535 }), pin: fc.uint8Array({ minLength: 32, maxLength: 32 }), pinned: fc.boolean() })
      .map(({ tls, host, port, pin, pinned }) => ({ tls, host, port, ...(tls && pinned ? { certFingerprint: pin } : {}) }));
    fc.assert(
      fc.property(fc.array(relay, { minLength: 1, maxLength: MAX_LINK_ALSO }), (list) => {
        expect(decodeAlsoRelays(encodeAlsoRelays(list))).toEqual({ ok: true, relays: list });
      }),
    );
  });

  it('aTamperedByteIsRefusedOrReadAsAnotherWellFormedList (property)', () => {
    const good = Buffer.from(encodeAlsoRelays([{ tls: true, host: 'relay-b.lan', port: 8443, certFingerprint: randomBytes(32) }, { tls: false, host: '10.0.0.3', port: 80 }]), 'base64url');
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const bytes = Buffer.from(good);
        bytes[at]! ^= x;
        const r = decodeAlsoRelays(bytes.toString('base64url'));
        if (r.ok) for (const relay of r.relays) expect(() => encodeAlsoRelays([relay])).not.toThrow();
      }),
    );
  });
});
