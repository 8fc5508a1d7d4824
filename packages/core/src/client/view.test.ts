/**
 * The view reducer (view.ts): the same events, in any order and any number of times, give the
 * same view; a message emitted again updates its entry and never adds one; timed messages are
 * hidden while time is unproven and gone for good once expired.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientEvent, MemberInfo } from './events.js';
import { initialView, reduceView, type Stamped, type View } from './view.js';
import { keyWarnings, timeline, unreadCount } from './view-select.js';

const ROOMS = ['room-a', 'room-b'] as const;
const FPS = ['fp-alice', 'fp-bob'] as const;

const member = (name: string, fingerprint: string, extra: Partial<MemberInfo> = {}): MemberInfo => ({ name, fingerprint, self: false, verified: false, keyChanged: false, blocked: false, ...extra });

const arbRoom = fc.constantFrom(...ROOMS);
const arbEvent: fc.Arbitrary<ClientEvent> = fc.oneof(
  fc.record({
    type: fc.constant('message' as const),
    id: fc.constantFrom('m1', 'm2', 'm3', 'm4'),
    room: arbRoom,
    roomName: fc.constantFrom('lobby', 'ops'),
    from: fc.constantFrom('alice', 'bob'),
    fingerprint: fc.constantFrom(...FPS),
    text: fc.constantFrom('hi', 'hello', 'bye'),
    ts: fc.integer({ min: 0, max: 10 }),
    direct: fc.boolean(),
    expiresAt: fc.option(fc.constant(5_000), { nil: undefined }),
    gap: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    again: fc.option(fc.constant(true as const), { nil: undefined }),
  }).map((e) => JSON.parse(JSON.stringify(e)) as ClientEvent),
  fc.record({ type: fc.constant('expired' as const), id: fc.constantFrom('m1', 'm2'), fingerprint: fc.constantFrom(...FPS), room: arbRoom, expiresAt: fc.constant(5_000) }),
  fc.record({ type: fc.constant('time' as const), state: fc.constantFrom('proven' as const, 'unproven' as const), message: fc.constant('time') }),
  fc.record({
    type: fc.constant('room-state' as const),
    room: arbRoom,
    roomName: fc.constantFrom('lobby', 'ops'),
    direct: fc.boolean(),
    joined: fc.boolean(),
    admin: fc.boolean(),
    epoch: fc.integer({ min: 0, max: 5 }),
    code: fc.constantFrom('1234', '5678'),
    ttlMs: fc.constantFrom(0, 60_000),
    members: fc.constantFrom([member('alice', 'fp-alice')], [member('alice', 'fp-alice'), member('bob', 'fp-bob', { keyChanged: true })]).map((m) => [...m]),
  }),
  fc.record({ type: fc.constant('joined' as const), room: arbRoom, roomName: fc.constant('lobby'), name: fc.constant('me'), fingerprint: fc.constant('fp-me'), direct: fc.boolean() }),
  fc.record({ type: fc.constant('left' as const), room: arbRoom, roomName: fc.constant('lobby'), reason: fc.constantFrom('left' as const, 'removed' as const) }),
  fc.record({ type: fc.constant('current' as const), room: fc.option(arbRoom, { nil: undefined }) }).map((e) => ({ type: 'current' as const, room: e.room })),
  fc.record({ type: fc.constant('info' as const), message: fc.constantFrom('note', 'other'), room: arbRoom }),
  fc.record({ type: fc.constant('error' as const), code: fc.constant('E_LIMIT' as const), message: fc.constant('full') }),
  fc.record({ type: fc.constant('ttl' as const), room: arbRoom, roomName: fc.constant('lobby'), from: fc.constant('alice'), ms: fc.constantFrom(0, 60_000), self: fc.boolean(), text: fc.constant('timer') }),
  fc.record({ type: fc.constant('member-joined' as const), room: arbRoom, roomName: fc.constant('lobby'), name: fc.constant('bob'), fingerprint: fc.constant('fp-bob') }),
  fc.constantFrom<ClientEvent>(
    { type: 'connection', state: 'connected', restarted: false, endpoint: 'a.lan:8090', relays: 1 },
    { type: 'connection', state: 'reconnecting', delayMs: 1, attempt: 1, reason: 'gone', endpoint: 'a.lan:8090', relays: 1 },
    // A cluster: the client fails over from one relay to another.
    { type: 'connection', state: 'connected', restarted: true, endpoint: 'b.lan:8090', relays: 2 },
    { type: 'connection', state: 'reconnecting', delayMs: 1, attempt: 0, reason: 'the relay is shutting down', endpoint: 'a.lan:8090', relays: 2 },
  ),
  fc.record({ type: fc.constant('invite' as const), room: arbRoom, roomName: fc.constant('lobby'), link: fc.constantFrom('https://x/#a', 'https://x/#b') }),
);

const stamp = (events: ClientEvent[]): Stamped[] => events.map((event, i) => ({ seq: i + 1, at: 1_000 + i, event }));
const fold = (stamped: Stamped[]): View => stamped.reduce(reduceView, initialView('me'));

/** The view as plain data, with maps and sets in a fixed order. */
function canonical(v: View): unknown {
  return {
    ...v,
    rooms: [...v.rooms.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    gone: [...v.gone.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    expired: [...v.expired].sort(),
  };
}

describe('reduceView', () => {
  it('any permutation and duplication of the same events gives the same view', () => {
    fc.assert(
      fc.property(
        fc.array(arbEvent, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.func(fc.integer()),
        (events, dupIdx, order) => {
          const stamped = stamp(events);
          const expected = canonical(fold(stamped));
          const dups = dupIdx.map((i) => stamped[i % stamped.length]!);
          const shuffled = [...stamped, ...dups]
            .map((s, i) => ({ s, k: order(s.seq * 1000 + i) }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.s);
          expect(canonical(fold(shuffled))).toEqual(expected);
        },
      ),
      { numRuns: Number(process.env.SAFEHOUSE_VIEW_RUNS ?? 2_000) },
    );
  });

  const msg = (over: Partial<Extract<ClientEvent, { type: 'message' }>> = {}): ClientEvent => ({
    type: 'message',
    id: 'm1',
    room: 'room-a',
    roomName: 'lobby',
    from: 'bob',
    fingerprint: 'fp-bob',
    text: 'hello',
    ts: 1,
    direct: false,
    ...over,
  });

  it('a timed message shown again once time is proven again is one entry, not two', () => {
    const v = fold(
      stamp([
        { type: 'time', state: 'proven', message: 'proven' },
        msg({ expiresAt: 9_000 }),
        { type: 'time', state: 'unproven', message: 'lost' },
        { type: 'time', state: 'proven', message: 'back' },
        msg({ expiresAt: 9_000 }), // the expiry keeper emits it again
      ]),
    );
    const shown = timeline(v, 'room-a').filter((i) => i.kind === 'message');
    expect(shown).toHaveLength(1);
    expect(shown[0]?.seq).toBe(2); // where it was first shown
  });

  it('hides timed messages while time is unproven, shows them again when it is proven', () => {
    const events: ClientEvent[] = [{ type: 'time', state: 'proven', message: 'proven' }, msg({ expiresAt: 9_000 }), msg({ id: 'plain', text: 'plain' }), { type: 'time', state: 'unproven', message: 'lost' }];
    const hidden = fold(stamp(events));
    expect(timeline(hidden, 'room-a').flatMap((i) => (i.kind === 'message' ? [i.text] : []))).toEqual(['plain']);
    const back = fold(stamp([...events, { type: 'time', state: 'proven', message: 'back' }]));
    expect(timeline(back, 'room-a').flatMap((i) => (i.kind === 'message' ? [i.text] : []))).toEqual(['hello', 'plain']);
  });

  it('an expired message is gone, and stays gone when emitted again', () => {
    const v = fold(
      stamp([
        { type: 'time', state: 'proven', message: 'proven' },
        msg({ expiresAt: 9_000 }),
        { type: 'expired', id: 'm1', fingerprint: 'fp-bob', room: 'room-a', expiresAt: 9_000 },
        msg({ expiresAt: 9_000 }),
      ]),
    );
    expect(timeline(v, 'room-a').some((i) => i.kind === 'message')).toBe(false);
  });

  it('two senders may use one id: each is its own message, and expiry takes only the one it names', () => {
    const v = fold(
      stamp([
        { type: 'time', state: 'proven', message: 'proven' },
        msg({ expiresAt: 9_000 }),
        msg({ from: 'alice', fingerprint: 'fp-alice', text: 'mine' }),
        { type: 'expired', id: 'm1', fingerprint: 'fp-bob', room: 'room-a', expiresAt: 9_000 },
      ]),
    );
    expect(timeline(v, 'room-a').flatMap((i) => (i.kind === 'message' ? [i.text] : []))).toEqual(['mine']);
  });

  it('members, verification and key changes come from the latest room-state; warnings follow them', () => {
    const state = (seq: number, bob: Partial<MemberInfo>): Stamped => ({
      seq,
      at: seq,
      event: { type: 'room-state', room: 'room-a', roomName: 'lobby', direct: false, joined: true, admin: false, epoch: seq, code: 'c', ttlMs: 0, members: [member('me', 'fp-me', { self: true }), member('bob', 'fp-bob', bob)] },
    });
    const changed = [state(1, {}), state(2, { keyChanged: true, blocked: true })].reduce(reduceView, initialView('me'));
    expect(keyWarnings(changed)).toEqual([{ room: 'room-a', roomName: 'lobby', name: 'bob', fingerprint: 'fp-bob', blocked: true }]);
    const verified = reduceView(changed, state(3, { verified: true }));
    expect(keyWarnings(verified)).toEqual([]);
    expect(verified.rooms.get('room-a')?.members.find((m) => m.name === 'bob')?.verified).toBe(true);
  });

  // i13 attack review: what was shown stays as it was shown (packages/cli/src/scenarios/i13-attack.test.ts plays these on the real relay).
  it('a message under an id already shown keeps the text first shown (a sender cannot edit by reusing its id)', () => {
    const v = fold(stamp([msg({ text: 'I owe you 1000' }), msg({ text: 'I owe you 10' })]));
    expect(timeline(v, 'room-a').flatMap((i) => (i.kind === 'message' ? [i.text] : []))).toEqual(['I owe you 1000']);
  });

  it('the same id in another room is another message: its expiry takes only its own', () => {
    const v = fold(
      stamp([
        { type: 'time', state: 'proven', message: 'proven' },
        msg({ text: 'permanent' }),
        msg({ room: 'room-b', text: 'timed', expiresAt: 9_000 }),
        { type: 'expired', id: 'm1', fingerprint: 'fp-bob', room: 'room-b', expiresAt: 9_000 },
      ]),
    );
    expect(timeline(v, 'room-a').flatMap((i) => (i.kind === 'message' ? [i.text] : []))).toEqual(['permanent']);
    expect(v.rooms.has('room-b')).toBe(false);
  });

  it('a message shown again (`again`) never adds an entry: not in a room left, not after it scrolled away', () => {
    const again = msg({ expiresAt: 9_000, again: true });
    const left = fold(stamp([{ type: 'time', state: 'proven', message: 'proven' }, msg({ expiresAt: 9_000 }), { type: 'left', room: 'room-a', roomName: 'lobby', reason: 'left' }, again]));
    expect(left.rooms.has('room-a')).toBe(false);
    const alone = fold(stamp([{ type: 'time', state: 'proven', message: 'proven' }, again]));
    expect(alone.rooms.has('room-a')).toBe(false);
  });

  it('unread counts messages from others after what the interface showed', () => {
    const v = fold(stamp([msg({ id: 'a' }), msg({ id: 'b', self: true, from: 'me', fingerprint: 'fp-me' }), msg({ id: 'c' })]));
    expect(unreadCount(v, 'room-a', 0)).toBe(2);
    expect(unreadCount(v, 'room-a', 2)).toBe(1);
    expect(unreadCount(v, 'room-a', 3)).toBe(0);
  });

  it('leaving a room takes what came before with it; the notice stays with no room', () => {
    const v = fold(stamp([msg(), { type: 'current', room: 'room-a' }, { type: 'left', room: 'room-a', roomName: 'lobby', reason: 'removed', by: 'alice', code: 'E_KICKED' }]));
    expect(v.rooms.has('room-a')).toBe(false);
    expect(timeline(v, undefined).map((i) => (i.kind === 'notice' ? i.text : ''))).toEqual(['left lobby: you were removed by alice']);
  });

  it('a failover says which relay was lost and which one the client is on now; one relay alone is not named', () => {
    const notices = (events: ClientEvent[]): string[] => timeline(fold(stamp(events)), undefined).map((i) => (i.kind === 'notice' ? i.text : ''));
    const two = fold(stamp([
      { type: 'connection', state: 'reconnecting', delayMs: 90, attempt: 0, reason: 'the relay is shutting down', endpoint: 'a.lan:8090', relays: 2 },
      { type: 'connection', state: 'connected', restarted: true, endpoint: 'b.lan:8090', relays: 2 },
    ]));
    expect(two.connection).toEqual({ state: 'connected', restarted: true, endpoint: 'b.lan:8090', relays: 2 });
    expect(timeline(two, undefined).map((i) => (i.kind === 'notice' ? i.text : ''))).toEqual([
      'connection to a.lan:8090 lost (the relay is shutting down); reconnecting',
      'connected to b.lan:8090 (another relay, or it restarted; resending what it may have missed)',
    ]);
    expect(notices([{ type: 'connection', state: 'connected', restarted: false, endpoint: 'a.lan:8090', relays: 1 }])).toEqual(['connected']);
  });
});
