/**
 * The chat screen: rooms on the left, the current room in the middle, its members on the right
 * (on a phone, rooms and members open as panels from the header). Buttons send the same
 * commands a user can type (/switch, /verify, /trust, /code, /leave, /msg ...).
 */
import { formatTtl } from '@safehouse/core/client';
import { useState } from 'preact/hooks';
import type { Session } from '../session.js';
import type { ChatState, UiAction } from '../state.js';
import { ConnectionPill, InviteCard, KeyChangeBanner, OutboxNote } from './Banners.js';
import { Composer } from './Composer.js';
import { Dialogs } from './Dialogs.js';
import { Members } from './Members.js';
import { Messages } from './Messages.js';
import { Rooms } from './Rooms.js';
import { shown } from './text.js';

type Props = { state: ChatState; session: Session; dispatch: (a: UiAction) => void };
type Panel = 'none' | 'rooms' | 'members';

export function Chat({ state, session, dispatch }: Props) {
  const [panel, setPanel] = useState<Panel>('none');
  const [prefill, setPrefill] = useState<{ text: string; n: number }>();
  const room = state.current === undefined ? undefined : state.rooms.get(state.current);
  const run = (line: string) => session.run(line);
  const toggle = (p: Panel) => setPanel(panel === p ? 'none' : p);
  const title = room ? (room.direct ? `@${shown(room.name)}` : `#${shown(room.name)}`) : 'Safehouse';

  return (
    <div
      class={`chat panel-${panel}`}
      onKeyDown={(e) => {
        // Escape closes an open panel (on a phone), without reaching an open dialog.
        if (e.key === 'Escape' && panel !== 'none' && !state.dialog) setPanel('none');
      }}
    >
      <header class="topbar">
        <button type="button" class="only-phone" aria-expanded={panel === 'rooms'} aria-controls="rooms-panel" onClick={() => toggle('rooms')}>
          Rooms{[...state.rooms.values()].some((r) => r.unread > 0) ? ' •' : ''}
        </button>
        <h1 class="room-title">{title}</h1>
        <ConnectionPill connection={state.connection} />
        {room !== undefined && room.ttlMs > 0 && (
          <span class="pill warn" role="status" title="New messages in this room disappear after this time; a recipient can always copy what it was shown.">
            timer {formatTtl(room.ttlMs)}
          </span>
        )}
        <div class="room-actions">
          {room?.invite !== undefined && (
            <button type="button" onClick={() => dispatch({ type: 'ui-dialog', dialog: { kind: 'invite', roomName: room.name, link: room.invite ?? '' } })}>
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
        <Rooms state={state} run={run} onIdentity={() => dispatch({ type: 'ui-dialog', dialog: { kind: 'identity' } })} onPicked={() => setPanel('none')} />
      </nav>
      <main class="room">
        {room && (
          <KeyChangeBanner
            room={room}
            onCompare={(name) => dispatch({ type: 'ui-dialog', dialog: { kind: 'verify-ask', name } })}
            onAccept={(name) => {
              run(`/trust ${name}`);
              dispatch({ type: 'ui-trusted', room: room.id, name });
            }}
          />
        )}
        {room && <InviteCard room={room} onShow={() => dispatch({ type: 'ui-dialog', dialog: { kind: 'invite', roomName: room.name, link: room.invite ?? '' } })} />}
        <Messages lines={room ? room.lines : state.notices} markerAt={room?.markerAt} label={`Conversation in ${title}`} />
        <OutboxNote connection={state.connection} everConnected={state.everConnected} />
        <Composer placeholder={room ? `Message ${title} · /help` : 'Waiting for a room…'} onSend={run} prefill={prefill} />
      </main>
      <aside id="members-panel" class="members" aria-label="Members">
        <Members
          room={room}
          onVerify={(name) => {
            setPanel('none');
            dispatch({ type: 'ui-dialog', dialog: { kind: 'verify-ask', name } });
          }}
          onMessage={(name) => {
            setPanel('none');
            // An existing direct room with them is opened; otherwise the line starts one.
            const dm = [...state.rooms.values()].find((r) => r.direct && r.joined && r.name === name);
            if (dm) run(`/switch ${dm.id}`);
            else setPrefill({ text: `/msg ${name} `, n: (prefill?.n ?? 0) + 1 });
          }}
        />
      </aside>
      {state.dialog && (
        <Dialogs
          dialog={state.dialog}
          onClose={() => dispatch({ type: 'ui-dialog', dialog: undefined })}
          run={run}
          canExport={session.canExport}
          exportIdentity={(p) => session.exportIdentity(p)}
        />
      )}
    </div>
  );
}
