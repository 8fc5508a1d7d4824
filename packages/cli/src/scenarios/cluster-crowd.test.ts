/**
 * Cluster races (issue 14) with real clients: a crowd opens one link at once, spread over three
 * relays sharing a real Redis; members on all relays then talk.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { startServer, silentLogger, type RunningServer } from '@safehouse/server';
import { startRedis, type TestRedis } from '../../../server/src/testing/redis.js';
import { World, until, type Member } from '../testing/members.js';

const world = new World();
let redis: TestRedis | undefined;
const extra: RunningServer[] = [];
afterEach(async () => {
  await world.end();
  await Promise.all(extra.splice(0).map((s) => s.close()));
  await redis?.stop();
  redis = undefined;
});

describe('a crowd on a cluster', () => {
  it('aCrowdSpreadOverThreeRelaysConverges: 20 joiners at once, all admitted, one epoch, every message everywhere', async () => {
    redis = await startRedis();
    const basePath = `/${randomId()}`;
    const cluster = { url: redis.url, heartbeatMs: 200 };
    const a = await startServer({ port: 0, basePath, logger: silentLogger, cluster });
    extra.push(a);
    const relays = [a];
    for (let i = 0; i < 2; i++) {
      const s = await startServer({ port: 0, basePath, logger: silentLogger, cluster });
      extra.push(s);
      relays.push(s);
    }
    const { link, all } = await world.room(a, ['host']);
    const host = all[0]!;
    const port = new URL(a.url).port;
    const n = Number(process.env.CROWD ?? 20);
    const crowd: Member[] = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        world.member(`guest${i}`, link.replace(`:${port}/`, `:${new URL(relays[i % 3]!.url).port}/`), { timing: { joinTimeoutMs: 60_000 } }),
      ),
    );
    await until(() => crowd.every((m) => m.of('joined').length === 1 || m.of('fatal').length > 0), 'every guest admitted (or given up)', 90_000);
    const notIn = crowd.filter((m) => m.of('joined').length !== 1).map((m) => `${m.name}: ${JSON.stringify(m.of('fatal'))}`);
    expect(notIn).toEqual([]);
    const last = crowd.at(-1)!;
    await last.client.command('hello from the last');
    const everyone = [host, ...crowd];
    await until(() => everyone.every((m) => m === last || m.texts().includes('hello from the last')), 'the last message everywhere', 60_000);
    expect(host.of('member-joined').map((e) => e.name).sort()).toEqual(crowd.map((m) => m.name).sort());
  }, 180_000);
});
