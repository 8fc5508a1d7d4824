/**
 * `serve --also URL` (serve-also.ts): what an operator may write, what is refused with E_USAGE
 * and why, and what goes into the links (`a`) and the server's `peerOrigins`.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatInvite, parseInvite, toBase64Url } from '@safehouse/core/protocol';
import { alsoForLink, parseAlso } from './serve-also.js';
import { prepareOps } from './serve-ops.js';

const pin = new Uint8Array(createHash('sha256').update('a certificate').digest());
const hex = Buffer.from(pin).toString('hex');

describe('serve --also', () => {
  it('takesOriginsAsABrowserWritesThem', () => {
    expect(parseAlso(['http://10.0.0.2:8090', 'https://Relay-C.example/', 'https://relay-d.example:443', 'http://[fd00::5]:80'])).toEqual([
      { origin: 'http://10.0.0.2:8090' },
      { origin: 'https://relay-c.example' },
      { origin: 'https://relay-d.example' },
      { origin: 'http://[fd00::5]' },
    ]);
    expect(parseAlso([])).toEqual([]);
  });

  it('takesACertificatePinInBase64urlOrHex', () => {
    expect(parseAlso([`https://b.lan:8443#c=${toBase64Url(pin)}`, `https://c.lan:8443/#c=${hex.toUpperCase()}`])).toEqual([
      { origin: 'https://b.lan:8443', certFingerprint: pin },
      { origin: 'https://c.lan:8443', certFingerprint: pin },
    ]);
  });

  it.each<[string, string[], RegExp]>([
    ['a path', ['http://b.lan:8090/base'], /no path/],
    ['no scheme', ['b.lan:8090'], /expects http\(s\):\/\/host/],
    ['a WebSocket URL', ['ws://b.lan:8090'], /expects http\(s\):\/\/host/],
    ['a user', ['http://u@b.lan:8090'], /the host is not/],
    ['port 0', ['http://b.lan:0'], /the host is not/],
    ['a port too large', ['http://b.lan:65536'], /the host is not/],
    ['IPv6 without brackets', ['http://fd00::5:80'], /the host is not/],
    ['a query', ['http://b.lan?x=1'], /expects/],
    ['a pin on plain HTTP', [`http://b.lan#c=${toBase64Url(pin)}`], /needs https/],
    ['a short pin', [`https://b.lan#c=${toBase64Url(pin.subarray(1))}`], /43 base64url characters or 64 hex digits/],
    ['a pin that is not one', ['https://b.lan#c=zz'], /43 base64url characters or 64 hex digits/],
    ['another fragment', ['https://b.lan#x=1'], /expects/],
    ['the same relay twice', ['http://b.lan:80', 'HTTP://B.LAN/'], /names http:\/\/b.lan twice/],
    ['nine relays', Array.from({ length: 9 }, (_, i) => `http://r${i}.lan`), /at most 8 relays/],
  ])('refuses %s (E_USAGE)', (_what, values, message) => {
    expect(() => parseAlso(values)).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringMatching(message) }));
  });

  it('quotesWhatWasGivenInTheError', () => {
    expect(() => parseAlso(['http://b.lan:8090/base'])).toThrow('got "http://b.lan:8090/base"');
  });

  it('namesTheOthersUnderTheLinksPathAndLeavesTheLinksOwnHostOut', () => {
    const also = parseAlso(['http://127.0.0.1:8090', `https://b.lan:8443#c=${hex}`, 'http://c.lan']);
    const base = 'http://127.0.0.1:8090/AbCdEfGhIjKlMnOpQrStUv/';
    const relays = alsoForLink(also, base);
    expect(relays).toEqual([{ base: 'https://b.lan:8443/AbCdEfGhIjKlMnOpQrStUv/', certFingerprint: pin }, { base: 'http://c.lan/AbCdEfGhIjKlMnOpQrStUv/' }]);
    const r = parseInvite(formatInvite(base, undefined, { also: relays }));
    expect(r.ok && r.invite.relays.map((e) => [e.address, e.certFingerprint && toBase64Url(e.certFingerprint)])).toEqual([
      ['127.0.0.1:8090', undefined],
      ['b.lan:8443', toBase64Url(pin)],
      ['c.lan:80', undefined],
    ]);
  });

  it('givesTheServerThePeersOrigins', async () => {
    const p = await prepareOps({ admin: false, also: ['http://b.lan:8090', `https://c.lan:8443#c=${hex}`] }, '127.0.0.1');
    expect(p.server.peerOrigins).toEqual(['http://b.lan:8090', 'https://c.lan:8443']);
    expect(p.also).toHaveLength(2);
    expect((await prepareOps({ admin: false }, '127.0.0.1')).server.peerOrigins).toBeUndefined();
  });
});
