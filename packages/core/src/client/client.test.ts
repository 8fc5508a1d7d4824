/**
 * The client with the real e2ee over an in-memory relay that follows docs/protocol.md (commit
 * ordering, pending joins, welcome routing, presence) and that a test can make misbehave: replay,
 * drop, restart. Scenarios are named after what they verify.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createE2ee, PinStore } from '../e2ee/index.js';
import { decodeClientFrame, encodeFrame, type ClientHeader, type RelayHeader } from '../protocol/frames.js';
import { randomId } from '../protocol/ids.js';
import { createClient, type ClientOptions, type SafehouseClient } from './client.js';
import type { ClientEvent } from './events.js';
import type { Transport, TransportHandlers } from './transport.js';

type Conn = { id: number; handlers: TransportHandlers; rooms: Set<string>; joins: Set<string>; open: boolean; ready: boolean };
type RoomState = { epoch: number; subs: Set<Conn>; joins: Map<string, { conn: Conn; body: Uint8Array }>; commits: Set<string>; seq: number };

/** An in-memory relay speaking the wire protocol; asynchronous like a network (macrotask hops). */
class FakeRelay {
  relayId = randomId();
  conns = new Set<Conn>();
  rooms = new Map<string, RoomState>();
  /** Frames relay → client pass through here; return false to drop one. */
  filter: (conn: Conn, h: RelayHeader, body: Uint8Array) => boolean = () => true;
  /** Every `msg` delivered, for replays. */
  log: Array<{ conn: Conn; bytes: Uint8Array; h: RelayHeader }> = [];
  /** While true, new connections fail (the relay is unreachable for newcomers). */
  down = false;
  /** Commit `pub`s received, accepted or not. */
  commitPubs = 0;
  #next = 0;

  kill(conn: Conn): void {
    this.#drop(conn, 1006);
  }

  transport(): Transport {
    return {
      open: (_url, handlers) => {
        if (this.down) {
          setTimeout(() => handlers.onClose(1006, ''), 0);
          return { send: () => undefined, close: () => undefined };
        }
        const conn: Conn = { id: ++this.#next, handlers, rooms: new Set(), joins: new Set(), open: true, ready: false };
        this.conns.add(conn);
        setTimeout(() => conn.open && handlers.onOpen(), 0);
        return {
          send: (bytes) => {
            const copy = bytes.slice();
            setTimeout(() => conn.open && this.#onFrame(conn, copy), 0);
          },
          close: () => this.#drop(conn, 1000),
        };
      },
    };
  }

  #room(id: string): RoomState {
    let r = this.rooms.get(id);
    if (!r) this.rooms.set(id, (r = { epoch: 0, subs: new Set(), joins: new Map(), commits: new Set(), seq: 0 }));
    return r;
  }

  send(conn: Conn, h: RelayHeader, body?: Uint8Array): void {
    if (!conn.open || !this.filter(conn, h, body ?? new Uint8Array())) return;
    const bytes = encodeFrame(h, body);
    if (h.t === 'msg') this.log.push({ conn, bytes, h });
    setTimeout(() => conn.open && conn.handlers.onFrame(bytes), 0);
  }

  #presence(id: string, r: RoomState): void {
    for (const c of r.subs) this.send(c, { v: 1, t: 'presence', room: id, count: r.subs.size });
  }

