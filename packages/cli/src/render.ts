/**
 * Line-mode rendering of client events for a terminal: one or more lines per event. Everything
 * that came from a peer (names, room names, text) goes through `safeText`, so no control or
 * escape sequence, bidi override or zero-width character reaches the terminal (THREATS D.23).
 */
import { formatDuration, safeText, type ClientEvent } from '@safehouse/core/client';
import { missingCaseError } from '@safehouse/core/protocol';

const s = (x: string): string => safeText(x);

function time(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function renderEvent(ev: ClientEvent): string {
  switch (ev.type) {
    case 'message': {
      const where = ev.direct ? `[dm ${s(ev.roomName)}] ` : '';
      const text = safeText(ev.text, { multiline: true }).replace(/\n/g, '\n      ');
      const timed = (ev.untimed ? ' [untimed! sent without the room\'s timer]' : '') + (ev.expiresAt === undefined ? '' : ` [expires ${new Date(ev.expiresAt).toTimeString().slice(0, 8)}]`);
      return ev.action ? `${time(ev.ts)} ${where}* ${s(ev.from)} ${text}${timed}` : `${time(ev.ts)} ${where}<${s(ev.from)}> ${text}${timed}`;
    }
    case 'joined':
      if (ev.direct) return `-- direct room with ${s(ev.roomName)}: only the two of you can read it`;
      return `-- you are in ${s(ev.roomName)} as ${s(ev.name)} (fingerprint ${ev.fingerprint})${ev.code === undefined ? '' : `; room code ${ev.code} (epoch ${ev.epoch}): a member's /code at that epoch shows the same, unless someone split you off`}`;
    case 'invite':
      return `-- invite link for ${s(ev.roomName)} (share it privately: it admits whoever holds it):\n   ${ev.link}`;
    case 'member-joined':
      return ev.direct ? `-- ${s(ev.name)} is in your direct room: only the two of you can read it` : `-- ${s(ev.name)} joined ${s(ev.roomName)}`;
    case 'member-left':
      if (ev.by === undefined) return `-- ${s(ev.name)} left ${s(ev.roomName)}`;
      return ev.absent ? `-- ${s(ev.name)} was removed from ${s(ev.roomName)} as absent (no sign of life), by ${s(ev.by)}` : `-- ${s(ev.name)} was removed from ${s(ev.roomName)} by ${s(ev.by)}`;
    case 'users':
      return [`-- members of ${s(ev.roomName)}:`, ...ev.users.map((u) => `   ${s(u.name)}${u.self ? ' (you)' : ''}  ${u.verified ? 'verified' : 'not verified'}  ${u.fingerprint}`)].join('\n');
    case 'key-changed':
      return `!! KEY CHANGED: ${s(ev.name)} in ${s(ev.roomName)} has a new key. ${s(ev.message)}`;
    case 'error':
      return `!! ${s(ev.message)} (${ev.code})`;
    case 'fatal':
      return `!! ${s(ev.message)} (${ev.code})`;
    case 'connection':
      switch (ev.state) {
        case 'connecting':
          return ev.attempt > 1 ? `-- connecting (attempt ${ev.attempt})` : '-- connecting';
        case 'connected':
          return ev.restarted ? '-- connected (the relay restarted; resending what it may have missed)' : '-- connected';
        case 'reconnecting':
          return `-- connection lost (${s(ev.reason)}); reconnecting in ${formatDuration(ev.delayMs)}`;
        case 'offline':
          return `-- offline: ${s(ev.reason)}`;
        default:
          throw missingCaseError(ev);
      }
    case 'fingerprint':
      return `-- your fingerprint (${s(ev.name)}): ${ev.fingerprint}`;
    case 'safety-number':
      return `-- safety number with ${s(ev.name)}: ${ev.safetyNumber}\n   compare it with theirs over another channel${ev.verified ? '; marked verified' : ''}`;
    case 'room-code':
      return `-- room code of ${s(ev.roomName)}: ${ev.code} (every member should see the same)`;
    case 'rooms':
      return ['-- rooms:', ...ev.rooms.map((r) => `   ${r.current ? '*' : ' '} ${s(r.roomName)}${r.direct ? ' (direct)' : ''}  ${r.members} members  ${r.room}`)].join('\n');
    case 'switched':
      return `-- now in ${s(ev.roomName)}`;
    case 'left':
      return `-- left ${s(ev.roomName)} (${ev.reason}${ev.by === undefined ? '' : ` by ${s(ev.by)}`})`;
    case 'help':
      return ev.text;
    case 'info':
      return `-- ${s(ev.message)}`;
    case 'expired':
      // A line already printed cannot be taken back: say so (the client wiped it from memory).
      return `-- a timed message expired (the client forgot it; this terminal's scrollback still shows it)`;
    case 'time':
      return `-- ${s(ev.message)}`;
    case 'ttl':
      return `-- ${s(ev.text)}`;
    case 'room-state':
    case 'current':
      return '';
    default:
      throw missingCaseError(ev);
  }
}
