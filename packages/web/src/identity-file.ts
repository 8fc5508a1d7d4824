/**
 * Saving and loading the identity file (core/e2ee identityExport: PBKDF2 + AES-GCM under a
 * passphrase). Only on the user's request: by default nothing of this visit is stored.
 */
import { importIdentity, type Identity } from '@safehouse/core/e2ee';

export const IDENTITY_FILE_NAME = 'safehouse-identity.shid';
/** A passphrase shorter than this is refused: the file may leave the device. */
export const MIN_PASSPHRASE = 10;

export function checkPassphrase(passphrase: string, again: string): string | undefined {
  if ([...passphrase].length < MIN_PASSPHRASE) return `Use a passphrase of at least ${MIN_PASSPHRASE} characters.`;
  if (passphrase !== again) return 'The two passphrases differ.';
  return undefined;
}

/** Offers `bytes` as a download; the object URL is revoked at once after the click. */
export function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Opens an identity file; a wrong passphrase and a damaged file give the same sentence. */
export async function loadIdentity(file: File, passphrase: string): Promise<{ ok: true; identity: Identity } | { ok: false; message: string }> {
  if (file.size > 4096) return { ok: false, message: 'That is not a Safehouse identity file.' };
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    return { ok: true, identity: await importIdentity(bytes, passphrase) };
  } catch {
    return { ok: false, message: 'The identity could not be opened: wrong passphrase, or not an identity file.' };
  }
}