  #drop(conn: Conn, code: number): void {
    if (!conn.open) return;
    conn.open = false;
    this.conns.delete(conn);
    for (const [id, r] of this.rooms) {
      for (const [j, p] of r.joins) if (p.conn === conn) r.joins.delete(j);
      if (r.subs.delete(conn)) this.#presence(id, r);
    }
    setTimeout(() => conn.handlers.onClose(code, ''), 0);
  }

  /** Kills every connection and forgets everything, like a relay process that restarted. */
  restart(): void {
    for (const c of [...this.conns]) this.#drop(c, 1006);
    this.rooms.clear();
    this.relayId = randomId();
  }

  #onFrame(conn: Conn, bytes: Uint8Array): void {
    const r = decodeClientFrame(bytes);
    if (!r.ok) throw new Error(`client sent a bad frame: ${r.message}`);
    const h: ClientHeader = r.header;
    if (!conn.ready) {
      if (h.t !== 'hello') throw new Error('frame before hello');
      conn.ready = true;
      this.send(conn, { v: 1, t: 'hello', relay: this.relayId, maxFrame: 65536 });
      return;
    }
    switch (h.t) {
      case 'hello':
        throw new Error('second hello');
      case 'ping':
        return this.send(conn, { v: 1, t: 'pong' });
      case 'sub': {
        const room = this.#room(h.room);
        room.epoch = Math.max(room.epoch, h.epoch);
        room.subs.add(conn);
        conn.rooms.add(h.room);
        for (const [id, p] of room.joins) this.send(conn, { v: 1, t: 'join', room: h.room, id }, p.body);
        return this.#presence(h.room, room);
      }
      case 'unsub': {
        const room = this.#room(h.room);
        room.subs.delete(conn);
        return this.#presence(h.room, room);
      }
      case 'pub': {
        const room = this.#room(h.room);
        if (!room.subs.has(conn)) return this.send(conn, { v: 1, t: 'nack', id: h.id, code: 'E_NOT_SUBSCRIBED' });
        if (h.kind === 'commit') {
          this.commitPubs++;
          if (room.commits.has(h.id)) return this.send(conn, { v: 1, t: 'ack', id: h.id });
          if (h.epoch < room.epoch) return this.send(conn, { v: 1, t: 'nack', id: h.id, code: 'E_STALE_EPOCH', epoch: room.epoch });
          room.epoch = h.epoch + 1;
          room.commits.add(h.id);
        }
        const seq = ++room.seq;
        for (const c of room.subs) if (c !== conn) this.send(c, { v: 1, t: 'msg', room: h.room, id: h.id, kind: h.kind, epoch: h.epoch, seq }, r.body);
        return this.send(conn, { v: 1, t: 'ack', id: h.id });
      }
      case 'join': {
        const room = this.#room(h.room);
        room.joins.set(h.id, { conn, body: r.body.slice() });
        for (const c of room.subs) this.send(c, { v: 1, t: 'join', room: h.room, id: h.id }, r.body);
        return this.send(conn, { v: 1, t: 'ack', id: h.id });
      }
      case 'welcome': {
        const room = this.#room(h.room);
        const p = room.joins.get(h.to);
        if (!p || !p.conn.open) return this.send(conn, { v: 1, t: 'nack', id: h.id, code: 'E_NO_SUCH_JOINER' });
        this.send(p.conn, { v: 1, t: 'welcome', room: h.room, id: h.id }, r.body);
        return this.send(conn, { v: 1, t: 'ack', id: h.id });
      }
      default:
        throw new Error('unknown frame');
    }
  }
}

type Ev<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }>;

class Peer {
  readonly events: ClientEvent[] = [];
  readonly client: SafehouseClient;
  readonly pins = new PinStore();
  constructor(relay: FakeRelay, name: string, link: string, extra: Partial<ClientOptions> = {}) {
    this.client = createClient({
      transport: relay.transport(),
      name,
      link,
      pins: this.pins,
      e2ee: createE2ee({ pins: this.pins }),
      timing: { rankDelayMs: 150, joinTimeoutMs: 5_000, leaveTimeoutMs: 1_000 },
      connection: { backoffBaseMs: 10, backoffCapMs: 50 },
      ...extra,
    });
    this.client.on((e) => this.events.push(e));
  }
  of<T extends ClientEvent['type']>(type: T): Ev<T>[] {
    return this.events.filter((e): e is Ev<T> => e.type === type);
  }
  texts(): string[] {
    return this.of('message')
      .filter((m) => !m.self)
      .map((m) => m.text);
  }
  last<T extends ClientEvent['type']>(type: T): Ev<T> | undefined {
    return this.of(type).at(-1);
  }
}

async function until(check: () => boolean, what: string, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BASE = 'http://127.0.0.1:8090/secretbase/';
const peers: Peer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.client.quit({ timeoutMs: 200 })));
});

async function founder(relay: FakeRelay, name = 'alice'): Promise<{ peer: Peer; link: string }> {
  const peer = new Peer(relay, name, BASE);
  peers.push(peer);
  await peer.client.start();
  await until(() => peer.of('invite').length === 1, 'the invite');
  return { peer, link: peer.of('invite')[0]!.link };
}

