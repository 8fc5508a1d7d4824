/**
 * The room switcher, with unread counts and key-change flags; forms to create a room and to
 * join one by its link; and "you": your name, your fingerprint, saving the identity.
 */
import { useState } from 'preact/hooks';
import type { ChatState, RoomView } from '../state.js';
import { shown } from './text.js';

type Props = {
  state: ChatState;
  run: (line: string) => void;
  onIdentity: () => void;
  onPicked: () => void;
};

function roomLabel(r: RoomView): string {
  const name = r.direct ? `@${shown(r.name)}` : `#${shown(r.name)}`;
  return r.joined ? name : `${name} (waiting to be admitted)`;
}

export function Rooms({ state, run, onIdentity, onPicked }: Props) {
  const [newRoom, setNewRoom] = useState('');
  const [link, setLink] = useState('');
  const rooms = [...state.rooms.values()];
  return (
    <>
      <h2 class="panel-title">Rooms</h2>
      <ul class="room-list">
        {rooms.map((r) => (
          <li key={r.id}>
            <button
              type="button"
              class="room-button"
              aria-current={r.id === state.current ? 'page' : undefined}
              aria-label={`${roomLabel(r)}${r.unread ? `, ${r.unread} unread` : ''}${r.keyChanged.length ? ', a key changed' : ''}`}
              onClick={() => {
                run(`/switch ${r.id}`);
                onPicked();
              }}
            >
              <span class="room-name">{roomLabel(r)}</span>
              {r.keyChanged.length > 0 && <span class="badge danger">key changed</span>}
              {r.unread > 0 && <span class="badge">{r.unread}</span>}
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
          <strong>{shown(state.me.name)}</strong>
        </p>
        <p class="fingerprint" title="your fingerprint">
          {state.me.fingerprint ?? 'making keys…'}
        </p>
        <button type="button" onClick={onIdentity}>
          Save identity…
        </button>
      </section>
    </>
  );
}
