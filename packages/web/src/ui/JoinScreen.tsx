/**
 * The first screen a link opens: choose a name, and go. What the link holds (the room, the
 * invite secret) stays in this page; the room name comes from the inviter and is shown as text.
 * An identity saved on an earlier visit can be loaded here; by default a new one is made and
 * nothing is stored.
 */
import { useState } from 'preact/hooks';
import type { Identity } from '@safehouse/core/e2ee';
import { loadIdentity } from '../identity-file.js';
import { checkName } from '../session.js';
import { shown } from './text.js';

export type JoinChoice = { name: string; identity?: Identity; exportable: boolean; password?: string };

/** SHA-256 as browsers show it in certificate details: upper-case hex pairs joined by colons. */
export function certHex(fp: Uint8Array): string {
  return [...fp].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

type Props = { roomName: string | undefined; hasRoom: boolean; certFingerprint: Uint8Array | undefined; onJoin: (c: JoinChoice) => Promise<void> };

export function JoinScreen({ roomName, hasRoom, certFingerprint, onJoin }: Props) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [exportable, setExportable] = useState(false);
  const [file, setFile] = useState<File>();
  const [passphrase, setPassphrase] = useState('');
  const [password, setPassword] = useState('');

  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = checkName(name.trim());
    if (problem) return setError(`That name cannot be used: ${problem}.`);
    setBusy(true);
    setError(undefined);
    try {
      let identity: Identity | undefined;
      if (file) {
        const loaded = await loadIdentity(file, passphrase);
        if (!loaded.ok) return setError(loaded.message);
        identity = loaded.identity;
      }
      await onJoin({ name: name.trim(), exportable, ...(identity ? { identity } : {}), ...(password ? { password } : {}) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="join">
      <h1>Safehouse</h1>
      <p class="lead">
        {hasRoom ? (
          <>
            You are invited to <strong>{shown(roomName ?? 'a private room')}</strong>.
          </>
        ) : (
          'Start a private room. You will get a link to invite others.'
        )}
      </p>
      {certFingerprint && (
        <div class="cert-note">
          <p>
            This link pins the server's certificate. A page cannot read the certificate itself: check that the SHA-256 fingerprint your browser shows
            for this site (the padlock or the site information, then the certificate) is
          </p>
          <p class="fingerprint">{certHex(certFingerprint)}</p>
          <p>If it differs, close this page: someone is between you and the server.</p>
        </div>
      )}
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'join-error' : undefined}>
        <label for="name">Name</label>
        <input
          id="name"
          name="name"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          maxLength={32}
          required
          autoFocus
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <p class="hint">1–32 letters, digits, _ - or . — others in the room see it.</p>
        {error && (
          <p id="join-error" class="error" role="alert">
            {error}
          </p>
        )}
        <details>
          <summary>Options (saved identity, server password)</summary>
          <label class="check">
            <input type="checkbox" checked={exportable} disabled={file !== undefined} onChange={(e) => setExportable(e.currentTarget.checked)} />
            Make an identity I can save (to keep my fingerprint on a later visit)
          </label>
          <label for="identity-file">Load a saved identity</label>
          <input id="identity-file" type="file" accept=".shid,application/octet-stream" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
          {file && (
            <>
              <label for="identity-passphrase">Passphrase of the identity file</label>
              <input id="identity-passphrase" type="password" autocomplete="off" value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} />
            </>
          )}
          <label for="server-password">Server password (only if the operator gave you one)</label>
          <input id="server-password" type="password" autocomplete="off" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </details>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Making keys…' : hasRoom ? 'Join' : 'Create room'}
        </button>
      </form>
      <p class="small">
        Messages are end-to-end encrypted: the server relays them but cannot read them. Keys are made in this browser and kept in this tab only.
      </p>
    </main>
  );
}
