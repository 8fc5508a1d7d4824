/**
 * `--identity FILE`: the device's identity kept across runs, encrypted under a passphrase
 * (core/e2ee identity files: scrypt + AES-256-GCM), so a member keeps their fingerprint and
 * others' pins stay valid. Without it nothing is written anywhere.
 *
 * The passphrase is never a command-line value (other users see process arguments): it is asked
 * on the terminal without echo, or read from `--identity-passphrase-file FILE` (its first line),
 * for scripts. A wrong one is E_IDENTITY_LOCKED, never a crash.
 */
import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import type { E2ee, Identity } from '@safehouse/core/e2ee';
import { exportIdentity, importIdentity } from '@safehouse/core/e2ee';
import { UsageError } from '@safehouse/core/protocol';
import { readSecretFile } from './secrets.js';

/** Bytes an identity file may have (it holds ~100): anything larger is not one. */
const MAX_FILE = 4096;

function describe(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EACCES'
      ? 'permission denied'
      : typeof code === 'string'
        ? code
        : 'unreadable';
}

/** Whether `path` holds an identity already (false: one is created there). */
export async function identityExists(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new UsageError('E_USAGE', `--identity ${path} is not a file`);
    return true;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as { code?: unknown }).code === 'ENOENT') return false;
    throw new UsageError('E_USAGE', `cannot read the identity file ${path}: ${describe(err)}`);
  }
}

/** The first line of a passphrase file (without its line ending); empty is refused. */
export function readPassphraseFile(path: string): Promise<string> {
  return readSecretFile(path, 'passphrase');
}

/** Opens an existing identity file. Throws E_IDENTITY_LOCKED for a wrong passphrase or a damaged file. */
export async function openIdentity(path: string, passphrase: string): Promise<Identity> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new UsageError('E_USAGE', `cannot read the identity file ${path}: ${describe(err)}`);
  }
  if (bytes.length > MAX_FILE) throw new UsageError('E_USAGE', `${path} is not a Safehouse identity file (too large)`);
  return importIdentity(new Uint8Array(bytes), passphrase);
}

/**
 * Creates a new identity and writes it to `path` (mode 0600, refusing to overwrite a file that
 * appeared meanwhile). The identity used afterwards is re-opened from the file, so its private
 * key is not extractable in this process.
 */
export async function createIdentityFile(path: string, passphrase: string, e2ee: E2ee): Promise<Identity> {
  const fresh = await e2ee.createIdentity({ exportable: true });
  const bytes = await exportIdentity(fresh, passphrase);
  try {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new UsageError('E_USAGE', `cannot write the identity file ${path}: ${describe(err)}`);
  }
  return importIdentity(bytes, passphrase);
}