async function joiner(relay: FakeRelay, name: string, link: string, extra: Partial<ClientOptions> = {}): Promise<Peer> {
  const peer = new Peer(relay, name, link, extra);
  peers.push(peer);
  await peer.client.start();
  return peer;
}

async function roomOf(relay: FakeRelay, names: string[]): Promise<Peer[]> {
  const { peer, link } = await founder(relay, names[0]);
  const all = [peer];
  for (const name of names.slice(1)) {
    const p = await joiner(relay, name, link);
    all.push(p);
    await until(() => p.of('joined').length === 1, `${name} joined`);
    await until(() => all.every((o) => o === p || o.of('member-joined').some((e) => e.name === name)), `all see ${name}`);
    await until(() => relay.rooms.get(p.client.currentRoom()!)?.subs.size === all.length, `${name} subscribed`);
  }
  return all;
}

describe('client scenarios (real e2ee, in-memory relay)', () => {
  it('createRoomEmitsInviteAndFingerprint', async () => {
    const relay = new FakeRelay();
    const { peer, link } = await founder(relay);
    expect(link.startsWith(`${BASE}#r=`)).toBe(true);
    expect(peer.of('fingerprint')[0]!.fingerprint).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(peer.of('joined')[0]).toMatchObject({ roomName: 'lobby', name: 'alice', direct: false });
  });

  it('onlyTheLowestLeafCommitsAJoin', async () => {
    const relay = new FakeRelay();
    const [, bob, carol, dave] = await roomOf(relay, ['alice', 'bob', 'carol', 'dave']);
    expect(relay.commitPubs).toBe(3); // one Add per joiner, no competing commits
    expect(bob!.of('member-joined').map((e) => e.name)).toEqual(['carol', 'dave']);
    expect(carol!.of('joined')).toHaveLength(1);
    expect(dave!.of('joined')).toHaveLength(1);
  });

  it('competingCommitsResolveToOneAdd', async () => {
    const relay = new FakeRelay();
    const fast = { timing: { rankDelayMs: 0, joinTimeoutMs: 5_000, leaveTimeoutMs: 1_000 } };
    const a = new Peer(relay, 'alice', BASE, fast);
    peers.push(a);
    await a.client.start();
    await until(() => a.of('invite').length === 1, 'invite');
    const l = a.of('invite')[0]!.link;
    const bob = await joiner(relay, 'bob', l, fast);
    await until(() => bob.of('joined').length === 1, 'bob joined');
    await until(() => relay.rooms.get(a.client.currentRoom()!)?.subs.size === 2, 'bob subscribed');
    const carol = await joiner(relay, 'carol', l, fast);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await until(() => a.of('member-joined').length === 2 && bob.of('member-joined').length === 1, 'both see carol');
    expect(relay.commitPubs).toBeGreaterThanOrEqual(2);
    expect(relay.rooms.get(a.client.currentRoom()!)!.commits.size).toBe(2);
    await carol.client.command('after the race');
    await until(() => a.texts().includes('after the race') && bob.texts().includes('after the race'), 'everyone in one epoch');
  });

  it('messagesArriveOnceEvenWhenTheRelayReplaysThem', async () => {
    const relay = new FakeRelay();
    const [alice, bob] = await roomOf(relay, ['alice', 'bob']);
    await alice!.client.command('one');
    await alice!.client.command('/me two');
    await until(() => bob!.texts().length === 2, 'two messages');
    for (const m of relay.log) if (m.conn.open) setTimeout(() => m.conn.handlers.onFrame(m.bytes), 0);
    await sleep(100);
    expect(bob!.texts()).toEqual(['one', 'two']);
    expect(bob!.of('message')[1]).toMatchObject({ from: 'alice', action: true, direct: false });
    expect(alice!.of('message').filter((m) => m.self).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('aMessageForAFutureEpochWaitsForTheCommit', async () => {
    const relay = new FakeRelay();
    const [alice, bob] = await roomOf(relay, ['alice', 'bob']);
    const held: Array<() => void> = [];
    relay.filter = (conn, h, body) => {
      if (h.t !== 'msg' || h.kind !== 'commit') return true;
      const bytes = encodeFrame(h, body);
      held.push(() => conn.handlers.onFrame(bytes));
      return false;
    };
    const carol = await joiner(relay, 'carol', alice!.of('invite')[0]!.link);
    await until(() => carol.of('joined').length === 1, 'carol joined');
    await until(() => held.length === 1, 'the commit held back');
    await carol.client.command('hi from the new epoch');
    await sleep(50);
    expect(bob!.texts()).toEqual([]);
    held.forEach((f) => f());
    await until(() => bob!.texts().includes('hi from the new epoch'), 'bob to read it after the commit');
  });

  it('aLostWelcomeIsSentAgainWhenTheJoinerAsksAgain', async () => {
    const relay = new FakeRelay();
    const { peer: alice, link } = await founder(relay);
    let dropped = 0;
    relay.filter = (conn, h) => {
      if (h.t !== 'welcome' || dropped > 0) return true;
      dropped++;
      setTimeout(() => relay.kill(conn), 0);
      return false;
    };
    const bob = await joiner(relay, 'bob', link);
    await until(() => bob.of('joined').length === 1, 'bob joined after reconnecting');
    expect(dropped).toBe(1);
    expect(relay.commitPubs).toBe(1); // the same Welcome, not a second Add
    expect(alice.of('member-joined')).toHaveLength(1);
  });

  it('aLookAlikeNameIsRefused', async () => {
    const relay = new FakeRelay();
    const { link } = await founder(relay);
    const fake = await joiner(relay, 'ALICE', link);
    await until(() => fake.of('fatal').length === 1, 'the refusal');
    expect(fake.of('error')[0]).toMatchObject({ code: 'E_NAME_TAKEN' });
    expect(fake.of('left')[0]).toMatchObject({ reason: 'refused' });
  });

  it('aJoinTimesOutWhenNoMemberIsOnline', async () => {
    const relay = new FakeRelay();
    const { peer: alice, link } = await founder(relay);
    await alice.client.quit();
    const bob = await joiner(relay, 'bob', link, { timing: { joinTimeoutMs: 300 } });
    await until(() => bob.of('fatal').length === 1, 'the timeout');
    expect(bob.of('error')[0]).toMatchObject({ code: 'E_JOIN_TIMEOUT' });
    expect(bob.of('error')[0]!.message).toMatch(/must be online/);
  });

  it('aLeaverIsRemovedAndReadsNothingMore', async () => {
    const relay = new FakeRelay();
    const [alice, bob, carol] = await roomOf(relay, ['alice', 'bob', 'carol']);
    await carol!.client.command('/leave');
    await until(() => carol!.of('left').length === 1, 'carol left');
    await until(() => alice!.of('member-left').length === 1 && bob!.of('member-left').length === 1, 'removal committed');
    await alice!.client.command('/users');
    expect(alice!.last('users')!.users.map((u) => u.name).sort()).toEqual(['alice', 'bob']);
    await bob!.client.command('secret after carol');
    await until(() => alice!.texts().includes('secret after carol'), 'alice reads it');
    expect(carol!.texts()).not.toContain('secret after carol');
  });

  it('aDirectMessageReachesOnlyItsTarget', async () => {
    const relay = new FakeRelay();
    const [alice, bob, carol] = await roomOf(relay, ['alice', 'bob', 'carol']);
    await alice!.client.command('/msg bob psst');
    await alice!.client.command('/msg bob second');
    await until(() => bob!.texts().includes('second'), 'the DMs');
    expect(bob!.of('message').filter((m) => m.direct).map((m) => m.text)).toEqual(['psst', 'second']);
    expect(bob!.of('joined').filter((j) => j.direct)).toHaveLength(1);
    await bob!.client.command('/msg alice ok');
    await until(() => alice!.texts().includes('ok'), 'the reply');
    expect(carol!.texts()).toEqual([]);
    await alice!.client.command('/msg nobody hi');
    expect(alice!.last('error')).toMatchObject({ code: 'E_UNKNOWN_MEMBER' });
  });

  it('aDirectMessageToAnAbsentPeerWaitsUntilItComesBack', async () => {
    const relay = new FakeRelay();
    const [alice, bob] = await roomOf(relay, ['alice', 'bob']);
    const room = alice!.client.currentRoom()!;
    relay.down = true;
    const [, bobConn] = [...relay.rooms.get(room)!.subs]; // alice subscribed first
    relay.kill(bobConn!);
    await until(() => relay.rooms.get(room)!.subs.size === 1, 'bob away');
    await alice!.client.command('/msg bob while you were away');
    await sleep(50);
    relay.down = false;
    await until(() => bob!.texts().includes('while you were away'), 'the DM after bob is back');
    expect(bob!.of('message').find((m) => m.text === 'while you were away')).toMatchObject({ direct: true, from: 'alice' });
  });

  it('aChangedKeyIsAnnouncedAndAVerifiedOneBlocksSending', async () => {
    const relay = new FakeRelay();
    const [alice, bob] = await roomOf(relay, ['alice', 'bob']);
    await alice!.client.command('/verify bob');
    const sn = alice!.last('safety-number')!;
    expect(sn).toMatchObject({ name: 'bob', verified: true });
    await bob!.client.command('/verify alice');
    expect(bob!.last('safety-number')!.safetyNumber).toBe(sn.safetyNumber);
    // bob leaves; a new key under the name "bob" joins.
    await bob!.client.command('/leave');
    await until(() => alice!.of('member-left').length === 1, 'bob removed');
    const bob2 = await joiner(relay, 'bob', alice!.of('invite')[0]!.link);
    await until(() => bob2.of('joined').length === 1, 'the new bob joined');
    await until(() => alice!.of('key-changed').length === 1, 'the warning');
    expect(alice!.last('key-changed')!.message).toMatch(/verified/);
    await alice!.client.command('hello?');
    expect(alice!.last('error')).toMatchObject({ code: 'E_MEMBER_BLOCKED' });
    await alice!.client.command('/trust bob');
    await alice!.client.command('hello again');
    await until(() => bob2.texts().includes('hello again'), 'sent after /trust');
    expect(bob2.texts()).not.toContain('hello?');
  });

  it('aRelayRestartLosesAndDuplicatesNothing', async () => {
    const relay = new FakeRelay();
    const [alice, bob, carol] = await roomOf(relay, ['alice', 'bob', 'carol']);
    await alice!.client.command('before');
    await until(() => carol!.texts().includes('before'), 'before');
    // The relay acks bob's message but dies before fanning it out.
    relay.filter = (_conn, h) => !(h.t === 'msg' && h.kind === 'app');
    await bob!.client.command('lost in the crash');
    await until(() => bob!.of('message').some((m) => m.self && m.text === 'lost in the crash'), 'sent');
    await sleep(20);
    relay.filter = () => true;
    relay.restart();
    await until(() => [alice, bob, carol].every((p) => p!.of('connection').some((c) => c.state === 'connected' && c.restarted)), 'reconnected');
    await carol!.client.command('after');
    for (const p of [alice!, carol!]) await until(() => p.texts().includes('lost in the crash'), `${p.client.name} got the resent message`);
    await until(() => alice!.texts().includes('after') && bob!.texts().includes('after'), 'after');
    await sleep(100);
    for (const p of [alice!, bob!, carol!]) {
      const ids = p.of('message').map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(alice!.texts().sort()).toEqual(['after', 'lost in the crash']);
    expect(carol!.texts().sort()).toEqual(['before', 'lost in the crash']);
  });

  it('commandsAnswerWithEvents', async () => {
    const relay = new FakeRelay();
    const [alice, bob] = await roomOf(relay, ['alice', 'bob']);
    await alice!.client.command('/code');
    await bob!.client.command('/code');
    expect(alice!.last('room-code')!.code).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    expect(alice!.last('room-code')!.code).toBe(bob!.last('room-code')!.code);
    await alice!.client.command('/help');
    expect(alice!.last('help')!.text).toContain('/msg NAME TEXT');
    await alice!.client.command('/fingerprint');
    expect(alice!.last('fingerprint')!.name).toBe('alice');
    await alice!.client.command('/room create ops');
    await until(() => alice!.of('invite').length === 2, 'second invite');
    await alice!.client.command('/rooms');
    expect(alice!.last('rooms')!.rooms.map((r) => [r.roomName, r.current])).toEqual([
      ['lobby', false],
      ['ops', true],
    ]);
    await alice!.client.command('/switch lobby');
    expect(alice!.last('switched')!.roomName).toBe('lobby');
    await alice!.client.command('/switch nowhere');
    expect(alice!.last('error')).toMatchObject({ code: 'E_NO_ROOM' });
    await alice!.client.command('/bogus');
    expect(alice!.last('error')).toMatchObject({ code: 'E_UNKNOWN_COMMAND' });
    await alice!.client.command('/room create bad name');
    expect(alice!.last('error')).toMatchObject({ code: 'E_USAGE' });
    await alice!.client.command('/room create b\u202eoss');
    expect(alice!.last('error')).toMatchObject({ code: 'E_NAME_INVALID' });
    await alice!.client.command('x'.repeat(17_000));
    expect(alice!.last('error')).toMatchObject({ code: 'E_TEXT_TOO_LONG' });
    await alice!.client.command('/join http://127.0.0.1:9999/other/#r=' + randomId());
    expect(alice!.last('error')).toMatchObject({ code: 'E_BAD_LINK' });
  });

  it('rejectsABadNameOrLinkUpFront', () => {
    const relay = new FakeRelay();
    expect(() => createClient({ transport: relay.transport(), name: 'a b', link: BASE })).toThrow(expect.objectContaining({ code: 'E_NAME_INVALID' }));
    expect(() => createClient({ transport: relay.transport(), name: 'ok', link: 'nope' })).toThrow(expect.objectContaining({ code: 'E_BAD_LINK' }));
  });
});

describe('a malicious relay (THREATS C.16–C.18, C.21)', () => {
  type Fate = 'deliver' | 'drop' | 'duplicate' | 'delay' | 'tamper' | 'replay-later';
  const fates: Fate[] = ['deliver', 'drop', 'duplicate', 'delay', 'tamper', 'replay-later'];

  it('neverShowsAMessageTwiceNorOneItAlteredNorLosesOneItDeliveredIntact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ from: fc.integer({ min: 0, max: 1 }), fate: fc.constantFrom(...fates), at: fc.nat(400), delay: fc.integer({ min: 1, max: 40 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (plan) => {
          const relay = new FakeRelay();
          const pair = await roomOf(relay, ['alice', 'bob']);
          const intact = new Set<string>(); // message ids delivered unaltered at least once
          let i = 0;
          relay.filter = (conn, h, body) => {
            if (h.t !== 'msg' || h.kind !== 'app') return true;
            const step = plan[i++ % plan.length]!;
            const later = (bytes: Uint8Array, ms: number) => setTimeout(() => conn.open && conn.handlers.onFrame(bytes), ms);
            switch (step.fate) {
              case 'deliver':
                intact.add(h.id);
                return true;
              case 'drop':
                return false;
              case 'duplicate':
                intact.add(h.id);
                later(encodeFrame(h, body), 0);
                return true;
              case 'delay':
                intact.add(h.id);
                later(encodeFrame(h, body), step.delay);
                return false;
              case 'tamper': {
                const bad = body.slice();
                const at = step.at % bad.length;
                bad[at] = (bad[at] ?? 0) ^ 0x01;
                later(encodeFrame(h, bad), 0);
                return false;
              }
              case 'replay-later':
                intact.add(h.id);
                later(encodeFrame(h, body), 60);
                return true;
            }
          };
          const sent = new Map<string, { from: string; text: string }>();
          for (const [n, step] of plan.entries()) {
            const who = pair[step.from]!;
            const text = `m${n} from ${who.client.name}`;
            await who.client.command(text);
            const mine = who.of('message').find((m) => m.self && m.text === text)!;
            sent.set(mine.id, { from: who.client.name, text });
          }
          await sleep(150);
          for (const p of pair) {
            const got = p.of('message').filter((m) => !m.self);
            const ids = got.map((m) => m.id);
            expect(new Set(ids).size).toBe(ids.length); // never twice
            for (const m of got) expect(sent.get(m.id)).toEqual({ from: m.from, text: m.text }); // never altered or forged
            const expected = [...sent].filter(([id, s]) => s.from !== p.client.name && intact.has(id)).map(([id]) => id);
            expect(ids.sort()).toEqual(expected.sort()); // nothing delivered intact is lost
          }
          await Promise.all(peers.splice(0).map((p) => p.client.quit({ timeoutMs: 50 })));
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
