/**
 * What must not be missed: the connection state (always on screen), a changed key (a red
 * alert above the messages until the user decides), and an invitation card in a new room.
 */
import { formatDuration, type ConnectionState, type ViewRoom } from '@safehouse/core/client';
import { shown } from './text.js';

export function ConnectionPill({ connection }: { connection: ConnectionState }) {
  // With several relays in the link, which one (host:port; never the path).
  const to = connection.state !== 'offline' && connection.relays > 1 ? ` to ${connection.endpoint}` : '';
  const [tone, text] =
    connection.state === 'connected'
      ? ['ok', `Connected${to}`]
      : connection.state === 'connecting'
        ? ['warn', `Connecting${to}…`]
        : connection.state === 'reconnecting'
          ? ['warn', `Reconnecting in ${formatDuration(Math.max(1_000, connection.delayMs))}`]
          : ['danger', 'Offline'];
  return (
    <span class={`pill ${tone}`} role="status" aria-label={`Connection: ${text}`}>
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

export function OutboxNote({ connection, everConnected }: { connection: ConnectionState; everConnected: boolean }) {
  if (connection.state === 'connected') return null;
  if (!everConnected && (connection.state !== 'connecting' || connection.attempt > 1))
    return (
      <p class="outbox-note" role="status">
        The relay does not answer. If this server has a password, it is missing or wrong: reload the page and enter it under Options. What you send
        now is kept until the connection works.
      </p>
    );
  return <p class="outbox-note">Not connected: what you send now is kept and delivered when the connection is back.</p>;
}

/**
 * `warnings`: the room's members whose key changed and who were neither verified again nor
 * trusted (the view's `keyWarnings`); `blocked`: the old key was verified, so the room sends
 * nothing until the user decides.
 */
export function KeyChangeBanner({
  warnings,
  onCompare,
  onAccept,
}: {
  warnings: ReadonlyArray<{ name: string; blocked: boolean }>;
  onCompare: (name: string) => void;
  onAccept: (name: string) => void;
}) {
  if (warnings.length === 0) return null;
  return (
    <div class="key-banner" role="alert">
      {warnings.map(({ name, blocked }) => (
        <div key={name} class="key-banner-row">
          <p>
            <strong>Warning: {shown(name)}'s key changed.</strong> Someone else may be using this name, or {shown(name)} is on a new device. Compare
            safety numbers before you trust their messages.{blocked ? ' You had verified the old key: nothing you write here is sent until you decide.' : ''}
          </p>
          <div class="key-banner-actions">
            <button type="button" class="primary" onClick={() => onCompare(name)}>
              Compare safety number
            </button>
            <button type="button" onClick={() => onAccept(name)}>
              Accept new key
            </button>
          </div>
        </div>
      ))}
    </div>
  );
}

/** In a room of one (this device) that has a link to share. */
export function InviteCard({ room, onShow }: { room: ViewRoom; onShow: () => void }) {
  if (room.direct || room.members.length !== 1) return null;
  return (
    <div class="invite-card">
      <p>
        <strong>Invite people to #{shown(room.name)}</strong>: share its link privately (anyone holding it can ask to join; you must be online to admit
        them).
      </p>
      <button type="button" class="primary" onClick={onShow}>
        Show invite link
      </button>
    </div>
  );
}
