/**
 * The server password (`safehouse serve --password-file`), as it travels (docs/security.md).
 *
 * A browser can set only one header of a WebSocket handshake, `Sec-WebSocket-Protocol`, so the
 * password goes there as a subprotocol `safehouse.<token>`, where
 *
 *   token = base64url(PBKDF2-HMAC-SHA256(password, salt = "safehouse-password-v1" ‖ base path,
 *                                        100,000 iterations, 32 bytes))
 *
 * The token is a bearer secret: anyone who sees a handshake can replay it. That is acceptable only
 * because the handshake never travels in the clear beyond this machine: over TLS (`--tls-*`, or a
 * TLS reverse proxy), over an SSH tunnel, or on loopback. What PBKDF2 buys is that a captured
 * token does not give the password away cheaply (people reuse passwords), and the salt binds it to
 * one server's base path. The server compares HMACs of the header in constant time and never logs it.
 */
import { toBase64Url } from './ids.js';

export const PASSWORD_SUBPROTOCOL_PREFIX = 'safehouse.';
export const PASSWORD_KDF_ITERATIONS = 100_000;
const SALT_LABEL = 'safehouse-password-v1';

/** The token for `password` on the server whose base path is `basePath` (e.g. `/a1b2c3`, no trailing slash). */
export async function passwordToken(password: string, basePath: string): Promise<string> {
  if (typeof password !== 'string' || password.length === 0)
    throw new TypeError('"password" expected a non-empty string');
  if (typeof basePath !== 'string') throw new TypeError('"basePath" expected a string');
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(password.normalize('NFC')), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const salt = enc.encode(`${SALT_LABEL}${basePath.replace(/\/$/, '')}`);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PASSWORD_KDF_ITERATIONS },
    key,
    256,
  );
  return toBase64Url(new Uint8Array(bits));
}

/** The `Sec-WebSocket-Protocol` value a client sends for `password`. */
export async function passwordSubprotocol(password: string, basePath: string): Promise<string> {
  return PASSWORD_SUBPROTOCOL_PREFIX + (await passwordToken(password, basePath));
}
