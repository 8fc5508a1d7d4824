/** `/ttl DURATION` parsing and the words every UI shows for it. */
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP, parseCommand, parseDuration } from './commands.js';
import { ttlText } from './ttl.js';

describe('/ttl', () => {
  it('parsesDurationsInEveryUnit', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('off')).toBe(0);
    expect(parseDuration('OFF')).toBe(0);
  });

  it('refusesDurationsOutOfRangeOrMalformed', () => {
    for (const bad of ['', '0s', '8d', '1', 's', '1.5m', '-1m', '1w', '1 m', '1000000s', '5M'])
      expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('parsesTheCommand', () => {
    expect(parseCommand('/ttl 5m')).toEqual({ ok: true, command: { kind: 'ttl', ms: 300_000 } });
    expect(parseCommand('/ttl off')).toEqual({ ok: true, command: { kind: 'ttl', ms: 0 } });
    expect(parseCommand('/ttl')).toMatchObject({ ok: false, code: 'E_USAGE', message: 'usage: /ttl DURATION' });
    expect(parseCommand('/ttl forever')).toMatchObject({ ok: false, code: 'E_USAGE' });
    expect(COMMAND_HELP.find((h) => h.usage === '/ttl DURATION')?.description).toMatch(/copy/);
  });

  it('saysPlainlyThatARecipientCanCopy', () => {
    expect(ttlText(30_000, 'alice', 'lobby')).toContain('A recipient can always copy what it was shown.');
    expect(ttlText(0, 'you', 'lobby')).toBe('you turned off disappearing messages in lobby');
    // On joining, the timer in force comes from the group state: who set it is not known.
    expect(ttlText(60_000, 'the room', 'lobby', true)).toBe(
      "Messages in lobby disappear 1m after they are sent (the room's timer), judged on time proven by Roughtime; yours too. A recipient can always copy what it was shown.",
    );
  });
});
