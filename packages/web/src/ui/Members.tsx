/** The current room's members (its snapshot in the view), each with its verification state, "Verify" and "Message". */
import type { ViewRoom } from '@safehouse/core/client';
import { shown } from './text.js';

type Props = {
  room: ViewRoom | undefined;
  onVerify: (name: string) => void;
  onMessage: (name: string) => void;
};

export function Members({ room, onVerify, onMessage }: Props) {
  if (!room) return null;
  return (
    <>
      <h2 class="panel-title">Members ({room.members.length})</h2>
      <ul class="member-list">
        {room.members.map((m) => {
          const changed = m.keyChanged;
          const state = m.self ? 'you' : changed ? 'key changed' : m.verified ? 'verified' : 'not verified';
          return (
            <li key={m.fingerprint} class="member">
              <div class="member-head">
                <span class="member-name">{shown(m.name)}</span>
                <span class={`badge ${changed ? 'danger' : m.verified ? 'ok' : m.self ? '' : 'muted'}`}>{state}</span>
              </div>
              <div class="fingerprint">{m.fingerprint}</div>
              {!m.self && (
                <div class="member-actions">
                  <button type="button" aria-label={`Verify ${shown(m.name)}`} onClick={() => onVerify(m.name)}>
                    Verify
                  </button>
                  {!room.direct && (
                    <button type="button" aria-label={`Direct message to ${shown(m.name)}`} onClick={() => onMessage(m.name)}>
                      Message
                    </button>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
