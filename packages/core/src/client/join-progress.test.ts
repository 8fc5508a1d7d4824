/**
 * A join that no member answers (joiner.ts), on a manual clock: it says it is still waiting at
 * 10 s and 30 s of the 60 s, naming the likely causes (no member online, or a wrong or revoked
 * invite secret) when the relay took the request, or the connection when it never did; the
 * E_JOIN_TIMEOUT at 60 s names the same causes. Nothing secret is in any of it.
 */
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, encodeFrame } from '../protocol/frames.js';
import { randomBytes, randomId, toBase64Url } from '../protocol/ids.js';
import { formatInvite } from '../protocol/link.js';
import { createClient } from './client.js';
import { createManualClock } from './clock.js';
import type { ClientEvent } from './events.js';
import type { Transport } from './transport.js';

/** A relay where nobody admits anyone: it says hello and, with `ackJoins`, takes every join request. */
function roomWithoutMembers(ackJoins: boolean): { transport: Transport; joins: () => number } {
  let joins = 0;
  const relay = randomId();
  const transport: Transport = {
    open(_url, h) {
      queueMicrotask(() => h.onOpen());
      return {
        send(bytes) {
          const r = decodeClientFrame(bytes);
          if (!r.ok) return;
          const hd = r.header;
          if (hd.t === 'hello') queueMicrotask(() => h.onFrame(encodeFrame({ v: 1, t: 'hello', relay, maxFrame: 65536, nonce: randomId() })));
          if (hd.t === 'ping') queueMicrotask(() => h.onFrame(encodeFrame({ v: 1, t: 'pong' })));
          if (hd.t === 'join') {
            joins++;
            if (ackJoins) queueMicrotask(() => h.onFrame(encodeFrame({ v: 1, t: 'ack', id: hd.id })));
          }
        },
        close: () => undefined,
      };
    },
  };
  return { transport, joins: () => joins };
}

/** A relay that cannot be reached: every connection fails before it opens. */
const unreachable: Transport = {
  open(_url, h) {
    queueMicrotask(() => h.onClose(1006, ''));
    return { send: () => undefined, close: () => undefined };
  },
};

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const settle = () => new Promise((r) => setTimeout(r, 20));

async function joiner(transport: Transport) {
  const clock = createManualClock();
  const secret = randomBytes(32);
  const room = randomId();
  const link = formatInvite('http://127.0.0.1:8090/base/', { id: room, secret, inviter: randomBytes(32), name: 'lobby' });
  const events: ClientEvent[] = [];
  const client = createClient({ transport, name: 'bob', link, clock });
  client.on((e) => events.push(e));
  await client.start();
  /** Moves the clock to `ms` after the start, then lets the room's queue run. */
  let at = 0;
  const to = async (ms: number) => {
    clock.advance(ms - at);
    at = ms;
    await settle();
  };
  const of = <T extends ClientEvent['type']>(type: T) => events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
  const waiting = () => of('info').filter((e) => e.message.startsWith('still waiting'));
  return { client, clock, events, room, secret: toBase64Url(secret), link, to, of, waiting };
}

describe('a join that no member answers', () => {
  it('aJoinTheRelayTookSaysItIsStillWaitingAt10And30SecondsAndEndsNamingTheCauses', async () => {
    const relay = roomWithoutMembers(true);
    const j = await joiner(relay.transport);
    await until(() => relay.joins() === 1, 'the join request');
    await j.to(9_999);
    expect(j.waiting()).toEqual([]);
    await j.to(10_000);
    const causes = "no member may be online, or the link's invite secret is wrong or was revoked";
    expect(j.waiting()).toEqual([{ type: 'info', room: j.room, message: `still waiting for a member of lobby to admit you (10s of 1m): ${causes}` }]);
    await j.to(30_000);
    expect(j.waiting().map((e) => e.message)).toEqual([10, 30].map((s) => `still waiting for a member of lobby to admit you (${s}s of 1m): ${causes}`));
    await j.to(59_999);
    expect(j.of('error')).toEqual([]);
    await j.to(60_000);
    expect(j.of('error')).toEqual([
      {
        type: 'error',
        code: 'E_JOIN_TIMEOUT',
        room: j.room,
        message: `no member admitted you to lobby within 1m: ${causes} (then ask a member for the room's current link); try again when a member is online`,
      },
    ]);
    expect(j.of('fatal')).toMatchObject([{ code: 'E_JOIN_TIMEOUT' }]);
    expect(j.waiting()).toHaveLength(2); // no more notes after the end
    await j.to(600_000);
    expect(j.waiting()).toHaveLength(2);
    // The invite secret (or the link holding it) is in nothing said.
    for (const e of j.events) {
      expect(JSON.stringify(e)).not.toContain(j.secret);
    }
  });

  it('aJoinWhoseRequestNeverReachedTheRelaySaysSoInsteadOfBlamingTheMembers', async () => {
    const j = await joiner(unreachable);
    await until(() => j.of('connection').length > 0, 'a try');
    await j.to(10_000);
    await j.to(30_000);
    expect(j.waiting().map((e) => e.message)).toEqual([10, 30].map((s) => `still waiting to reach the relay to ask the members of lobby to admit you (${s}s of 1m); see the connection state`));
    await j.to(60_000);
    const timeout = j.of('error').find((e) => e.code === 'E_JOIN_TIMEOUT');
    expect(timeout?.message).toBe('no member admitted you to lobby within 1m: your request never reached the relay (see the connection state); try again once it can be reached');
    // The connection said why it could not reach the relay, once (E_CONNECT), not at every try.
    expect(j.of('error').filter((e) => e.code === 'E_CONNECT')).toHaveLength(1);
    expect(j.of('fatal')).toMatchObject([{ code: 'E_JOIN_TIMEOUT' }]);
  });

  it('aJoinEndedByQuittingSaysNothingMore', async () => {
    const relay = roomWithoutMembers(true);
    const j = await joiner(relay.transport);
    await until(() => relay.joins() === 1, 'the join request');
    await j.to(10_000);
    expect(j.waiting()).toHaveLength(1);
    // Quitting while it waits ends the wait: no more notes, no timeout.
    await j.client.quit({ timeoutMs: 0 });
    await j.to(120_000);
    expect(j.waiting()).toHaveLength(1);
    expect(j.of('error')).toEqual([]);
  });
});
