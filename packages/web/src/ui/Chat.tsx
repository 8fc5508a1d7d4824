/**
 * The chat screen: rooms on the left, the current room in the middle, its members on the right
 * (on a phone, rooms and members open as panels from the header). Buttons send the same
 * commands a user can type (/switch, /verify, /trust, /code, /leave, /msg ...).
 */
import { currentRoom, formatDuration, keyWarnings, roomList } from '@safehouse/core/client';
import { useState } from 'preact/hooks';
import type { Session } from '../session.js';
import { conversation, markerBefore, unread, type Dialog, type PageState } from '../state.js';
import { ConnectionPill, InviteCard, KeyChangeBanner, OutboxNote } from './Banners.js';
import { Composer } from './Composer.js';
import { Dialogs } from './Dialogs.js';
import { Members } from './Members.js';
import { Messages } from './Messages.js';
import { Rooms } from './Rooms.js';
import { shown } from './text.js';

type Props = {
  page: PageState;
  session: Session;
  /** The room the page's link names, and that link (it admits others while its inviter is a member). */
  cameBy: { room: string; link: string } | undefined;
};
type Panel = 'none' | 'rooms' | 'members';

export function Chat({ page, session, cameBy }: Props) {
  const [panel, setPanel] = useState<Panel>('none');
  const [prefill, setPrefill] = useState<{ text: string; n: number }>();
  const { view } = page;
  const room = currentRoom(view);
  const rooms = roomList(view);
  const invite = room?.invite ?? (room?.joined && room.id === cameBy?.room ? cameBy.link : undefined);
  const items = conversation(page);
  const run = (line: string) => void session.run(line);
  const open = (dialog: Dialog | undefined) => session.dispatch({ type: 'dialog', dialog });
  const toggle = (p: Panel) => setPanel(panel === p ? 'none' : p);
  const title = room ? (room.direct ? `@${shown(room.name)}` : `#${shown(room.name)}`) : 'Safehouse';

  return (
    <div
      class={`chat panel-${panel}`}
      onKeyDown={(e) => {
        // Escape closes an open panel (on a phone), without reaching an open dialog.
        if (e.key === 'Escape' && panel !== 'none' && !page.dialog) setPanel('none');
      }}
    >
      <header class="topbar">
        <button type="button" class="only-phone" aria-expanded={panel === 'rooms'} aria-controls="rooms-panel" onClick={() => toggle('rooms')}>
          Rooms{rooms.some((r) => unread(page, r.id) > 0) ? ' •' : ''}
        </button>
        <h1 class="room-title">{title}</h1>
        <ConnectionPill connection={view.connection} />
        {room !== undefined && room.ttlMs > 0 && (
          <span class="pill warn" role="status" title="New messages in this room disappear after this time; a recipient can always copy what it was shown.">
            timer {formatDuration(room.ttlMs)}
          </span>
        )}
        <div class="room-actions">
          {room !== undefined && invite !== undefined && (
            <button type="button" onClick={() => open({ kind: 'invite', roomName: room.name, link: invite })}>
              Invite
            </button>
          )}
          {room?.joined && (
            <button type="button" onClick={() => run('/code')}>
              Room code
            </button>
          )}
          <button type="button" class="only-phone" aria-expanded={panel === 'members'} aria-controls="members-panel" onClick={() => toggle('members')}>
            Members
          </button>
          {room && (
            <button
              type="button"
              onClick={() => {
                if (window.confirm(`Leave ${title}? You will no longer receive its messages.`)) run('/leave');
              }}
            >
              Leave
            </button>
          )}
        </div>
      </header>
      <nav id="rooms-panel" class="rooms" aria-label="Rooms">
        <Rooms page={page} run={run} onIdentity={() => open({ kind: 'identity' })} onPicked={() => setPanel('none')} />
      </nav>
      <main class="room">
        {room && (
          <KeyChangeBanner
            warnings={keyWarnings(view).filter((w) => w.room === room.id)}
            onCompare={(name) => open({ kind: 'verify-ask', name })}
            onAccept={(name) => run(`/trust ${name}`)}
          />
        )}
        {room && invite !== undefined && <InviteCard room={room} onShow={() => open({ kind: 'invite', roomName: room.name, link: invite })} />}
        <Messages items={items} markerBefore={markerBefore(page, items)} label={`Conversation in ${title}`} />
        <OutboxNote connection={view.connection} everConnected={view.everConnected} />
        <Composer placeholder={room ? `Message ${title} · /help` : 'Waiting for a room…'} onSend={run} prefill={prefill} />
      </main>
      <aside id="members-panel" class="members" aria-label="Members">
        <Members
          room={room}
          onVerify={(name) => {
            setPanel('none');
            open({ kind: 'verify-ask', name });
          }}
          onMessage={(name) => {
            setPanel('none');
            // An existing direct room with them is opened; otherwise the line starts one.
            const dm = rooms.find((r) => r.direct && r.joined && r.name === name);
            if (dm) run(`/switch ${dm.id}`);
            else setPrefill({ text: `/msg ${name} `, n: (prefill?.n ?? 0) + 1 });
          }}
        />
      </aside>
      {page.dialog && (
        <Dialogs
          dialog={page.dialog}
          onClose={() => open(undefined)}
          run={run}
          canExport={session.canExport}
          exportIdentity={(p) => session.exportIdentity(p)}
        />
      )}
    </div>
  );
}
