/**
 * TLS for the gate (docs/security.md, THREATS E.25/E.26): a given certificate and key, or a
 * self-signed certificate generated in memory at start (never written to disk). Clients pin a
 * self-signed certificate by its SHA-256 fingerprint, which the invite link carries (`c=`).
 *
 * TLS 1.3 only: the server refuses 1.2 and older (its cipher suites are all AEAD).
 */
import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { UsageError } from '@safehouse/core/protocol';

export type TlsMaterial = {
  cert: string;
  key: string;
  /** SHA-256 of the certificate (DER): what a link's `c=` pins. */
  fingerprint: Uint8Array;
};

/** The options node:tls gets: TLS 1.3 only. */
export const TLS_MIN_VERSION = 'TLSv1.3';

export function certificateFingerprint(certPem: string): Uint8Array {
  const der = new X509Certificate(certPem).raw;
  return new Uint8Array(createHash('sha256').update(der).digest());
}

/** Reads a certificate (PEM, the leaf first) and its private key; checks that they belong together. */
export async function loadTls(certFile: string, keyFile: string): Promise<TlsMaterial> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (cause) {
    throw new UsageError(
      'E_TLS_CONFIG',
      `cannot read the TLS certificate or key (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause },
    );
  }
  try {
    const { createPrivateKey } = await import('node:crypto');
    const leaf = new X509Certificate(cert);
    if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
    return { cert, key, fingerprint: certificateFingerprint(cert) };
  } catch (cause) {
    throw new UsageError(
      'E_TLS_CONFIG',
      'the TLS certificate and key are not a PEM certificate and its own private key',
      { cause },
    );
  }
}

/**
 * A self-signed ECDSA P-256 certificate for `host` (an IP address or a name; loopback names are
 * added), valid from an hour ago for 30 days. The key lives only in this process's memory.
 */
export async function selfSignedTls(host: string): Promise<TlsMaterial> {
  const crypto = webcrypto;
  x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const names: x509.JsonGeneralName[] = [{ type: isIP(bare) ? 'ip' : 'dns', value: bare }];
  if (bare !== '127.0.0.1') names.push({ type: 'ip', value: '127.0.0.1' });
  names.push({ type: 'dns', value: 'localhost' });
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: 'CN=safehouse',
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 30 * 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names),
      new x509.BasicConstraintsExtension(false, undefined, true),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = x509.PemConverter.encode(pkcs8.buffer, 'PRIVATE KEY');
  pkcs8.fill(0);
  const pem = cert.toString('pem');
  return { cert: pem, key, fingerprint: certificateFingerprint(pem) };
}
