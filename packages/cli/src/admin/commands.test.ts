/**
 * The admin console's language (admin/commands.ts): every command, its usage errors, and that a
 * plain line or `//` goes to the default room.
 */
import { describe, expect, it } from 'vitest';
import { adminHelpText, parseAdminLine } from './commands.js';

describe('admin console language', () => {
  it('parses every command', () => {
    const table: [string, unknown][] = [
      ['', { kind: 'none' }],
      ['/users', { kind: 'users' }],
      ['/kick alice', { kind: 'kick', name: 'alice' }],
      ['/BAN  bob ', { kind: 'ban', name: 'bob' }],
      ['/key', { kind: 'key' }],
      ['/key export /tmp/admin.key', { kind: 'key-export', file: '/tmp/admin.key' }],
      ['/help', { kind: 'help' }],
      ['/quit', { kind: 'quit' }],
      ['@all hello  there', { kind: 'all', text: 'hello  there' }],
      ['@bob psst', { kind: 'dm', name: 'bob', text: 'psst' }],
      ['just a line', { kind: 'all', text: 'just a line' }],
      ['//slash first', { kind: 'all', text: '/slash first' }],
    ];
    for (const [line, command] of table) expect(parseAdminLine(line), line).toEqual({ ok: true, command });
  });

  it('refuses wrong usage with E_USAGE and unknown commands with E_UNKNOWN_COMMAND', () => {
    for (const line of ['/kick', '/kick a b', '/users x', '/key import f', '/key export', '@bob', '@all'])
      expect(parseAdminLine(line), line).toMatchObject({ ok: false, code: 'E_USAGE' });
    expect(parseAdminLine('/frob')).toMatchObject({ ok: false, code: 'E_UNKNOWN_COMMAND' });
  });

  it('help lists every command', () => {
    for (const c of [
      '/users',
      '/kick NAME',
      '/ban NAME',
      '/key',
      '/key export FILE',
      '@NAME TEXT',
      '@all TEXT',
      '/help',
      '/quit',
    ])
      expect(adminHelpText()).toContain(c);
  });
});
