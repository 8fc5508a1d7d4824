/**
 * `safehouse join LINK` on a terminal: the full-screen chat. Takes the alternate screen (the
 * shell's screen comes back untouched on exit), asks what is missing (name, passphrase), starts
 * the client, and on /quit, Ctrl-C, Ctrl-D, SIGTERM or SIGHUP delivers what is pending, leaves
 * every room and gives the terminal back as it found it.
 */
import { createClient, normalizeName, safeText } from '@safehouse/core/client';
import { createE2ee, type Identity } from '@safehouse/core/e2ee';
import { parseInvite, UsageError } from '@safehouse/core/protocol';
import { render } from 'ink';
import { createElement } from 'react';
import { EXIT, exitCodeForCode } from '../exit.js';
import { createIdentityFile, identityExists, openIdentity, readPassphraseFile } from '../identity-file.js';
import { wsTransport } from '../transport/ws.js';
import { App, terminalSizeStore } from './app.js';
import { Setup, type IdentityPlan } from './identity-prompt.js';
import { Session } from './session.js';
import { clientTimeOptions } from '../roughtime/servers.js';

export type TuiOptions = {
  name?: string;
  identity?: string;
  identityPassphraseFile?: string;
  /** The server password's subprotocol (join.ts derives it). */
  passwordSubprotocol?: string;
  /** `--roughtime HOST:PORT:KEY` servers for disappearing messages (roughtime/servers.ts). */
  roughtime?: string[];
};

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';
/** Ink draws at most every 1000/30 ms: past that, the chat's first frame has been written. */
const FIRST_FRAME_MS = 40;

/** Runs the terminal UI until the user leaves; returns the exit code. Throws UsageError up front. */
export async function runTui(link: string, opts: TuiOptions): Promise<number> {
  if (opts.name !== undefined) {
    const n = normalizeName(opts.name);
    if (!n.ok) throw new UsageError('E_NAME_INVALID', n.message);
  }
  const parsed = parseInvite(link);
  if (!parsed.ok) throw new UsageError('E_BAD_LINK', `that link cannot be used: ${parsed.message}`);
  // Only to make a new identity: the client makes its own e2ee around its pin store.
  const e2ee = createE2ee();
  let plan: IdentityPlan | undefined;
  if (opts.identity !== undefined) {
    const path = opts.identity;
    const exists = await identityExists(path);
    const passphrase =
      opts.identityPassphraseFile === undefined ? undefined : await readPassphraseFile(opts.identityPassphraseFile);
    plan = {
      path,
      exists,
      ...(passphrase !== undefined ? { passphrase } : {}),
      open: (p) => (exists ? openIdentity(path, p) : createIdentityFile(path, p, e2ee)),
    };
  }

  const { stdout } = process;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  };
  stdout.write(ENTER_ALT_SCREEN);
  // Whatever happens, the shell gets its screen back.
  process.once('exit', restore);

  let session: Session | undefined;
  let failure: unknown;
  let cancelled!: () => void;
  const setupOver = new Promise<void>((resolve) => (cancelled = resolve));
  const onSignal = (): void => {
    if (session) void session.quit();
    else cancelled();
  };
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.on(sig, onSignal);

  const newSession = (name: string, identity: Identity | undefined): Session => {
    // Each relay's pin in the link (`c`, or its `a` entry's) is checked per connection (core Connection).
    const transport = wsTransport({
      ...(opts.passwordSubprotocol !== undefined ? { subprotocol: opts.passwordSubprotocol } : {}),
    });
    const client = createClient({
      transport,
      name,
      link,
      ...(identity ? { identity } : {}),
      ...clientTimeOptions(opts.roughtime, parsed.invite),
    });
    return new Session(client);
  };
  /** Starts the client once the chat's first frame is out (making keys and fingerprints takes a while). */
  const startSoon = (s: Session): void => void setTimeout(() => s.start(), FIRST_FRAME_MS);

  // Both registered before ink's own resize handler. A terminal that shrinks drops or scrolls
  // rows of the old frame, so ink's bookkeeping of where that frame is goes wrong: draw the new
  // one on a clean screen from the top. And the app has the new size when ink redraws.
  const clearScreen = (): void => void stdout.write('\x1b[2J\x1b[H');
  stdout.on('resize', clearScreen);
  const sizes = terminalSizeStore(stdout);
  const inkOptions = { exitOnCtrlC: false, patchConsole: true, incrementalRendering: false } as const;
  let instance: ReturnType<typeof render>;
  if (opts.name !== undefined && !plan) {
    // Nothing to ask: the chat is the first thing on screen.
    const s = (session = newSession(opts.name, undefined));
    instance = render(createElement(App, { session: s, sizes }), inkOptions);
    startSoon(s);
    cancelled();
  } else {
    instance = render(
      createElement(Setup, {
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(plan ? { identity: plan } : {}),
        width: stdout.columns || 80,
        onReady: (name: string, identity: Identity | undefined) => {
          // Setup may be done during ink's first render, before `instance` is assigned.
          queueMicrotask(() => {
            const s = (session = newSession(name, identity));
            instance.rerender(createElement(App, { session: s, sizes }));
            startSoon(s);
            cancelled();
          });
        },
        onFail: (err: unknown) => {
          failure = err;
          cancelled();
        },
      }),
      inkOptions,
    );
  }

  // Ink settles this when it unmounts: before we unmount it ourselves, only because the UI crashed.
  let closing = false;
  const crashed = instance.waitUntilExit().then(
    () => new Error('the terminal UI stopped'),
    (err: unknown) => (err instanceof Error ? err : new Error('the terminal UI failed')),
  );
  const crash = crashed.then((err) => {
    if (!closing) failure ??= err;
  });
  try {
    await Promise.race([setupOver, crash]);
    const s = session;
    if (s && failure === undefined) await Promise.race([s.done, crash]);
    // A crashed UI still leaves cleanly: deliver, leave, close.
    const result = s ? await Promise.race([s.done, s.quit()]) : undefined;
    closing = true;
    instance.unmount();
    await instance.waitUntilExit().catch(() => undefined);
    restore();
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error('the terminal UI failed');
    if (!session) {
      process.stderr.write('safehouse: cancelled before joining (E_USAGE)\n');
      return EXIT.usage;
    }
    if (result && !result.delivered)
      process.stderr.write('safehouse: some messages may not have been delivered before leaving\n');
    // Why it ended, once the screen is the shell's again (the chat screen is gone with its notice).
    if (result?.fatal) process.stderr.write(`safehouse: ${safeText(result.fatal.message)} (${result.fatal.code})\n`);
    return result?.fatal ? exitCodeForCode(result.fatal.code) : EXIT.ok;
  } finally {
    for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.off(sig, onSignal);
    sizes.close();
    stdout.off('resize', clearScreen);
    instance.unmount();
    restore();
  }
}
