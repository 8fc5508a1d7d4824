/**
 * Cluster attack (issue 14), with real clients (real MLS) on two relays sharing a real Redis: a
 * link holder who is not a member, connected to relay A, takes over a newcomer's join request on
 * relay B by sending a `join` under the same id (which every cohort of the room is shown, its own
 * rival cohort included). The member's Welcome then goes to the link holder, the newcomer's Add
 * lands in the room without the newcomer, and the newcomer never gets in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { startServer, silentLogger, type RunningServer } from '@safehouse/server';
import { startRedis, type TestRedis } from '../../../server/src/testing/redis.js';
import { World, until, roomOf, type Member } from '../testing/members.js';
import { Attacker } from '../testing/attacker.js';

const world = new World();
let redis: TestRedis | undefined;
const extra: RunningServer[] = [];
afterEach(async () => {
  await world.end();
  await Promise.all(extra.splice(0).map((s) => s.close()));
  await redis?.stop();
  redis = undefined;
});

describe('a link holder on another relay of the cluster', () => {
  it("aLinkHolderCannotKeepANewcomerOutByReusingItsJoinId: dave (relay B) joins alice's room (relay A) while a link holder re-sends every join id it sees", async () => {
    redis = await startRedis();
    const basePath = `/${randomId()}`;
    const a = await startServer({ port: 0, basePath, logger: silentLogger, cluster: { url: redis.url, heartbeatMs: 200 } });
    extra.push(a);
    const b = await startServer({ port: 0, basePath, logger: silentLogger, cluster: { url: redis.url, heartbeatMs: 200 } });
    extra.push(b);
    const { link, all } = await world.room(a, ['alice']);
    const [alice] = all as [Member];
    const room = roomOf(link);
    // The link holder: a claim of its own in the room (on relay A), so it is shown join requests;
    // each one it sees, it asks again under the same id.
    const spy = await Attacker.connect(a);
    spy.claim(room, 0);
    const stolen = new Set<string>();
    const thief = setInterval(() => {
      for (const f of spy.frames)
        if (f.t === 'join' && f.room === room && !stolen.has(f.id)) {
          stolen.add(f.id);
          spy.send({ v: 1, t: 'join', room, id: f.id }, new Uint8Array(1053));
        }
    }, 5);
    try {
      // dave opens the link at relay B (same base path: a cluster behind one name, or the link's port changed).
      const viaB = link.replace(`:${new URL(a.url).port}/`, `:${new URL(b.url).port}/`);
      const dave = await world.member('dave', viaB, { timing: { rankDelayMs: 300, joinTimeoutMs: 6_000, refusalGraceMs: 1_000 } });
      await until(() => dave.of('joined').length === 1 || dave.of('fatal').length > 0, 'dave to join, or to give up', 40_000).catch(() => undefined);
      if (process.env.DEBUG_THEFT) console.log(JSON.stringify(dave.events.filter((e) => e.type !== 'time'), null, 0), JSON.stringify(alice.events.filter((e) => e.type !== 'time')));
      expect(stolen.size, 'the link holder saw and re-sent join ids').toBeGreaterThan(0);
      // Today: alice admits dave (member-joined, a new epoch with his leaf), her Welcome goes to
      // the link holder, and dave ends with E_JOIN_TIMEOUT, a ghost leaf of his left in the room.
      expect(dave.of('joined'), `dave's errors: ${JSON.stringify(dave.events.filter((e) => e.type === 'error' || e.type === 'fatal'))}`).toHaveLength(1);
      expect(spy.frames.filter((f) => f.t === 'welcome').length, 'Welcomes meant for dave that reached the link holder').toBe(0);
    } finally {
      clearInterval(thief);
      spy.close();
    }
  }, 60_000);
});
