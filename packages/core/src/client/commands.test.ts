import { describe, expect, it } from 'vitest';
import { COMMAND_HELP, parseCommand, type Command } from './commands.js';

function cmd(line: string): Command {
  const r = parseCommand(line);
  if (!r.ok) throw new Error(`${line}: ${r.message}`);
  return r.command;
}
function err(line: string): { code: string; message: string } {
  const r = parseCommand(line);
  if (r.ok) throw new Error(`${line}: expected an error`);
  return r;
}

describe('parseCommand', () => {
  it('treats a plain line as a message, keeping its spaces', () => {
    expect(cmd('hello there ')).toEqual({ kind: 'say', text: 'hello there ' });
    expect(cmd('  indented')).toEqual({ kind: 'say', text: '  indented' });
    expect(cmd('hi\n')).toEqual({ kind: 'say', text: 'hi' });
  });
  it('sends a literal / for a line starting with //', () => {
    expect(cmd('//etc/passwd is a file')).toEqual({ kind: 'say', text: '/etc/passwd is a file' });
    expect(cmd('//')).toEqual({ kind: 'say', text: '/' });
  });
  it('ignores blank lines', () => {
    expect(cmd('')).toEqual({ kind: 'none' });
    expect(cmd('   ')).toEqual({ kind: 'none' });
  });
  it('parses every command', () => {
    expect(cmd('/msg bob hi there')).toEqual({ kind: 'msg', name: 'bob', text: 'hi there' });
    expect(cmd('/me waves')).toEqual({ kind: 'me', text: 'waves' });
    expect(cmd('/users')).toEqual({ kind: 'users' });
    expect(cmd('/room create ops')).toEqual({ kind: 'room-create', name: 'ops' });
    expect(cmd('/join http://h/x/#r=1')).toEqual({ kind: 'join', link: 'http://h/x/#r=1' });
    expect(cmd('/rooms')).toEqual({ kind: 'rooms' });
    expect(cmd('/invite')).toEqual({ kind: 'invite' });
    expect(cmd('/switch ops')).toEqual({ kind: 'switch', room: 'ops' });
    expect(cmd('/leave')).toEqual({ kind: 'leave' });
    expect(cmd('/fingerprint')).toEqual({ kind: 'fingerprint' });
    expect(cmd('/verify bob')).toEqual({ kind: 'verify', name: 'bob' });
    const number = '12345 '.repeat(12).trim();
    expect(cmd(`/verify bob ${number}`)).toEqual({ kind: 'verify', name: 'bob', number: number.replace(/ /g, '') });
    expect(cmd('/safety bob')).toEqual({ kind: 'safety', name: 'bob' });
    expect(cmd('/trust bob')).toEqual({ kind: 'trust', name: 'bob' });
    expect(cmd('/code')).toEqual({ kind: 'code' });
    expect(cmd('/help')).toEqual({ kind: 'help' });
    expect(cmd('/quit')).toEqual({ kind: 'quit' });
    expect(cmd('/QUIT ')).toEqual({ kind: 'quit' });
  });
  it('answers bad usages with E_USAGE and the usage line', () => {
    const cases: Array<[string, string]> = [
      ['/msg', '/msg NAME TEXT'],
      ['/msg bob', '/msg NAME TEXT'],
      ['/msg bob   ', '/msg NAME TEXT'],
      ['/me', '/me TEXT'],
      ['/users now', '/users'],
      ['/room', '/room create NAME'],
      ['/room create', '/room create NAME'],
      ['/room delete x', '/room create NAME'],
      ['/room create two words', '/room create NAME'],
      ['/join', '/join LINK'],
      ['/join a b', '/join LINK'],
      ['/switch', '/switch ROOM'],
      ['/leave now', '/leave'],
      ['/verify', '/verify NAME [NUMBER]'],
      ['/verify bob 12345', '/verify NAME [NUMBER]'],
      ['/safety', '/safety NAME'],
      ['/trust a b', '/trust NAME'],
      ['/quit please', '/quit'],
      ['/help me', '/help'],
      ['/code x', '/code'],
      ['/fingerprint x', '/fingerprint'],
      ['/rooms x', '/rooms'],
    ];
    for (const [line, u] of cases) expect(err(line), line).toEqual({ ok: false, code: 'E_USAGE', message: `usage: ${u}` });
  });
  it('answers an unknown command with E_UNKNOWN_COMMAND', () => {
    const e = err('/frobnicate now');
    expect(e.code).toBe('E_UNKNOWN_COMMAND');
    expect(e.message).toMatch(/\/help/);
    expect(err('/').code).toBe('E_UNKNOWN_COMMAND');
  });
  it('lists every command in the help', () => {
    for (const c of ['/msg', '/me', '/users', '/room create', '/join', '/rooms', '/switch', '/leave', '/fingerprint', '/safety', '/verify', '/trust', '/code', '/help', '/quit'])
      expect(COMMAND_HELP.some((h) => h.usage.startsWith(c))).toBe(true);
  });
});
