/**
 * Cluster attacks (issue 14) with real processes: two `safehouse serve --cluster` relays on one
 * real Redis (same base path), `safehouse join --json` members.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../packages/server/src/testing/redis.js';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';
import { inviteOf, sleep } from './src/ops.js';

const procs: (Server | Member)[] = [];
let redis: TestRedis | undefined;
afterEach(async () => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  await redis?.stop();
  redis = undefined;
});

function join(link: string, name: string, args: string[] = []): Member {
  const m = startJoin(link, name, args);
  procs.push(m);
  return m;
}
async function serve(args: string[]): Promise<Server> {
  const s = await startServe(args);
  procs.push(s);
  return s;
}
/** The same link, at another relay of the cluster (same base path: only the port differs). */
function at(link: string, relay: Server): string {
  const u = new URL(link);
  u.port = String(relay.port);
  return u.toString();
}

describe('cluster attacks with real processes', () => {
  it('--disable-all holds in a cluster: a member who reaches the room through another relay cannot post to the default room either', async () => {
    redis = await startRedis();
    const basePath = `/${randomBytes(16).toString('hex')}`;
    // The operator runs the same command on each relay.
    const a = await serve(['--cluster', redis.url, '--base-path', basePath, '--disable-all']);
    const b = await serve(['--cluster', redis.url, '--base-path', basePath, '--disable-all']);
    const link = inviteOf(a);
    const alice = join(link, 'alice');
    await alice.waitFor((e) => e.type === 'joined', 40_000, 'alice joined');
    // mallory takes the same link to relay B (behind one name, clients land on any relay).
    const mallory = join(at(link, b), 'mallory');
    await mallory.waitFor((e) => e.type === 'joined', 40_000, 'mallory joined through relay B');
    await alice.waitFor((e) => e.type === 'member-joined' && e.name === 'mallory', 30_000, 'alice sees mallory');
    // Through relay A the policy holds (E_FORBIDDEN); through relay B it must too.
    mallory.send('posted through relay B despite --disable-all');
    await Promise.race([
      mallory.waitFor((e) => e.type === 'error' && e.code === 'E_FORBIDDEN', 15_000, 'the refusal').catch(() => undefined),
      alice.waitFor((e) => e.type === 'message' && e.text === 'posted through relay B despite --disable-all', 15_000, 'the post').catch(() => undefined),
    ]);
    await sleep(1_000);
    expect(alice.events.some((e) => e.type === 'message' && e.text === 'posted through relay B despite --disable-all'), 'the post reached alice').toBe(false);
    expect(a.events.some((e) => e.text === 'posted through relay B despite --disable-all'), 'the post reached the admin').toBe(false);
    expect(mallory.events.some((e) => e.type === 'error' && e.code === 'E_FORBIDDEN')).toBe(true);
  }, 120_000);
});
