/**
 * How each client event changes the UI's model (model.ts): what goes in which room's pane, the
 * member lists, warnings, the QR overlay. Every string from a peer goes through `safeText` here.
 */
import { safeText, type ClientEvent } from '@safehouse/core/client';
import type { Entry } from './lines.js';
import { KEY_HELP, type ChatModel, type Origin } from './model.js';
import { digitGroups } from './wrap.js';

/** Names and room names (a name has at most 32 characters: more is not a name). */
const s = (x: string): string => safeText(x, { maxChars: 200 });
/** Sentences from the client (they may quote a fingerprint). */
const sm = (x: string): string => safeText(x, { maxChars: 2000 });

export function applyEvent(m: ChatModel, ev: ClientEvent, origin: Origin): void {
  const now = m.now();
  switch (ev.type) {
    case 'message': {
      const room = m.ensureRoom(ev.room, ev.roomName, ev.direct);
      const from = s(ev.from);
      const text = safeText(ev.text, { multiline: true });
      if (ev.gap)
        m.notice(
          `${ev.gap} earlier message${ev.gap === 1 ? '' : 's'} from ${from} did not arrive (yet): dropped or delayed`,
          'warn',
          ev.room,
        );
      const entry: Entry = {
        kind: 'message',
        id: ev.id,
        fingerprint: ev.fingerprint,
        ts: ev.ts,
        from,
        text,
        self: ev.self === true,
        action: ev.action === true,
        ...(ev.expiresAt !== undefined ? { expiresAt: ev.expiresAt } : {}),
        ...(ev.untimed ? { untimed: true } : {}),
      };
      m.log(ev.direct ? { ...entry, direct: 'dm' } : entry, ev.room);
      // A direct message in another room than the one on screen is shown here too, marked.
      if (ev.direct && m.current !== undefined && m.current !== ev.room) {
        m.log({ ...entry, direct: ev.self ? `dm → ${room.name}` : 'dm' });
      }
      return;
    }
    case 'joined': {
      const room = m.ensureRoom(ev.room, ev.roomName, ev.direct);
      room.joined = true;
      m.me = { ...m.me, name: s(ev.name), fingerprint: ev.fingerprint };
      if (!room.members.has(m.me.name))
        room.members.set(m.me.name, {
          name: m.me.name,
          fingerprint: ev.fingerprint,
          verified: false,
          self: true,
          keyChanged: false,
        });
      m.notice(
        ev.direct
          ? `direct room with ${room.name}: only the two of you can read it`
          : `you are in ${room.name} as ${m.me.name}${ev.code === undefined ? '' : ` (room code ${ev.code}: compare with a member's /code)`}`,
        'good',
        ev.room,
      );
      return;
    }
    case 'invite': {
      const room = m.ensureRoom(ev.room, ev.roomName, false);
      const link = s(ev.link.slice(0, 2048));
      m.notice(
        `invite link for ${room.name} — share it privately: it admits whoever holds it${origin.asked ? '' : ' (/invite shows its QR code)'}:`,
        'info',
        ev.room,
      );
      m.log({ kind: 'notice', text: link, tone: 'link' }, ev.room);
      if (origin.asked === 'invite')
        m.showQr(
          `Invite to ${room.name}`,
          ['Share privately: whoever holds this link can ask to join.', link],
          ev.link,
          link,
        );
      return;
    }
    case 'member-joined': {
      const room = m.ensureRoom(ev.room, ev.roomName, false);
      const name = s(ev.name);
      room.members.set(name, { name, fingerprint: ev.fingerprint, verified: false, self: false, keyChanged: false });
      m.notice(room.direct ? `→ ${name} joined this direct room` : `→ ${name} joined ${room.name}`, 'join', ev.room);
      return;
    }
    case 'member-left': {
      const room = m.rooms.get(ev.room);
      const name = s(ev.name);
      room?.members.delete(name);
      const where = room?.name ?? s(ev.roomName);
      const how = ev.by === undefined ? '' : ev.absent ? ` as absent (no sign of life) by ${s(ev.by)}` : ` by ${s(ev.by)}`;
      m.notice(ev.by === undefined ? `← ${name} left ${where}` : `← ${name} was removed from ${where}${how}`, 'leave', ev.room);
      return;
    }
    case 'users': {
      const room = m.ensureRoom(ev.room, ev.roomName, false);
      m.setUsers(room, ev.users);
      if (origin.quiet) return;
      const lines = [...room.members.values()].map((m): [string, string] => [
        `${m.name}${m.self ? ' (you)' : ''}`,
        `${m.self ? '' : m.verified ? 'verified; ' : 'not verified; '}fingerprint ${m.fingerprint}`,
      ]);
      m.log({ kind: 'block', title: `members of ${room.name}:`, lines, tone: 'plain' }, ev.room);
      return;
    }
    case 'key-changed': {
      const room = m.ensureRoom(ev.room, ev.roomName, false);
      const name = s(ev.name);
      const member = room.members.get(name);
      if (member) member.keyChanged = true;
      m.warnings = [
        ...m.warnings.filter((w) => w.name !== name),
        { room: ev.room, roomName: room.name, name, message: sm(ev.message) },
      ];
      m.bannerHidden = false;
      m.notice(`KEY CHANGED: ${name} in ${room.name} has a new key: ${sm(ev.message)}`, 'warn', ev.room);
      return;
    }
    case 'error':
      m.notice(`${sm(ev.message)} (${ev.code})`, 'error', ev.room);
      return;
    case 'fatal':
      m.notice(`${sm(ev.message)} (${ev.code}) — /join LINK, /room create NAME, or /quit`, 'error');
      return;
    case 'connection': {
      const was = m.connection.state;
      m.connection = { ...ev, at: now };
      if (ev.state === 'reconnecting' && was !== 'reconnecting')
        m.notice(`connection lost (${sm(ev.reason)}); reconnecting`, 'leave');
      if (ev.state === 'connected' && (was === 'reconnecting' || ev.restarted))
        m.notice(
          ev.restarted ? 'connected again (the relay restarted; resending what it may have missed)' : 'connected again',
          'join',
        );
      if (ev.state === 'offline') m.notice(`offline: ${sm(ev.reason)}`, 'error');
      return;
    }
    case 'fingerprint': {
      m.me = { name: s(ev.name), fingerprint: ev.fingerprint };
      const title = `your fingerprint (${m.me.name}) — others see it in /users and compare it with theirs:`;
      m.log({ kind: 'block', title, lines: digitGroups(ev.fingerprint), tone: 'info' });
      if (origin.asked === 'fingerprint')
        m.showQr(`Your fingerprint (${m.me.name})`, digitGroups(ev.fingerprint), ev.fingerprint.replace(/ /g, ''));
      return;
    }
    case 'safety-number': {
      const name = s(ev.name);
      const room = m.rooms.get(ev.room);
      const member = room?.members.get(name);
      if (member) member.verified = ev.verified;
      m.clearWarning(name);
      const title = `safety number with ${name}: compare it with theirs over another channel${ev.verified ? `; ${name} is now marked verified` : ''}`;
      m.log({ kind: 'block', title, lines: digitGroups(ev.safetyNumber), tone: 'good' }, ev.room);
      m.showQr(
        `Safety number with ${name}`,
        [...digitGroups(ev.safetyNumber), `${name} scans this, or reads the digits aloud.`],
        ev.safetyNumber.replace(/ /g, ''),
      );
      return;
    }
    case 'room-code': {
      const room = m.ensureRoom(ev.room, ev.roomName, false);
      room.code = ev.code;
      if (!origin.quiet)
        m.notice(`room code of ${room.name}: ${ev.code} (every member should see the same)`, 'info', ev.room);
      return;
    }
    case 'rooms': {
      for (const r of ev.rooms) {
        const room = m.ensureRoom(r.room, r.roomName, r.direct);
        room.joined = r.joined;
      }
      if (origin.quiet) return;
      const lines = ev.rooms.map(
        (r) =>
          `${r.current ? '*' : ' '} ${s(r.roomName)}${r.direct ? ' (direct)' : ''}  ${r.members} members${r.joined ? '' : ' (waiting to be admitted)'}`,
      );
      m.log({ kind: 'block', title: 'your rooms (Ctrl-N/Ctrl-P or /switch ROOM):', lines, tone: 'plain' });
      return;
    }
    case 'switched':
      m.ensureRoom(ev.room, ev.roomName, false);
      m.setCurrent(ev.room);
      return;
    case 'left': {
      const name = m.rooms.get(ev.room)?.name ?? s(ev.roomName);
      m.rooms.delete(ev.room);
      if (m.current === ev.room) m.current = m.rooms.keys().next().value;
      const why = {
        left: 'you left',
        removed: 'you were removed',
        refused: 'a member refused to admit you',
        timeout: 'no member admitted you in time',
      }[ev.reason];
      m.notice(`${why}${ev.by === undefined ? '' : ` by ${s(ev.by)}`}: ${name}`, ev.reason === 'left' ? 'info' : 'error');
      return;
    }
    case 'help':
      m.log({
        kind: 'block',
        title: 'commands (a plain line is a message):',
        lines: ev.text.split('\n'),
        tone: 'plain',
      });
      m.log({ kind: 'block', title: 'keys:', lines: KEY_HELP, tone: 'plain' });
      return;
    case 'expired':
      // Wiped from every pane it is in (a direct message may also be shown in another room's).
      for (const list of [m.lobby, ...[...m.rooms.values()].map((r) => r.entries)]) {
        for (let i = list.length - 1; i >= 0; i--) {
          const e = list[i];
          if (e?.kind === 'message' && e.id === ev.id && e.fingerprint === ev.fingerprint) list.splice(i, 1);
        }
      }
      return;
    case 'time': {
      const was = m.time;
      m.time = ev.state;
      if (ev.state === 'unproven')
        m.notice(`${sm(ev.message)} — timed messages are hidden until time is proven again`, 'warn');
      else if (was === 'unproven') m.notice(sm(ev.message), 'info');
      return;
    }
    case 'ttl': {
      const room = m.ensureRoom(ev.room, ev.roomName, false);
      room.ttl = ev.ms;
      m.notice(sm(ev.text), 'info', ev.room);
      return;
    }
    case 'room-state':
    case 'current':
      return;
    case 'info':
      if (origin.asked === 'trust') {
        for (const w of m.warnings) if (ev.message.includes(w.name)) m.clearWarning(w.name);
      }
      m.notice(sm(ev.message), 'info', ev.room);
      return;
    default: {
      const never: never = ev;
      return never;
    }
  }
}
