/**
 * Before the chat: asks for a display name when `--name` was not given, and for the passphrase
 * of `--identity FILE` (twice when the file is being created). The passphrase is not echoed —
 * not even as asterisks, which would tell an onlooker its length. A wrong passphrase is said
 * plainly and asked again, three times at most.
 */
import { normalizeName } from '@safehouse/core/client';
import type { Identity } from '@safehouse/core/e2ee';
import { SafehouseError } from '@safehouse/core/protocol';
import { Box, Text, useInput } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { InputLine, isControl } from './input.js';
import { wrapText } from './wrap.js';

export const MAX_PASSPHRASE_TRIES = 3;

export type IdentityPlan = {
  path: string;
  /** false: a new identity is created and saved there. */
  exists: boolean;
  /** From --identity-passphrase-file: not asked. */
  passphrase?: string;
  /** Opens (or creates) the identity; throws E_IDENTITY_LOCKED for a wrong passphrase. */
  open: (passphrase: string) => Promise<Identity>;
};

type Props = {
  name?: string;
  identity?: IdentityPlan;
  width: number;
  onReady: (name: string, identity: Identity | undefined) => void;
  /** Ctrl-C, or the identity could not be opened: the error says why (undefined: cancelled). */
  onFail: (err: unknown) => void;
};

type Phase = 'name' | 'passphrase' | 'confirm' | 'opening';

/** A line that takes key presses and shows none of them. */
function HiddenInput({ onSubmit }: { onSubmit: (value: string) => void }) {
  const typed = useRef('');
  useInput((input, key) => {
    if (key.return) {
      const v = typed.current;
      typed.current = '';
      return onSubmit(v);
    }
    if (key.backspace || key.delete) typed.current = [...typed.current].slice(0, -1).join('');
    else if (key.ctrl && input === 'u') typed.current = '';
    else if (!key.ctrl && !key.meta && !key.escape) {
      // A line ending inside a read (a fast link, a paste) ends the passphrase there.
      const [first = '', ...rest] = input.split(/\r\n|\r|\n/);
      typed.current += [...first].filter((c) => !isControl(c)).join('');
      if (rest.length > 0) {
        const v = typed.current;
        typed.current = '';
        onSubmit(v);
      }
    }
  });
  return <Text dimColor>(typing is not shown; Enter when done)</Text>;
}

export function Setup({ name: givenName, identity, width, onReady, onFail }: Props) {
  const [phase, setPhase] = useState<Phase>(
    givenName === undefined ? 'name' : identity?.passphrase !== undefined || !identity ? 'opening' : 'passphrase',
  );
  const [name, setName] = useState(givenName ?? '');
  const [error, setError] = useState<string | undefined>();
  const first = useRef('');
  const tries = useRef(0);

  useInput((input, key) => {
    if (key.ctrl && (input === 'c' || input === 'd')) onFail(undefined);
  });

  const open = (passphrase: string, chosen: string): void => {
    setPhase('opening');
    setError(undefined);
    if (!identity) return onReady(chosen, undefined);
    identity.open(passphrase).then(
      (id) => onReady(chosen, id),
      (err: unknown) => {
        const locked = err instanceof SafehouseError && err.code === 'E_IDENTITY_LOCKED';
        tries.current++;
        if (!locked || identity.passphrase !== undefined || tries.current >= MAX_PASSPHRASE_TRIES) return onFail(err);
        setError(
          `wrong passphrase, or the file is damaged (E_IDENTITY_LOCKED); ${MAX_PASSPHRASE_TRIES - tries.current} more tr${MAX_PASSPHRASE_TRIES - tries.current === 1 ? 'y' : 'ies'}`,
        );
        setPhase('passphrase');
      },
    );
  };

  // Nothing to ask, or the passphrase came from a file: go on at once.
  useEffect(() => {
    if (phase === 'opening' && tries.current === 0) open(identity?.passphrase ?? '', name);
    // Runs once, on mount: later phases start `open` themselves.
  }, []);

  const afterName = (chosen: string): void => {
    if (!identity) return open('', chosen);
    if (identity.passphrase !== undefined) return open(identity.passphrase, chosen);
    setPhase('passphrase');
  };

  const submitName = (raw: string): void => {
    const n = normalizeName(raw.trim());
    if (!n.ok) return setError(`${n.message} (${n.code})`);
    setError(undefined);
    setName(n.name);
    afterName(n.name);
  };

  const submitPassphrase = (value: string): void => {
    if (value === '') return setError('a passphrase cannot be empty');
    if (identity && !identity.exists && phase === 'passphrase') {
      first.current = value;
      setError(undefined);
      return setPhase('confirm');
    }
    if (phase === 'confirm' && value !== first.current) {
      first.current = '';
      setError('the two passphrases differ; choose one again');
      return setPhase('passphrase');
    }
    first.current = '';
    open(value, name);
  };

  const cols = Math.max(20, Math.min(72, width - 4));
  const say = (text: string, color?: string) =>
    wrapText(text, cols).map((l, i) => (
      <Text key={i} color={color}>
        {l}
      </Text>
    ));
  return (
    <Box flexDirection="column" paddingX={1} paddingY={1} width={Math.min(width, cols + 2)}>
      <Text bold color="cyan">
        Safehouse
      </Text>
      <Text dimColor>end-to-end encrypted chat</Text>
      <Box height={1} />
      {phase === 'name' && (
        <>
          {say('Your display name (letters, digits, _ - .; others in the room see it):')}
          <InputLine width={cols} onSubmit={submitName} />
        </>
      )}
      {(phase === 'passphrase' || phase === 'confirm') && identity && (
        <>
          {say(
            phase === 'confirm'
              ? 'The same passphrase again:'
              : identity.exists
                ? `Passphrase of your identity ${identity.path}:`
                : `A new identity will be saved in ${identity.path}, encrypted. Choose its passphrase (it cannot be recovered):`,
          )}
          <HiddenInput key={phase + String(tries.current)} onSubmit={submitPassphrase} />
        </>
      )}
      {phase === 'opening' &&
        say(
          identity ? (identity.exists ? 'Opening your identity…' : 'Creating your identity…') : 'Connecting…',
          'gray',
        )}
      {error !== undefined && say(error, 'red')}
      <Box height={1} />
      <Text dimColor>Ctrl-C leaves</Text>
    </Box>
  );
}
