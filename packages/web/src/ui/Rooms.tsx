/**
 * The room switcher, with unread counts and key-change flags; forms to create a room and to
 * join one by its link; and "you": your name, your fingerprint, saving the identity.
 */
import { keyWarnings, roomList, type ViewRoom } from '@safehouse/core/client';
import { useState } from 'preact/hooks';
import { unread, type PageState } from '../state.js';
import { shown } from './text.js';

type Props = {
  page: PageState;
  run: (line: string) => void;
  onIdentity: () => void;
  onPicked: () => void;
};

function roomLabel(r: ViewRoom): string {
  const name = r.direct ? `@${shown(r.name)}` : `#${shown(r.name)}`;
  return r.joined ? name : `${name} (waiting to be admitted)`;
}

export function Rooms({ page, run, onIdentity, onPicked }: Props) {
  const [newRoom, setNewRoom] = useState('');
  const [link, setLink] = useState('');
  const { view } = page;
  const changed = new Set(keyWarnings(view).map((w) => w.room));
  const rooms = roomList(view).map((r) => ({ r, unread: unread(page, r.id), keyChanged: changed.has(r.id) }));
  return (
    <>
      <h2 class="panel-title">Rooms</h2>
      <ul class="room-list">
        {rooms.map(({ r, unread, keyChanged }) => (
          <li key={r.id}>
            <button
              type="button"
              class="room-button"
              aria-current={r.id === view.current ? 'page' : undefined}
              aria-label={`${roomLabel(r)}${unread ? `, ${unread} unread` : ''}${keyChanged ? ', a key changed' : ''}`}
              onClick={() => {
                run(`/switch ${r.id}`);
                onPicked();
              }}
            >
              <span class="room-name">{roomLabel(r)}</span>
              {keyChanged && <span class="badge danger">key changed</span>}
              {unread > 0 && <span class="badge">{unread}</span>}
            </button>
          </li>
        ))}
      </ul>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (newRoom.trim() === '') return;
          run(`/room create ${newRoom.trim()}`);
          setNewRoom('');
          onPicked();
        }}
      >
        <input aria-label="New room name" placeholder="Room name" maxLength={32} value={newRoom} onInput={(e) => setNewRoom(e.currentTarget.value)} />
        <button type="submit">Create</button>
      </form>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (link.trim() === '') return;
          run(`/join ${link.trim()}`);
          setLink('');
          onPicked();
        }}
      >
        <input aria-label="Invite link of another room" placeholder="Invite link" value={link} onInput={(e) => setLink(e.currentTarget.value)} />
        <button type="submit">Join</button>
      </form>
      <section class="me" aria-label="You">
        <h2 class="panel-title">You</h2>
        <p>
          <strong>{shown(view.me.name)}</strong>
        </p>
        <p class="fingerprint" title="your fingerprint">
          {view.me.fingerprint ?? 'making keys…'}
        </p>
        <button type="button" onClick={onIdentity}>
          Save identity…
        </button>
      </section>
    </>
  );
}
