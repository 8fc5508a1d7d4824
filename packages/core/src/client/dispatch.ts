/**
 * What each command of the language (commands.ts) does, on the client's rooms. Failures the user
 * can fix are `error` events with a stable code and a sentence; nothing here throws for them.
 */
import type { Member } from '../e2ee/api.js';
import { roomCode, safetyNumber } from '../e2ee/index.js';
import { missingCaseError, type ErrorCode } from '../protocol/errors.js';
import { COMMAND_HELP, type Command } from './commands.js';
import type { RoomContext } from './context.js';
import type { ClientEvent } from './events.js';
import type { DirectMessages } from './direct.js';
import { normalizeName } from './names.js';
import type { Room } from './room.js';

/** How long `/ttl` waits for its commit to land before the next command runs (it lands later all the same). */
const TIMER_WAIT_MS = 10_000;

export interface CommandHost {
  readonly ctx: RoomContext;
  readonly rooms: Map<string, Room>;
  readonly direct: DirectMessages;
  current(): Room | undefined;
  setCurrent(room: Room): void;
  createRoom(name: string): Promise<CommandOutcome>;
  /** The invite link of one of our rooms (its fragment carries the room's secret). */
  inviteLink(room: Room): string;
  joinLink(link: string): Promise<CommandOutcome>;
  quit(): Promise<unknown>;
  /** The user verified or trusted a key: every room's snapshot may have changed. */
  pinsChanged(): void;
}

/**
 * What one command did, for the caller (the same is also said as events, for every UI): `ok`,
 * with `shown` the event that answered it (`/users`, `/invite`, `/code`, `/verify` …), or the
 * error with its code.
 */
export type CommandOutcome =
  | { ok: true; command: Command['kind']; shown?: ClientEvent }
  | { ok: false; command: Command['kind'] | undefined; code: ErrorCode; message: string };

const NO_ROOM = 'you are in no room yet: /join LINK or /room create NAME';

function sameName(a: string, b: string): boolean {
  return a.normalize('NFKC') === b.normalize('NFKC');
}

