import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from './ids.js';
import { formatInvite, isValidBasePath, parseInvite, relayUrl } from './link.js';

describe('invite links', () => {
  const base = 'http://127.0.0.1:8090/AbCdEfGhIjKlMnOpQrStUv/';

  it('a server link names no room', () => {
    const r = parseInvite(base);
    expect(r).toEqual({ ok: true, invite: { base, ws: relayUrl(base), relays: [{ base, ws: relayUrl(base), address: '127.0.0.1:8090' }] } });
    expect(relayUrl(base)).toBe('ws://127.0.0.1:8090/AbCdEfGhIjKlMnOpQrStUv/ws');
  });

  it('round-trips a room invite with name and certificate pin', () => {
    const room = { id: randomId(), secret: randomBytes(32), inviter: randomBytes(32), name: 'field office ☕' };
    const cert = randomBytes(32);
    const r = parseInvite(formatInvite(base.replace('http', 'https'), room, { certFingerprint: cert }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.invite.ws.startsWith('wss://')).toBe(true);
    expect(r.invite.room?.id).toBe(room.id);
    expect(r.invite.room?.name).toBe(room.name);
    expect([...(r.invite.room?.secret ?? [])]).toEqual([...room.secret]);
    expect([...(r.invite.certFingerprint ?? [])]).toEqual([...cert]);
    expect(r.invite.relays).toEqual([{ base: r.invite.base, ws: r.invite.ws, address: '127.0.0.1:8090', certFingerprint: r.invite.certFingerprint }]);
  });

  it("writes the port a link's host leaves out, from the scheme", () => {
    const at = (link: string): string | undefined => {
      const r = parseInvite(link);
      return r.ok ? r.invite.relays[0]?.address : r.message;
    };
    expect(at('https://chat.example/x/')).toBe('chat.example:443');
    expect(at('http://chat.example/x/')).toBe('chat.example:80');
    expect(at('http://[::1]:8090/x/')).toBe('[::1]:8090');
  });

  it('adds the trailing slash and ignores unknown keys', () => {
    const r = parseInvite('http://localhost:1/a/b#zz=1');
    expect(r.ok && r.invite.base).toBe('http://localhost:1/a/b/');
  });

  const bad: [string, string][] = [
    ['ftp://host/x/', 'form'],
    ['not a link', 'form'],
    [`${base}#r=short&k=x&f=y`, 'room id'],
    [`${base}#r=${randomId()}`, 'secret'],
    [`${base}#r=${randomId()}&k=${'A'.repeat(43)}`, 'fingerprint'],
    [`${base}#c=AAAA`, 'certificate'],
    [`${base}#r=a&r=b`, 'repeats'],
    ['http://h/a%2e%2e/', 'characters'],
    ['http://h/' + 'x'.repeat(3000), 'at most'],
    ['http://user@h/x/', 'host'],
    ['http://h:0/x/', 'host'],
    ['http://h:70000/x/', 'host'],
    ['http://h:/x/', 'host'],
    ['http://::1/x/', 'host'],
    ['http://h\u001b[31m/x/', 'host'],
  ];
  for (const [link, words] of bad) {
    it(`refuses ${link.slice(0, 40)}`, () => {
      const r = parseInvite(link);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toContain(words);
    });
  }

  it('validates base paths', () => {
    expect(isValidBasePath('/chat')).toBe(true);
    expect(isValidBasePath('/a/b-c_d.e~f')).toBe(true);
    for (const p of ['', '/', 'chat', '/a/../b', '/a//b', '/a b', '/a/', '/%2e']) expect(isValidBasePath(p)).toBe(false);
  });
});
