/**
 * Modal dialogs (native <dialog>: focus stays inside, Escape closes): the safety number and its
 * QR code, the invite link and its QR code, the room code, saving the identity, /help.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { checkPassphrase, download, IDENTITY_FILE_NAME } from '../identity-file.js';
import type { Dialog } from '../state.js';
import { Qr } from './Qr.js';
import { shown } from './text.js';

function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (el && !el.open) el.showModal();
    return () => el?.close();
  }, []);
  return (
    <dialog ref={ref} class="modal" aria-label={title} onClose={onClose}>
      <h2>{title}</h2>
      {children}
      <form method="dialog" class="modal-actions">
        <button type="submit">Close</button>
      </form>
    </dialog>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="primary"
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => setDone(true),
          () => setDone(false),
        );
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

function IdentityExport({ canExport, exportIdentity }: { canExport: boolean; exportIdentity: (p: string) => Promise<Uint8Array> }) {
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const [msg, setMsg] = useState<string>();
  if (!canExport)
    return (
      <p>
        This visit's key was made non-extractable: the browser itself cannot read it out, so it cannot be saved and is gone when you close the tab. To
        keep your fingerprint across visits, open the link again and tick "Make an identity I can save" under "Options".
      </p>
    );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        const problem = checkPassphrase(pass, again);
        if (problem) return setMsg(problem);
        setMsg('Encrypting…');
        exportIdentity(pass).then(
          (bytes) => {
            download(bytes, IDENTITY_FILE_NAME);
            setMsg('Saved. Keep the file and its passphrase apart.');
          },
          () => setMsg('The identity could not be saved.'),
        );
      }}
    >
      <p>The file holds your private key, encrypted under the passphrase. Load it on a later visit to keep your fingerprint.</p>
      <label for="export-pass">Passphrase</label>
      <input id="export-pass" type="password" autocomplete="new-password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} />
      <label for="export-again">Passphrase again</label>
      <input id="export-again" type="password" autocomplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
      {msg && <p role="status">{msg}</p>}
      <button type="submit" class="primary">
        Save identity file
      </button>
    </form>
  );
}

type Props = {
  dialog: Dialog;
  onClose: () => void;
  run: (line: string) => void;
  canExport: boolean;
  exportIdentity: (p: string) => Promise<Uint8Array>;
};

export function Dialogs({ dialog, onClose, run, canExport, exportIdentity }: Props) {
  switch (dialog.kind) {
    case 'verify-ask':
      return (
        <Modal title={`Verify ${shown(dialog.name)}`} onClose={onClose}>
          <p>
            You will see the safety number you share with {shown(dialog.name)}. Compare it with the one {shown(dialog.name)} sees, in person or on a
            call you trust (or scan their QR code).
          </p>
          <button type="button" class="primary" onClick={() => run(`/safety ${dialog.name}`)}>
            Show safety number
          </button>
        </Modal>
      );
    case 'safety':
      return (
        <Modal title={`Safety number with ${shown(dialog.name)}`} onClose={onClose}>
          <p class="number">{dialog.safetyNumber}</p>
          <Qr text={dialog.safetyNumber} label={`QR code of the safety number with ${shown(dialog.name)}`} />
          {dialog.verified ? (
            <p role="status">
              {shown(dialog.name)} is marked verified. If their key changes, this room holds your messages until you compare again.
            </p>
          ) : (
            <>
              <p>Both of you should see the same number. If it differs, someone is in between: do not trust this chat, tell the others, and leave.</p>
              <div class="modal-choices">
                <button type="button" class="primary" onClick={() => run(`/verify ${dialog.name} ${dialog.safetyNumber}`)}>
                  They match: mark verified
                </button>
              </div>
            </>
          )}
        </Modal>
      );
    case 'invite':
      return (
        <Modal title={`Invite to #${shown(dialog.roomName)}`} onClose={onClose}>
          <p>Share this link privately: whoever holds it can ask to join, and a member who is online admits them.</p>
          <input class="link" aria-label="Invite link" readOnly value={dialog.link} onFocus={(e) => e.currentTarget.select()} />
          <CopyButton text={dialog.link} label="Copy link" />
          <Qr text={dialog.link} label="QR code of the invite link" />
        </Modal>
      );
    case 'code':
      return (
        <Modal title={`Room code of #${shown(dialog.roomName)}`} onClose={onClose}>
          <p class="number">{dialog.code}</p>
          <p>Every member sees the same code right now. Compare it with the others: a different code means you are not in the same room.</p>
        </Modal>
      );
    case 'identity':
      return (
        <Modal title="Save your identity" onClose={onClose}>
          <IdentityExport canExport={canExport} exportIdentity={exportIdentity} />
        </Modal>
      );
    case 'help':
      return (
        <Modal title="Commands" onClose={onClose}>
          <pre class="help">{dialog.text}</pre>
        </Modal>
      );
    default: {
      const never: never = dialog;
      return never;
    }
  }
}
