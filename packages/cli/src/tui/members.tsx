/**
 * The side pane: the rooms (current one marked, unread counts, direct rooms as @NAME, … while
 * waiting to be admitted) and the members of the current room as the room's snapshot has them
 * — ✓ verified by safety number, · not verified, ! key changed, • you. Hidden below 64 columns
 * (the status bar names the room then).
 */
import { currentRoom, roomList, type MemberInfo } from '@safehouse/core/client';
import { Box, Text } from 'ink';
import { unread, type Screen } from './pane.js';
import { nameText } from './text.js';
import { fit, truncate } from './wrap.js';

function mark(m: MemberInfo): { text: string; color: string } {
  if (m.keyChanged) return { text: '!', color: 'redBright' };
  if (m.self) return { text: '•', color: 'cyan' };
  return m.verified ? { text: '✓', color: 'green' } : { text: '·', color: 'gray' };
}

export function SidePane({ screen, width, height }: { screen: Screen; width: number; height: number }) {
  const { view } = screen;
  const inner = width - 1;
  const rooms = roomList(view);
  // Two headings, then the rooms (at most half), then the members; "+N more" when cut.
  const roomRows = Math.max(1, Math.min(rooms.length, Math.floor((height - 2) / 2)));
  let shownRooms = rooms.length > roomRows ? rooms.slice(0, roomRows - 1) : rooms;
  const cur = currentRoom(view);
  if (cur && !shownRooms.includes(cur) && roomRows > 1) shownRooms = [...shownRooms.slice(0, -1), cur];
  const members = (cur?.members ?? [])
    .map((m) => ({ ...m, name: nameText(m.name) }))
    .sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
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
        const isCur = r.id === view.current;
        const label = `${isCur ? '›' : ' '}${r.direct ? '@' : '#'}${nameText(r.name)}`;
        const n = unread(screen, r.id);
        const extra = n > 0 ? ` ${n}` : r.joined ? '' : ' …';
        return (
          <Text key={r.id} wrap="truncate-end" bold={isCur} color={r.direct ? 'magenta' : isCur ? 'cyan' : undefined}>
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
        const k = mark(m);
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
