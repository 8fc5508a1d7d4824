/**
 * Test support (not built, not shipped): the terminal UI as the user has it — `App` over a
 * `Session` over a REAL client (real e2ee, the `ws` transport) on the real relay — drawn by ink
 * into a fake terminal (ink-testing-library). The peers are real clients too (members.ts). A
 * test types keys and reads frames; what the client was asked is recorded, to show that the UI
 * asks nothing but what was typed.
 */
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { expect, vi } from 'vitest';
import { App, type Size, type SizeStore } from '../tui/app.js';
import { Session } from '../tui/session.js';
import { Member, type World } from './members.js';

export const KEY = {
  up: '\x1b[A',
  down: '\x1b[B',
  pageUp: '\x1b[5~',
  pageDown: '\x1b[6~',
  esc: '\x1b',
  enter: '\r',
  ctrlD: '\x04',
  ctrlN: '\x0e',
  ctrlP: '\x10',
  tab: '\t',
} as const;

/** Under load a frame can lag the event that asked for it: waits have this deadline. */
const WAIT = { timeout: 15_000, interval: 20 };

export type Tui = Awaited<ReturnType<typeof openTui>>;

/**
 * `name`'s terminal UI on `link` (a server's link creates a room; a room link joins it), as a
 * member of `world` (which quits its client at the end). Resolves once the chat is drawn; `start`
 * false leaves starting to the test.
 */
export async function openTui(
  world: World,
  name: string,
  link: string,
  options: { size?: Size; sizes?: SizeStore; start?: boolean; member?: ConstructorParameters<typeof Member>[2] } = {},
) {
  const member = new Member(name, link, options.member);
  world.members.push(member);
  /** Every line the UI gave the client. */
  const commands: string[] = [];
  const command = member.client.command.bind(member.client);
  member.client.command = (line) => (commands.push(line), command(line));
  const session = new Session(member.client, { quitTimeoutMs: 2_000 });
  const size = options.size ?? (options.sizes ? undefined : { columns: 100, rows: 30 });
  const r = render(
    createElement(App, { session, ...(size ? { size } : {}), ...(options.sizes ? { sizes: options.sizes } : {}) }),
  );
  const frame = (): string => r.lastFrame() ?? '';
  /** Waits until the screen shows `text`. */
  const see = (text: string | RegExp, timeout = WAIT.timeout): Promise<void> =>
    vi.waitFor(
      () => void (typeof text === 'string' ? expect(frame()).toContain(text) : expect(frame()).toMatch(text)),
      { ...WAIT, timeout },
    );
  /** Waits until the screen no longer shows `text`. */
  const notSee = (text: string | RegExp): Promise<void> =>
    vi.waitFor(
      () => void (typeof text === 'string' ? expect(frame()).not.toContain(text) : expect(frame()).not.toMatch(text)),
      WAIT,
    );
  /** Keys, as a terminal sends them; then a moment for ink to read them. */
  const type = async (keys: string): Promise<void> => {
    r.stdin.write(keys);
    await new Promise((resolve) => setTimeout(resolve, 30));
  };
  /** A line typed and sent. */
  const enter = async (line: string): Promise<void> => {
    await type(line);
    await type(KEY.enter);
  };
  const close = async (): Promise<void> => {
    r.unmount();
    await member.client.quit({ timeoutMs: 200 });
  };
  if (options.start !== false) {
    session.start();
    await see(/[●◌○×] (connected|connecting|reconnecting|offline)/);
  }
  return { member, session, commands, frame, see, notSee, type, enter, stdout: r.stdout, close };
}
