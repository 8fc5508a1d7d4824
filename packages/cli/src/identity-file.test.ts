/**
 * `--identity FILE`: created once (mode 0600, never overwritten), reopened with the same
 * fingerprint, and a wrong passphrase is E_IDENTITY_LOCKED.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createE2ee } from '@safehouse/core/e2ee';
import { afterAll, describe, expect, it } from 'vitest';
import { createIdentityFile, identityExists, openIdentity, readPassphraseFile } from './identity-file.js';

const dir = await mkdtemp(join(tmpdir(), 'safehouse-id-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('identity files', () => {
  it('keeps the fingerprint across runs; a wrong passphrase is E_IDENTITY_LOCKED', async () => {
    const path = join(dir, 'me.id');
    expect(await identityExists(path)).toBe(false);
    const made = await createIdentityFile(path, 'correct horse', createE2ee());
    expect(await identityExists(path)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await openIdentity(path, 'correct horse');
    expect(again.fingerprint).toEqual(made.fingerprint);
    await expect(openIdentity(path, 'Correct horse')).rejects.toMatchObject({ code: 'E_IDENTITY_LOCKED' });
    await expect(createIdentityFile(path, 'other', createE2ee())).rejects.toMatchObject({ code: 'E_USAGE' });
  });

  it('reads the first line of a passphrase file; refuses an empty one and a directory as identity', async () => {
    const pf = join(dir, 'pass');
    await writeFile(pf, 'line one\nline two\n');
    expect(await readPassphraseFile(pf)).toBe('line one');
    await writeFile(pf, '\n');
    await expect(readPassphraseFile(pf)).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(readPassphraseFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(identityExists(dir)).rejects.toMatchObject({ code: 'E_USAGE' });
    const junk = join(dir, 'junk');
    await writeFile(junk, 'not an identity');
    await expect(openIdentity(junk, 'x')).rejects.toMatchObject({ code: 'E_IDENTITY_LOCKED' });
  });
});
