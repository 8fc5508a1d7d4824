/**
 * The status bar: connection (with the reconnect countdown), the current room, its members, the
 * room code every member can compare, unread messages elsewhere. When the line is short, the
 * least useful parts go first. `extra` is kept for later indicators (timed messages).
 */
import { currentRoom, formatDuration, keyWarnings } from '@safehouse/core/client';
import { Box, Text } from 'ink';
import { unreadElsewhere, type Screen } from './pane.js';
import { nameText } from './text.js';
import { truncate, width } from './wrap.js';

type Part = { text: string; color?: string; bold?: boolean; priority: number };

export function connectionPart(screen: Screen, now: number): Part {
  if (screen.quitting) return { text: '… leaving', color: 'yellow', bold: true, priority: 0 };
  const c = screen.view.connection;
  switch (c.state) {
    case 'connected':
      // With several relays in the link, which one (host:port; never the path).
      return { text: c.relays > 1 ? `● connected to ${c.endpoint}` : '● connected', color: 'green', priority: 0 };
    case 'connecting': {
      const to = c.relays > 1 ? ` to ${c.endpoint}` : '';
      return { text: c.attempt > 1 ? `◌ connecting${to} (try ${c.attempt})` : `◌ connecting${to}`, color: 'yellow', priority: 0 };
    }
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil((c.delayMs - (now - screen.connectionAt)) / 1000));
      return {
        text: secs > 0 ? `○ reconnecting in ${formatDuration(secs * 1000)}` : '○ reconnecting',
        color: 'yellow',
        bold: true,
        priority: 0,
      };
    }
    case 'offline':
      return { text: '× offline', color: 'red', bold: true, priority: 0 };
    default: {
      const never: never = c;
      return never;
    }
  }
}

export function statusParts(screen: Screen, now: number, extra: Part[] = []): Part[] {
  const { view } = screen;
  const room = currentRoom(view);
  const parts: Part[] = [connectionPart(screen, now)];
  if (room) {
    parts.push({
      text: `${room.direct ? '@' : '#'}${nameText(room.name)}${room.joined ? '' : ' (waiting to be admitted)'}`,
      bold: true,
      priority: 0,
    });
    const n = room.members.length;
    if (n > 0) parts.push({ text: `${n} member${n === 1 ? '' : 's'}`, priority: 3 });
    if (room.code) parts.push({ text: `code ${room.code}`, priority: 2 });
    if (room.ttlMs > 0)
      parts.push({ text: `timer ${formatDuration(room.ttlMs)}`, color: 'yellow', bold: true, priority: 1 });
  } else if (view.rooms.size === 0 && view.me.fingerprint !== undefined) {
    parts.push({ text: 'no room: /join LINK or /room create NAME', color: 'yellow', priority: 1 });
  }
  if (view.time === 'unproven')
    parts.push({ text: 'time not proven: timed messages hidden', color: 'yellow', priority: 1 });
  const unread = unreadElsewhere(screen);
  if (unread > 0) parts.push({ text: `${unread} unread (Ctrl-N)`, color: 'yellow', bold: true, priority: 1 });
  const changed = [...new Set(keyWarnings(view).map((w) => nameText(w.name)))];
  if (changed.length > 0)
    parts.push({ text: `! key changed: ${changed.join(', ')}`, color: 'redBright', bold: true, priority: 0 });
  return [...parts, ...extra];
}

const SEP = ' │ ';

/** The parts that fit in `cols`, dropping the least important (highest priority number) first. */
export function fitParts(parts: Part[], cols: number): Part[] {
  let kept = parts;
  const len = (ps: Part[]): number =>
    ps.reduce((n, p) => n + width(p.text), 0) + SEP.length * Math.max(0, ps.length - 1) + 1;
  while (len(kept) > cols) {
    const worst = Math.max(...kept.map((p) => p.priority));
    if (worst === 0) break;
    const i = kept.map((p) => p.priority).lastIndexOf(worst);
    kept = kept.filter((_, j) => j !== i);
  }
  return kept;
}

/** `nudge`: changing it changes the frame's bytes but not its look (see App: after a resize). */
export function StatusBar({
  screen,
  width: cols,
  now,
  nudge = 0,
}: {
  screen: Screen;
  width: number;
  now: number;
  nudge?: number;
}) {
  const parts = fitParts(statusParts(screen, now), cols);
  let left = cols - 1;
  return (
    <Box width={cols} height={1} overflow="hidden">
      <Text wrap="truncate-end" backgroundColor="blackBright" color="whiteBright">
        {/* The same blank either way; a different byte string, so ink rewrites the whole frame. */}
        <Text bold={nudge % 2 === 1}> </Text>
        {parts.map((p, i) => {
          const sep = i > 0 ? SEP : '';
          const text = truncate(p.text, Math.max(0, left - sep.length));
          left -= sep.length + width(text);
          return (
            <Text key={i}>
              {sep}
              <Text color={p.color ?? 'whiteBright'} bold={p.bold}>
                {text}
              </Text>
            </Text>
          );
        })}
        {' '.repeat(Math.max(0, left))}
      </Text>
    </Box>
  );
}
