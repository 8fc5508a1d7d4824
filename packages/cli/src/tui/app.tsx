/**
 * The chat screen: key-change banner (when there is one), messages with the side pane (rooms and
 * members; hidden below 64 columns), the status bar, the input line. It fills the terminal and
 * lays itself out again on every resize.
 */
import { currentRoom } from '@safehouse/core/client';
import { Box, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useReducer, useRef, useState, useSyncExternalStore } from 'react';
import { Banner, bannerHeight } from './banner.js';
import { InputLine } from './input.js';
import { LineCache } from './lines.js';
import { SidePane } from './members.js';
import { Messages, maxScroll } from './messages.js';
import { OverlayView } from './overlay.js';
import { bannerWarnings, paneItems } from './pane.js';
import type { Session } from './session.js';
import { StatusBar } from './status.js';
import { nameText } from './text.js';

export type Size = { columns: number; rows: number; /** Counts resizes. */ resizes?: number };

/** Narrower than this, the side pane is hidden and the messages take the whole width. */
export const SIDE_PANE_MIN_COLUMNS = 64;

export type SizeStore = { get: () => Size; subscribe: (listener: () => void) => () => void; close: () => void };

/**
 * The terminal's size as a store. Made before ink renders, its resize listener runs before ink's:
 * the app lays itself out for the new size first, and ink's redraw after a resize is right
 * (otherwise ink redraws the old layout at the new width, and the terminal scrolls it).
 */
export function terminalSizeStore(stdout: NodeJS.WriteStream): SizeStore {
  const read = (): Size => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  let size = read();
  let resizes = 0;
  const listeners = new Set<() => void>();
  const onResize = (): void => {
    size = { ...read(), resizes: ++resizes };
    for (const l of [...listeners]) l();
  };
  stdout.on('resize', onResize);
  return {
    get: () => size,
    subscribe: (l) => (listeners.add(l), () => void listeners.delete(l)),
    close: () => void stdout.off('resize', onResize),
  };
}

const DEFAULT_SIZE: Size = { columns: 80, rows: 24 };
/** Without a store (tests pass `fixed`): a constant snapshot, as useSyncExternalStore requires. */
const NO_STORE: SizeStore = { get: () => DEFAULT_SIZE, subscribe: () => () => undefined, close: () => undefined };

/** The terminal's size, following resizes (`sizes`); `fixed` (tests) overrides it. */
export function useTerminalSize(fixed?: Size, sizes?: SizeStore): Size {
  const { stdout } = useStdout();
  const store = sizes ?? NO_STORE;
  const size = useSyncExternalStore(store.subscribe, store.get);
  return fixed ?? (sizes ? size : { columns: stdout.columns || 80, rows: stdout.rows || 24 });
}

/** Re-renders every second while a countdown is on screen; returns the time of this render. */
function useTicker(active: boolean): number {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(tick, 1000);
    return () => clearInterval(t);
  }, [active]);
  return Date.now();
}

/** Rows the UI draws: ink prints a newline after its last row, so one fewer than the terminal keeps it from scrolling. */
export function screenRows(rows: number): number {
  return Math.max(4, rows - 1);
}

/** Widths of the message and side panes, and the height they share. */
export function layout({ columns, rows }: Size, banner: number): { side: number; pane: number; height: number } {
  const side = columns >= SIDE_PANE_MIN_COLUMNS ? Math.min(28, Math.max(20, Math.floor(columns * 0.24))) : 0;
  return { side, pane: columns - side, height: Math.max(1, screenRows(rows) - banner - 2) };
}

