/**
 * The client with REAL components: the relay from @safehouse/server on a real port, the `ws`
 * transport, and the real e2ee (MLS on ts-mls). Three clients share a room; a direct message
 * reaches only its target; a member who left receives nothing more; the relay is closed and
 * started again on the same port and base path, and no message is lost or shown twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, startServer, type RunningServer } from '@safehouse/server';
import { Member, until } from './testing/members.js';

const servers: RunningServer[] = [];
const members: Member[] = [];
afterEach(async () => {
  await Promise.all(members.splice(0).map((m) => m.client.quit({ timeoutMs: 500 })));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function room(names: string[]): Promise<{ server: RunningServer; all: Member[] }> {
  const server = await startServer({ port: 0, logger: silentLogger });
  servers.push(server);
  const first = new Member(names[0]!, server.url);
  members.push(first);
  await first.client.start();
  await until(() => first.of('invite').length === 1, 'an invite link');
  const link = first.of('invite')[0]!.link;
  const all = [first];
  for (const name of names.slice(1)) {
    const m = new Member(name, link);
    members.push(m);
    all.push(m);
    await m.client.start();
    await until(() => m.of('joined').length === 1, `${name} to join`);
    // Everyone already in must have processed the Add before the next join (one commit at a time).
    await until(() => all.every((o) => o === m || o.of('member-joined').some((e) => e.name === name)), `the others to see ${name}`);
  }
  return { server, all };
}

describe('client over the real relay, ws transport and e2ee', () => {
  it('three members exchange messages; a DM reaches only its target; a leaver gets nothing more', async () => {
    const { all } = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = all as [Member, Member, Member];

    await alice.client.command('hello from alice');
    await bob.client.command('/me waves');
    await carol.client.command('//slash from carol');
    await until(() => alice.texts().length === 2 && bob.texts().length === 2 && carol.texts().length === 2, 'three messages everywhere');
    expect(bob.texts()).toEqual(expect.arrayContaining(['hello from alice', '/slash from carol']));
    expect(alice.received().find((m) => m.from === 'bob')).toMatchObject({ text: 'waves', action: true, direct: false });
    expect(alice.of('message').filter((m) => m.self).map((m) => m.text)).toEqual(['hello from alice']);

    // A direct message: a two-member room made on demand; only bob reads it.
    await alice.client.command('/msg bob for your eyes only');
    await until(() => bob.received().some((m) => m.direct && m.text === 'for your eyes only'), 'the DM at bob', 20_000);
    const dm = bob.received().find((m) => m.direct)!;
    expect(dm.from).toBe('alice');
    await bob.client.command('/msg alice got it');
    await until(() => alice.received().some((m) => m.direct && m.text === 'got it'), 'the DM reply at alice');
    expect(carol.received().some((m) => m.direct || m.text.includes('eyes only') || m.text === 'got it')).toBe(false);

    // carol leaves: the others see her go, and she receives nothing after.
    await carol.client.command('/leave');
    await until(() => carol.of('left').length === 1, 'carol to leave');
    await until(() => alice.of('member-left').some((e) => e.name === 'carol') && bob.of('member-left').some((e) => e.name === 'carol'), 'the others to commit her removal');
    const before = carol.received().length;
    await alice.client.command('after carol left');
    await until(() => bob.texts().includes('after carol left'), 'bob to get the message');
    await new Promise((r) => setTimeout(r, 300));
    expect(carol.received()).toHaveLength(before);

    // Nothing was shown twice anywhere.
    for (const m of all) {
      const ids = m.of('message').map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('a relay restart on the same port and base path loses and duplicates nothing', async () => {
    const { server, all } = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = all as [Member, Member, Member];
    const sent: string[] = [];
    const say = async (m: Member, text: string) => {
      sent.push(text);
      await m.client.command(text);
    };

    await say(alice, 'before 1');
    await say(bob, 'before 2');
    await until(() => carol.texts().length === 2, 'carol to get the first two');

    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await until(() => all.every((m) => m.of('connection').at(-1)?.state !== 'connected'), 'everyone to notice');
    // Written while the relay is down: kept in the outbox.
    await say(bob, 'during the outage');
    await say(carol, 'also during the outage');

    const again = await startServer({ port: server.port, basePath: server.basePath, logger: silentLogger });
    servers.push(again);
    await until(() => all.every((m) => m.of('connection').some((c) => c.state === 'connected' && c.restarted)), 'everyone to reconnect to the new relay');
    await say(alice, 'after the restart');

    const expectFor = (m: Member) => sent.filter((t) => !m.of('message').some((e) => e.self && e.text === t));
    for (const m of all) await until(() => expectFor(m).every((t) => m.texts().includes(t)), `${m.name} to have every message`);
    // A marker from each member to the others: each one's resends left before its marker, and a
    // room's messages are read in order, so a copy shown twice would be shown by then.
    const markers = all.map((m) => `marker from ${m.name}`);
    for (const [i, m] of all.entries()) await m.client.command(markers[i]!);
    for (const m of all) await until(() => markers.every((t) => t === `marker from ${m.name}` || m.texts().includes(t)), `the markers at ${m.name}`);
    for (const m of all) {
      expect([...m.texts()].filter((t) => !markers.includes(t)).sort()).toEqual([...expectFor(m)].sort());
      const ids = m.of('message').map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('refuses a look-alike name with E_NAME_TAKEN', async () => {
    const { all } = await room(['alice']);
    const link = all[0]!.of('invite')[0]!.link;
    const fake = new Member('аlice', link); // Cyrillic а
    members.push(fake);
    await fake.client.start();
    await until(() => fake.of('error').length > 0, 'the refusal');
    expect(fake.of('error')[0]).toMatchObject({ code: 'E_NAME_TAKEN' });
    await until(() => fake.of('fatal').length === 1, 'fatal');
  });
});
