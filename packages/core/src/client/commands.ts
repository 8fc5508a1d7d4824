/**
 * The one command language every interface speaks (terminal UI, `--json` stdin, browser).
 * A plain line is a message to the current room; a line starting with `/` is a command; a line
 * starting with `//` is a message whose text starts with one `/`.
 *
 * Parsing only: it returns a tagged union, or `E_UNKNOWN_COMMAND` / `E_USAGE` with the usage
 * line. What a command does is up to the client (`dispatch.ts`).
 */
import { LIMITS } from '../protocol/limits.js';

export type Command =
  /** A blank line: nothing to do. */
  | { kind: 'none' }
  | { kind: 'say'; text: string }
  | { kind: 'msg'; name: string; text: string }
  | { kind: 'me'; text: string }
  | { kind: 'users' }
  | { kind: 'room-create'; name: string }
  | { kind: 'invite' }
  | { kind: 'join'; link: string }
  | { kind: 'rooms' }
  | { kind: 'switch'; room: string }
  | { kind: 'leave' }
  | { kind: 'fingerprint' }
  | { kind: 'safety'; name: string }
  /** `number`: the safety number the user compared (its 60 digits): only the key it belongs to is marked verified. */
  | { kind: 'verify'; name: string; number?: string }
  | { kind: 'trust'; name: string }
  | { kind: 'code' }
  /** `/ttl DURATION` (ms) or `/ttl off` (0). */
  | { kind: 'ttl'; ms: number }
  | { kind: 'help' }
  | { kind: 'quit' };

export type ParseResult = { ok: true; command: Command } | { ok: false; code: 'E_UNKNOWN_COMMAND' | 'E_USAGE'; message: string };

export type CommandHelp = { usage: string; description: string };

/** The language, in the order `/help` lists it. */
export const COMMAND_HELP: readonly CommandHelp[] = [
  { usage: 'TEXT', description: 'send TEXT to the current room (start it with // to send a leading /)' },
  { usage: '/msg NAME TEXT', description: 'send TEXT privately to NAME (a direct-message room)' },
  { usage: '/me TEXT', description: 'send an action ("* you TEXT")' },
  { usage: '/users', description: 'list the members of the current room, with fingerprints' },
  { usage: '/room create NAME', description: 'create a room and show its invite link' },
  { usage: '/invite', description: "show the current room's invite link (share it privately: it admits whoever holds it)" },
  { usage: '/join LINK', description: 'join a room from its invite link' },
  { usage: '/rooms', description: 'list your rooms' },
  { usage: '/switch ROOM', description: 'make ROOM (a name or an id) the current room' },
  { usage: '/leave', description: 'leave the current room' },
  { usage: '/fingerprint', description: 'show your own fingerprint' },
  { usage: '/safety NAME', description: 'show the safety number you share with NAME, to compare before /verify' },
  { usage: '/verify NAME [NUMBER]', description: "show the safety number you share with NAME, then mark NAME's key verified (with NUMBER: only if it is still the number you compared)" },
  { usage: '/trust NAME', description: "accept NAME's changed key" },
  { usage: '/code', description: 'show the room code (all members see the same one)' },
  { usage: '/ttl DURATION', description: 'make new messages in this room disappear after DURATION (30s, 5m, 1h, 1d; /ttl off clears it); recipients can still copy what they were shown' },
  { usage: '/help', description: 'show this list' },
  { usage: '/quit', description: 'deliver pending messages, leave and exit' },
];

function usage(name: string): ParseResult {
  const entry = COMMAND_HELP.find((h) => h.usage === name || h.usage.startsWith(`${name} `));
  return { ok: false, code: 'E_USAGE', message: `usage: ${entry?.usage ?? name}` };
}

/** Splits off the first whitespace-separated word. */
function firstWord(s: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(s);
  return m ? [m[1] ?? '', m[2] ?? ''] : ['', ''];
}

const NO_ARGS = {
  '/users': 'users',
  '/rooms': 'rooms',
  '/invite': 'invite',
  '/leave': 'leave',
  '/fingerprint': 'fingerprint',
  '/code': 'code',
  '/help': 'help',
  '/quit': 'quit',
} as const;

export function parseCommand(line: string): ParseResult {
  // Strip one trailing line ending (stdin readers may leave it); keep other whitespace of a message.
  const text = line.replace(/\r?\n$/, '');
  if (text.trim() === '') return { ok: true, command: { kind: 'none' } };
  if (text.startsWith('//')) return { ok: true, command: { kind: 'say', text: text.slice(1) } };
  if (!text.startsWith('/')) return { ok: true, command: { kind: 'say', text } };

  const [word, rest] = firstWord(text.trim());
  const cmd = word.toLowerCase();
  const arg = rest.trim();
  if (Object.prototype.hasOwnProperty.call(NO_ARGS, cmd)) {
    if (arg !== '') return usage(cmd);
    return { ok: true, command: { kind: NO_ARGS[cmd as keyof typeof NO_ARGS] } };
  }
  switch (cmd) {
    case '/msg': {
      const [name, body] = firstWord(arg);
      if (name === '' || body.trim() === '') return usage('/msg');
      return { ok: true, command: { kind: 'msg', name, text: body } };
    }
    case '/me':
      if (arg === '') return usage('/me');
      return { ok: true, command: { kind: 'me', text: arg } };
    case '/room': {
      const [sub, name] = firstWord(arg);
      if (sub.toLowerCase() !== 'create' || name === '' || /\s/.test(name)) return usage('/room create');
      return { ok: true, command: { kind: 'room-create', name } };
    }
    case '/join':
      if (arg === '' || /\s/.test(arg)) return usage('/join');
      return { ok: true, command: { kind: 'join', link: arg } };
    case '/switch':
      if (arg === '' || /\s/.test(arg)) return usage('/switch');
      return { ok: true, command: { kind: 'switch', room: arg } };
    case '/ttl': {
      const ms = parseDuration(arg);
      if (ms === undefined) return usage('/ttl');
      return { ok: true, command: { kind: 'ttl', ms } };
    }
    case '/verify': {
      // The number the user compared, if given (a UI's "they match" passes the one it showed):
      // the key may have changed under the name since it was shown.
      const [name, number] = firstWord(arg);
      const digits = number.replace(/\s+/g, '');
      if (name === '' || (digits !== '' && !/^[0-9]{60}$/.test(digits))) return usage(cmd);
      return { ok: true, command: { kind: 'verify', name, ...(digits === '' ? {} : { number: digits }) } };
    }
    case '/safety':
    case '/trust': {
      if (arg === '' || /\s/.test(arg)) return usage(cmd);
      return { ok: true, command: { kind: cmd === '/safety' ? 'safety' : 'trust', name: arg } };
    }
    default:
      return {
        ok: false,
        code: 'E_UNKNOWN_COMMAND',
        message: `unknown command ${JSON.stringify(word.slice(0, 40))}; type /help for the list (start a message with // to send a leading /)`,
      };
  }
}

/** Whether a line is `/quit` (as every interface must decide it: one parser; any case, spaces after; a line that starts with a space is a message). */
export function isQuit(line: string): boolean {
  const r = parseCommand(line);
  return r.ok && r.command.kind === 'quit';
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `5m`, `1h`, `1d` (1 s to 7 days) → ms; `off` → 0; anything else → undefined. */
export function parseDuration(text: string): number | undefined {
  if (text.toLowerCase() === 'off') return 0;
  const m = /^([0-9]{1,6})([smhd])$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms >= 1_000 && ms <= LIMITS.maxTtlMs ? ms : undefined;
}
