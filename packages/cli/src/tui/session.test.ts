/**
 * The session asks the client quietly for the member list and the room code: their answers
 * refresh the panes and print nothing; the same commands typed by the user do print.
 */
import { describe, expect, it } from 'vitest';
import { FakeClient } from './fake-client.js';
import { Session } from './session.js';

const FP = '11111 22222 33333 44444 55555 66666 77777 88888 99999 00000 12345 67890';
const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

function answering(client: FakeClient): void {
  client.onCommand = (line) => {
    if (line === '/users')
      client.emit({
        type: 'users',
        room: 'r1',
        roomName: 'lobby',
        users: [
          { name: 'alice', fingerprint: FP, verified: false, self: true },
          { name: 'bob', fingerprint: FP, verified: true, self: false },
        ],
      });
    if (line === '/code')
      client.emit({ type: 'room-code', room: 'r1', roomName: 'lobby', code: '1111 2222 3333 4444', epoch: 1 });
    if (line.startsWith('/switch ')) client.emit({ type: 'switched', room: line.slice(8), roomName: line.slice(8) });
  };
}

describe('Session', () => {
  it('refreshes members and the room code quietly after a change', async () => {
    const client = new FakeClient();
    answering(client);
    const s = new Session(client, undefined, { refreshMs: 1 });
    client.emit({ type: 'joined', room: 'r1', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    await tick();
    expect(client.lines).toEqual(['/users', '/code']);
    const room = s.model.rooms.get('r1')!;
    expect(room.code).toBe('1111 2222 3333 4444');
    expect(room.members.get('bob')?.verified).toBe(true);
    expect(room.entries.some((e) => e.kind === 'block')).toBe(false);
    s.submit('/users');
    s.submit('/code');
    await tick();
    expect(room.entries.some((e) => e.kind === 'block' && e.title.startsWith('members of lobby'))).toBe(true);
    expect(room.entries.some((e) => e.kind === 'notice' && e.text.startsWith('room code of lobby'))).toBe(true);
  });

  it('cycles rooms through /switch and leaves once', async () => {
    const client = new FakeClient();
    answering(client);
    const s = new Session(client, undefined, { refreshMs: 1 });
    client.emit({ type: 'joined', room: 'r1', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    client.emit({ type: 'joined', room: 'r2', roomName: 'ops', name: 'alice', fingerprint: FP, direct: false });
    await tick();
    s.cycleRoom(1);
    await tick();
    expect(client.lines).toContain('/switch r2');
    expect(s.model.current).toBe('r2');
    s.submit('/quit');
    s.submit('ignored after quit');
    const r = await s.done;
    expect(r.delivered).toBe(true);
    expect(client.quitCalls).toBe(1);
    expect(client.lines).not.toContain('ignored after quit');
  });
});

describe('Session, leaving', () => {
  it('a quit that hangs can be cut short (a second Ctrl-C)', async () => {
    const client = new FakeClient();
    client.quit = () => new Promise(() => undefined); // a relay that never answers
    const s = new Session(client);
    void s.quit();
    expect(s.model.quitting).toBe(true);
    s.abort();
    expect(await s.done).toEqual({ delivered: false });
  });
});

describe('Session, before a member admits us', () => {
  it('holds messages typed early and sends them once joined (commands go at once)', async () => {
    const client = new FakeClient();
    const s = new Session(client, undefined, { refreshMs: 1000 });
    s.submit('typed early');
    s.submit('/me waves early');
    s.submit('/fingerprint');
    await tick();
    expect(client.lines).toEqual(['/fingerprint']);
    client.emit({ type: 'joined', room: 'r1', roomName: 'lobby', name: 'alice', fingerprint: FP, direct: false });
    await tick();
    expect(client.lines).toEqual(['/fingerprint', 'typed early', '/me waves early']);
    s.submit('later');
    await tick();
    expect(client.lines.at(-1)).toBe('later');
  });

  it('says so when the held messages will never be sent', async () => {
    const client = new FakeClient();
    const s = new Session(client);
    s.submit('never');
    client.emit({ type: 'fatal', code: 'E_JOIN_TIMEOUT', message: 'you are in no room any more' });
    await tick();
    expect(client.lines).toEqual([]);
    expect(s.model.lobby.some((e) => e.kind === 'notice' && e.text.includes('1 held message was not sent'))).toBe(true);
  });
});
