/**
 * The status bar: connection (with the reconnect countdown), the current room, its members, the
 * room code every member can compare, unread messages elsewhere. When the line is short, the
 * least useful parts go first. `extra` is kept for later indicators (timed messages).
 */
import { Box, Text } from 'ink';
import { formatDuration, type ChatModel } from './model.js';
import { truncate, width } from './wrap.js';

type Part = { text: string; color?: string; bold?: boolean; priority: number };

export function connectionPart(model: ChatModel, now: number): Part {
  if (model.quitting) return { text: '… leaving', color: 'yellow', bold: true, priority: 0 };
  const c = model.connection;
  switch (c.state) {
    case 'connected':
      return { text: '● connected', color: 'green', priority: 0 };
    case 'connecting':
      return { text: c.attempt > 1 ? `◌ connecting (try ${c.attempt})` : '◌ connecting', color: 'yellow', priority: 0 };
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil((c.delayMs - (now - c.at)) / 1000));
      return {
        text: secs > 0 ? `○ reconnecting in ${secs}s` : '○ reconnecting',
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

export function statusParts(model: ChatModel, now: number, extra: Part[] = []): Part[] {
  const room = model.currentRoom();
  const parts: Part[] = [connectionPart(model, now)];
  if (room) {
    parts.push({
      text: `${room.direct ? '@' : '#'}${room.name}${room.joined ? '' : ' (waiting to be admitted)'}`,
      bold: true,
      priority: 0,
    });
    if (room.members.size > 0)
      parts.push({ text: `${room.members.size} member${room.members.size === 1 ? '' : 's'}`, priority: 3 });
    if (room.code) parts.push({ text: `code ${room.code}`, priority: 2 });
    if (room.ttl) parts.push({ text: `timer ${formatDuration(room.ttl)}`, color: 'yellow', bold: true, priority: 1 });
  } else if (model.rooms.size === 0 && model.me.fingerprint !== undefined) {
    parts.push({ text: 'no room: /join LINK or /room create NAME', color: 'yellow', priority: 1 });
  }
  if (model.time === 'unproven')
    parts.push({ text: 'time not proven: timed messages hidden', color: 'yellow', priority: 1 });
  const unread = [...model.rooms.values()].filter((r) => r.id !== model.current).reduce((n, r) => n + r.unread, 0);
  if (unread > 0) parts.push({ text: `${unread} unread (Ctrl-N)`, color: 'yellow', bold: true, priority: 1 });
  if (model.warnings.length > 0)
    parts.push({
      text: `! key changed: ${model.warnings.map((w) => w.name).join(', ')}`,
      color: 'redBright',
      bold: true,
      priority: 0,
    });
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
  model,
  width: cols,
  now,
  nudge = 0,
}: {
  model: ChatModel;
  width: number;
  now: number;
  nudge?: number;
}) {
  const parts = fitParts(statusParts(model, now), cols);
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