export function App({ session, size: fixed, sizes }: { session: Session; size?: Size; sizes?: SizeStore }) {
  const screen = useSyncExternalStore(session.subscribe, session.getScreen);
  const { view, overlay, quitting } = screen;
  const size = useTerminalSize(fixed, sizes);
  const { write } = useStdout();
  const [scroll, setScroll] = useState(0);
  const cache = useMemo(() => new LineCache(), []);
  const now = useTicker(view.connection.state === 'reconnecting');
  // Ink redraws after a shrink through a path that leaves its cursor bookkeeping a row off (the
  // terminal's cursor lands on the status bar): one more frame that differs only in its bytes
  // puts everything back.
  const [nudge, setNudge] = useState(0);
  useEffect(() => {
    if (!size.resizes) return;
    const t = setTimeout(() => setNudge((n) => n + 1), 60);
    return () => clearTimeout(t);
  }, [size.resizes]);

  const warnings = bannerWarnings(screen);
  const banner = bannerHeight(warnings, size.columns);
  const { side, pane, height } = layout(size, banner);
  const room = view.current;
  const items = useMemo(() => paneItems(view), [view]);
  const lines = useMemo(() => cache.lines(items, pane), [cache, items, pane]);
  // A new room starts at the bottom.
  useEffect(() => setScroll(0), [room]);
  // Scrolled back, the view stays on what it shows while new lines arrive below.
  const seen = useRef({ room, count: lines.length });
  useEffect(() => {
    const grew = seen.current.room === room ? lines.length - seen.current.count : 0;
    seen.current = { room, count: lines.length };
    if (grew > 0) setScroll((s) => (s > 0 ? s + grew : 0));
  }, [lines.length, room]);

  useInput((input, key) => {
    if (key.ctrl && (input === 'c' || input === 'd')) {
      // A second one while leaving takes too long: leave now.
      if (quitting) return session.abort();
      return void session.quit();
    }
    if (overlay) {
      if (key.escape || key.return || input === 'q') session.closeOverlay();
      // OSC 52 with our own link (base64: nothing in it can be read as a control sequence).
      else if (input === 'c' && overlay.copy) {
        write(`\x1b]52;c;${Buffer.from(overlay.copy, 'utf8').toString('base64')}\x07`);
        session.copied();
      }
      return;
    }
    if (key.escape) return void session.hideBanner();
    // Ctrl-L: draw everything again on a clean screen (after another program wrote over it).
    if (key.ctrl && input === 'l') return void write('\x1b[2J\x1b[H');
    if (key.pageUp) return setScroll((s) => Math.min(maxScroll(lines.length, height), s + Math.max(1, height - 2)));
    if (key.pageDown) return setScroll((s) => Math.max(0, s - Math.max(1, height - 2)));
    if (key.ctrl && input === 'n') return session.cycleRoom(1);
    if (key.ctrl && input === 'p') return session.cycleRoom(-1);
  });

  const names = (): string[] => (currentRoom(session.getScreen().view)?.members ?? []).map((m) => nameText(m.name));
  const submit = (line: string): void => {
    setScroll(0);
    session.closeOverlay();
    session.submit(line);
  };
  // A QR code takes the whole screen (a scanner needs all of it; 100×30 just fits an invite).
  // The input line stays mounted, hidden, so what was being typed survives.
  return (
    <Box flexDirection="column" width={size.columns} height={screenRows(size.rows)} overflow="hidden">
      {overlay ? (
        <OverlayView
          overlay={overlay}
          width={size.columns}
          height={screenRows(size.rows)}
          chrome={size.rows - screenRows(size.rows)}
        />
      ) : (
        <>
          {banner > 0 && <Banner warnings={warnings} width={size.columns} />}
          <Box flexDirection="row" height={height} flexShrink={0}>
            <Messages lines={lines} width={pane} height={height} scroll={scroll} />
            {side > 0 && <SidePane screen={screen} width={side} height={height} />}
          </Box>
        </>
      )}
      <Box flexDirection="column" display={overlay ? 'none' : 'flex'} flexShrink={0}>
        <StatusBar screen={screen} width={size.columns} now={now} nudge={nudge} />
        <InputLine
          width={size.columns}
          onSubmit={submit}
          names={names}
          active={!overlay}
          row={screenRows(size.rows) - 1}
          leaving={quitting}
          placeholder="type a message; /help lists commands"
        />
      </Box>
    </Box>
  );
}
