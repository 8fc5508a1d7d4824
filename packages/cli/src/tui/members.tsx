/**
 * The side pane: the rooms (current one marked, unread counts, direct rooms as @NAME) and the
 * members of the current room with their verification state — ✓ verified by safety number,
 * · not verified, ! key changed. Hidden below 64 columns (the status bar names the room then).
 */
import { Box, Text } from 'ink';
import type { ChatModel, MemberView } from './model.js';
import { fit, truncate } from './wrap.js';

function mark(m: MemberView, changed: boolean): { text: string; color: string } {
  if (m.keyChanged || changed) return { text: '!', color: 'redBright' };
  if (m.self) return { text: '•', color: 'cyan' };
  return m.verified ? { text: '✓', color: 'green' } : { text: '·', color: 'gray' };
}

export function SidePane({ model, width, height }: { model: ChatModel; width: number; height: number }) {
  const inner = width - 1;
  const rooms = [...model.rooms.values()];
  // Two headings, then the rooms (at most half), then the members; "+N more" when cut.
  const roomRows = Math.max(1, Math.min(rooms.length, Math.floor((height - 2) / 2)));
  let shownRooms = rooms.length > roomRows ? rooms.slice(0, roomRows - 1) : rooms;
  const cur = model.currentRoom();
  if (cur && !shownRooms.includes(cur) && roomRows > 1) shownRooms = [...shownRooms.slice(0, -1), cur];
  const members = [...(cur?.members.values() ?? [])].sort(
    (a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name),
  );
  const memberRows = Math.max(0, height - 2 - roomRows);
  const shownMembers = members.length > memberRows ? members.slice(0, Math.max(0, memberRows - 1)) : members;
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      overflow="hidden"
      borderStyle="single"
      borderLeft
      borderTop={false}
      borderRight={false}
      borderBottom={false}
      borderColor="gray"
    >
      <Text bold wrap="truncate-end">
        {fit(' Rooms', inner)}
      </Text>
      {rooms.length === 0 && <Text dimColor> (joining…)</Text>}
      {shownRooms.map((r) => {
        const cur = r.id === model.current;
        const label = `${cur ? '›' : ' '}${r.direct ? '@' : '#'}${r.name}`;
        const extra = r.unread > 0 ? ` ${r.unread}` : r.joined ? '' : ' …';
        return (
          <Text key={r.id} wrap="truncate-end" bold={cur} color={r.direct ? 'magenta' : cur ? 'cyan' : undefined}>
            {truncate(label, inner - extra.length)}
            <Text color="yellow">{extra}</Text>
          </Text>
        );
      })}
      {rooms.length > shownRooms.length && (
        <Text dimColor>{` +${rooms.length - shownRooms.length} more (/rooms)`}</Text>
      )}
      <Text bold wrap="truncate-end">
        {fit(` Members${members.length > 0 ? ` (${members.length})` : ''}`, inner)}
      </Text>
      {shownMembers.map((m) => {
        const k = mark(
          m,
          model.warnings.some((w) => w.name === m.name),
        );
        return (
          <Text key={m.name} wrap="truncate-end">
            {' '}
            <Text color={k.color}>{k.text}</Text> {truncate(m.name, inner - 3 - (m.self ? 6 : 0))}
            {m.self && <Text dimColor> (you)</Text>}
          </Text>
        );
      })}
      {members.length > shownMembers.length && (
        <Text dimColor>{` +${members.length - shownMembers.length} more (/users)`}</Text>
      )}
    </Box>
  );
}
