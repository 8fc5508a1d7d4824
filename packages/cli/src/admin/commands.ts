/**
 * The admin console's language (on `safehouse serve`'s standard input). Parsing only; admin.ts
 * runs them. A plain line is `@all` (to the default room).
 *
 *   /users  /kick NAME  /ban NAME  /key  /key export FILE  /help  /quit  @NAME TEXT  @all TEXT
 */
export type AdminCommand =
  | { kind: 'none' }
  | { kind: 'users' }
  | { kind: 'kick'; name: string }
  | { kind: 'ban'; name: string }
  | { kind: 'key' }
  | { kind: 'key-export'; file: string }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'all'; text: string }
  | { kind: 'dm'; name: string; text: string };

export type AdminParse =
  { ok: true; command: AdminCommand } | { ok: false; code: 'E_USAGE' | 'E_UNKNOWN_COMMAND'; message: string };

export const ADMIN_HELP: readonly { usage: string; description: string }[] = [
  { usage: '/users', description: 'members of the rooms you are in, with fingerprints' },
  { usage: '/kick NAME', description: 'remove NAME from your rooms (an MLS commit) and close its connection' },
  { usage: '/ban NAME', description: 'kick NAME, and refuse its key and its name until the server stops' },
  { usage: '/key', description: "the admin's fingerprint" },
  {
    usage: '/key export FILE',
    description: 'save the admin identity to FILE, encrypted under a passphrase (use it with --admin-key)',
  },
  { usage: '@NAME TEXT', description: 'a direct message to NAME' },
  { usage: '@all TEXT', description: 'a message to the default room (a plain line does the same)' },
  { usage: '/help', description: 'this list' },
  { usage: '/quit', description: 'tell every client the server is closing, wipe the state, exit' },
];

export function adminHelpText(): string {
  const w = Math.max(...ADMIN_HELP.map((h) => h.usage.length));
  return ADMIN_HELP.map((h) => `${h.usage.padEnd(w)}  ${h.description}`).join('\n');
}

const usage = (u: string): AdminParse => ({ ok: false, code: 'E_USAGE', message: `usage: ${u}` });

export function parseAdminLine(raw: string): AdminParse {
  const line = raw.replace(/\r?\n$/, '');
  const t = line.trim();
  if (t === '') return { ok: true, command: { kind: 'none' } };
  if (t.startsWith('@')) {
    const m = /^@(\S+)\s+([\s\S]+)$/.exec(t);
    if (!m?.[1] || !m[2]) return usage('@NAME TEXT  or  @all TEXT');
    return { ok: true, command: m[1] === 'all' ? { kind: 'all', text: m[2] } : { kind: 'dm', name: m[1], text: m[2] } };
  }
  if (t.startsWith('//')) return { ok: true, command: { kind: 'all', text: t.slice(1) } };
  if (!t.startsWith('/')) return { ok: true, command: { kind: 'all', text: t } };
  const [word = '', ...rest] = t.split(/\s+/);
  const args = rest.filter((a) => a !== '');
  switch (word.toLowerCase()) {
    case '/users':
      return args.length === 0 ? { ok: true, command: { kind: 'users' } } : usage('/users');
    case '/kick':
    case '/ban':
      if (args.length !== 1 || !args[0]) return usage(`${word.toLowerCase()} NAME`);
      return { ok: true, command: { kind: word.toLowerCase() === '/kick' ? 'kick' : 'ban', name: args[0] } };
    case '/key':
      if (args.length === 0) return { ok: true, command: { kind: 'key' } };
      if (args.length === 2 && args[0] === 'export' && args[1])
        return { ok: true, command: { kind: 'key-export', file: args[1] } };
      return usage('/key  or  /key export FILE');
    case '/help':
      return { ok: true, command: { kind: 'help' } };
    case '/quit':
      return { ok: true, command: { kind: 'quit' } };
    default:
      return {
        ok: false,
        code: 'E_UNKNOWN_COMMAND',
        message: `unknown command ${JSON.stringify(word.slice(0, 40))}; /help lists the admin commands`,
      };
  }
}
