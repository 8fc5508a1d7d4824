/**
 * TLS at the gate (tls.ts, THREATS E.25): a certificate generated in memory, served TLS 1.3 only;
 * its fingerprint is what a link pins. The 404 is the same over TLS.
 */
import { connect } from 'node:tls';
import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedTls, loadTls, type TlsMaterial } from './tls.js';
import { startTestServer, TestClient, within, type TestServer } from './testing/harness.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let tls: TlsMaterial;
let server: TestServer;

beforeAll(async () => {
  tls = await selfSignedTls('127.0.0.1');
  server = await startTestServer({}, { tls: { cert: tls.cert, key: tls.key } });
});
afterAll(async () => {
  await server.close();
});

function handshake(options: {
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}): Promise<{ ok: boolean; version?: string | null; der?: Buffer }> {
  return within(
    new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false, ...options });
      s.once('secureConnect', () => {
        const r = { ok: true, version: s.getProtocol(), der: s.getPeerCertificate().raw };
        s.destroy();
        resolve(r);
      });
      s.once('error', () => resolve({ ok: false }));
    }),
    5_000,
    'a TLS handshake',
  );
}

describe('TLS, self-signed', () => {
  it('serves https, and the fingerprint is SHA-256 of the certificate it presents', async () => {
    expect(server.url.startsWith('https://127.0.0.1:')).toBe(true);
    const r = await handshake({});
    expect(r.ok).toBe(true);
    expect(r.version).toBe('TLSv1.3');
    expect(createHash('sha256').update(r.der!).digest().equals(Buffer.from(tls.fingerprint))).toBe(true);
    const cert = new X509Certificate(tls.cert);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
  });

  it('refuses TLS 1.2 and older', async () => {
    expect((await handshake({ maxVersion: 'TLSv1.2' })).ok).toBe(false);
  });

  it('a WebSocket client that trusts exactly this certificate connects over wss://', async () => {
    const client = await TestClient.connect(server, { ca: tls.cert }); // the certificate names 127.0.0.1
    client.close();
  });

  it('each generated certificate is new (a restart is visible to pinned clients)', async () => {
    const other = await selfSignedTls('127.0.0.1');
    expect(Buffer.from(other.fingerprint).equals(Buffer.from(tls.fingerprint))).toBe(false);
  });

  it('loadTls reads a matching certificate and key, and refuses a mismatched pair with E_TLS_CONFIG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'safehouse-tls-'));
    try {
      const other = await selfSignedTls('localhost');
      await writeFile(join(dir, 'c.pem'), tls.cert);
      await writeFile(join(dir, 'k.pem'), tls.key);
      await writeFile(join(dir, 'k2.pem'), other.key);
      const loaded = await loadTls(join(dir, 'c.pem'), join(dir, 'k.pem'));
      expect(Buffer.from(loaded.fingerprint).equals(Buffer.from(tls.fingerprint))).toBe(true);
      await expect(loadTls(join(dir, 'c.pem'), join(dir, 'k2.pem'))).rejects.toMatchObject({ code: 'E_TLS_CONFIG' });
      await expect(loadTls(join(dir, 'none.pem'), join(dir, 'k.pem'))).rejects.toMatchObject({ code: 'E_TLS_CONFIG' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
