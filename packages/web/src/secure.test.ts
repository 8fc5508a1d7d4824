/** What the page says when it cannot make keys (secure.ts), and the passphrase rule for identity files. */
import { describe, expect, it } from 'vitest';
import { checkPassphrase, MIN_PASSPHRASE } from './identity-file.js';
import { checkCrypto, loopbackLink, tunnelCommand } from './secure.js';

const at = (hostname: string, port = '8090', protocol = 'http:') => ({ hostname, port, protocol });

describe('secure context', () => {
  it('plain HTTP on a network address: no WebCrypto, so the page explains instead of running', async () => {
    await expect(checkCrypto({ isSecureContext: false, crypto: {}, location: at('192.0.2.7') })).resolves.toEqual({
      ok: false,
      reason: 'insecure-context',
      host: '192.0.2.7',
      port: '8090',
    });
    await expect(checkCrypto({ isSecureContext: true, location: at('h', '', 'https:') })).resolves.toMatchObject({ ok: false, port: '443' });
  });

  it('a secure context with Ed25519 is fine (Node has it, as current browsers do)', async () => {
    await expect(checkCrypto({ isSecureContext: true, crypto: globalThis.crypto, location: at('127.0.0.1') })).resolves.toEqual({ ok: true });
  });

  it('tunnels to the address the page used, and gives the same link on loopback, fragment kept', () => {
    expect(tunnelCommand('192.0.2.7', '8090')).toBe('ssh -N -L 8090:192.0.2.7:8090 YOUR_LOGIN@192.0.2.7');
    expect(tunnelCommand('[fd00::2]', '8090')).toBe('ssh -N -L 8090:[fd00::2]:8090 YOUR_LOGIN@fd00::2');
    expect(loopbackLink('http://192.0.2.7:8090/abc/#r=x&k=y', '8090')).toBe('http://127.0.0.1:8090/abc/#r=x&k=y');
    expect(loopbackLink('not a link', '1')).toBeUndefined();
  });
});

describe('identity file passphrase', () => {
  it(`asks for ${MIN_PASSPHRASE} characters, typed the same twice`, () => {
    expect(checkPassphrase('short', 'short')).toMatch(/at least/);
    expect(checkPassphrase('long enough passphrase', 'long enough passphrase!')).toMatch(/differ/);
    expect(checkPassphrase('long enough passphrase', 'long enough passphrase')).toBeUndefined();
  });
});