export async function runCommand(host: CommandHost, cmd: Command): Promise<CommandOutcome> {
  const { ctx } = host;
  const ok: CommandOutcome = { ok: true, command: cmd.kind };
  /** Says it (an `error` event, for every UI and the log) and returns it (for the caller). */
  const fail = (code: ErrorCode, message: string, room?: string): CommandOutcome => {
    ctx.emit({ type: 'error', code, message, ...(room ? { room } : {}) });
    return { ok: false, command: cmd.kind, code, message };
  };
  /** The answer to a command that shows something: emitted, and returned to the caller. */
  const show = (event: ClientEvent): CommandOutcome => {
    ctx.emit(event);
    return { ok: true, command: cmd.kind, shown: event };
  };
  let failed: CommandOutcome | undefined;

  /** The current room, if this device is a member of it (`writing`: or is being re-admitted; what it writes waits). */
  const memberRoom = (writing = false): Room | undefined => {
    const room = host.current();
    if (!room) return void (failed = fail('E_NO_ROOM', NO_ROOM));
    if (!room.isMember() && !(writing && room.readmitting())) return void (failed = fail('E_NO_ROOM', `you are not a member of ${room.roomName} yet: waiting for a member to admit you`, room.id));
    return room;
  };

  /** A member called `name`: in the current room first, then in any room. */
  const findMember = (name: string): { room: Room; member: Member } | undefined => {
    const cur = host.current();
    const rooms = cur ? [cur, ...[...host.rooms.values()].filter((r) => r !== cur)] : [...host.rooms.values()];
    for (const room of rooms) {
      const member = room.others().find((m) => sameName(m.name, name));
      if (member) return { room, member };
    }
    failed = fail('E_UNKNOWN_MEMBER', `no member called "${name}" in your rooms; /users lists the current room`);
    return undefined;
  };

  switch (cmd.kind) {
    case 'none':
      return ok;
    case 'say':
    case 'me': {
      const room = memberRoom(true);
      if (!room) return failed ?? ok;
      const r = await room.send({ t: cmd.kind === 'say' ? 'text' : 'me', text: cmd.text });
      return r.ok ? ok : fail(r.code, r.message, room.id);
    }
    case 'msg': {
      const found = findMember(cmd.name);
      if (!found) return failed ?? ok;
      const r = await host.direct.send(found.room, found.member, cmd.text);
      if (!r.ok) return fail(r.code, r.message, found.room.id);
      if ('queued' in r) return show({ type: 'info', message: `your message to ${found.member.name} will be sent once they join your direct room` });
      return ok;
    }
    case 'users': {
      const room = memberRoom();
      if (!room?.session) return failed ?? ok;
      const me = room.session.myLeaf();
      const users = await Promise.all(
        room.members().map(async (m) => ({
          name: m.name,
          fingerprint: await ctx.fingerprint(m.fingerprint),
          verified: m.leaf !== me && ctx.pins.isVerified(m.name, m.fingerprint),
          self: m.leaf === me,
        })),
      );
      return show({ type: 'users', room: room.id, roomName: room.roomName, users });
    }
    case 'room-create':
      return host.createRoom(cmd.name);
    case 'invite': {
      const room = memberRoom();
      if (!room) return failed ?? ok;
      // A direct room admits its two members only: it has no link to share.
      if (room.direct) return fail('E_USAGE', `${room.roomName} is a direct-message room: it has no invite link`, room.id);
      return show({ type: 'invite', room: room.id, roomName: room.roomName, link: host.inviteLink(room) });
    }
    case 'join':
      return host.joinLink(cmd.link);
    case 'rooms': {
      const cur = host.current();
      const rooms = [...host.rooms.values()].map((r) => ({
        room: r.id,
        roomName: r.roomName,
        members: r.members().length,
        current: r === cur,
        direct: r.direct !== undefined,
        joined: r.isMember(),
      }));
      return show({ type: 'rooms', rooms });
    }
    case 'switch': {
      const byId = host.rooms.get(cmd.room);
      const byName = [...host.rooms.values()].filter((r) => sameName(r.roomName, cmd.room));
      const room = byId ?? (byName.length === 1 ? byName[0] : undefined);
      if (!room) {
        if (byName.length > 1) return fail('E_USAGE', `several rooms are called "${cmd.room}": use the id that /rooms shows`);
        return fail('E_NO_ROOM', `no room called "${cmd.room}"; /rooms lists yours`);
      }
      host.setCurrent(room);
      return show({ type: 'switched', room: room.id, roomName: room.roomName });
    }
    case 'leave': {
      const room = host.current();
      if (!room) return fail('E_NO_ROOM', NO_ROOM);
      await room.leave();
      return ok;
    }
    case 'fingerprint':
      return show({ type: 'fingerprint', name: ctx.name, fingerprint: await ctx.fingerprint(ctx.identity.fingerprint) });
    case 'safety': {
      // Only shows the number (a UI asks "do they match?" before /verify); pins are untouched.
      const found = findMember(cmd.name);
      if (!found) return failed ?? ok;
      const { member, room } = found;
      const number = await safetyNumber(ctx.identity.publicKey, member.publicKey);
      return show({ type: 'safety-number', room: room.id, name: member.name, safetyNumber: number, verified: ctx.pins.isVerified(member.name, member.fingerprint) });
    }
    case 'verify': {
      const found = findMember(cmd.name);
      if (!found) return failed ?? ok;
      const { member, room } = found;
      const number = await safetyNumber(ctx.identity.publicKey, member.publicKey);
      // The number the user compared belongs to the key the name had then: another key under the
      // name since (the member left, someone else joined as it) is not what they compared.
      if (cmd.number !== undefined && number.replace(/\s+/g, '') !== cmd.number)
        return fail('E_KEY_CHANGED', `not marked verified: the key of ${member.name} is not the one whose safety number you compared (it changed since); compare again`, room.id);
      // The key this member has now becomes the pin, verified (the user compares the number).
      ctx.pins.verify(member.name, member.fingerprint);
      host.pinsChanged();
      return show({ type: 'safety-number', room: room.id, name: member.name, safetyNumber: number, verified: true });
    }
    case 'trust': {
      const found = findMember(cmd.name);
      if (!found) return failed ?? ok;
      ctx.pins.trust(found.member.name, found.member.fingerprint);
      host.pinsChanged();
      return show({ type: 'info', message: `you accepted the current key of ${found.member.name} (${await ctx.fingerprint(found.member.fingerprint)})`, room: found.room.id });
    }
    case 'code': {
      const room = memberRoom();
      if (!room?.session) return failed ?? ok;
      const code = await roomCode(room.session.epochAuthenticator());
      return show({ type: 'room-code', room: room.id, roomName: room.roomName, code, epoch: room.session.epoch() });
    }
    case 'ttl': {
      const room = memberRoom();
      if (!room) return failed ?? ok;
      // A commit (the timer is group state): the `ttl` event comes once it landed, here and at
      // every member. What is typed next waits for it (so it is timed), but not for ever: a
      // relay that holds the commit back must not freeze the input.
      let timer: { cancel(): void } | undefined;
      const slow = new Promise<'slow'>((resolve) => (timer = ctx.clock.setTimeout(() => resolve('slow'), TIMER_WAIT_MS)));
      const landed = await Promise.race([room.setTimer(cmd.ms), slow]);
      timer?.cancel();
      if (landed === 'slow') return show({ type: 'info', message: `the timer of ${room.roomName} is not set yet (the change waits for the relay); messages sent meanwhile follow the current timer`, room: room.id });
      return landed ? ok : fail('E_NO_ROOM', 'the timer was not set: this device is no longer a member of the room', room.id);
    }
    case 'help': {
      const width = Math.max(...COMMAND_HELP.map((h) => h.usage.length));
      const text = COMMAND_HELP.map((h) => `${h.usage.padEnd(width)}  ${h.description}`).join('\n');
      return show({ type: 'help', commands: [...COMMAND_HELP], text });
    }
    case 'quit':
      await host.quit();
      return ok;
    default:
      throw missingCaseError(cmd);
  }
}

/** Room names follow the display-name rules (one word, no invisible characters). */
export function checkRoomName(name: string): { ok: true; name: string } | { ok: false; message: string } {
  const n = normalizeName(name);
  return n.ok ? n : { ok: false, message: n.message.replace(/^a name/, 'a room name') };
}
