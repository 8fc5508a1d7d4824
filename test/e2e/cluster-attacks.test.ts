/**
 * Cluster attacks (issue 14) with real processes: two `safehouse serve --cluster` relays on one
 * real Redis (same base path), `safehouse join --json` members.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../packages/server/src/testing/redis.js';
import { run, type Member, type Server } from './src/harness.js';

const procs: (Server | Member)[] = [];
let redis: TestRedis | undefined;
afterEach(async () => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  await redis?.stop();
  redis = undefined;
});

describe('cluster attacks with real processes', () => {
  // A room policy (--disable-all, --only-admin) is enforced by the admin's relay: a member who
  // reached the room through another relay would not be held to it. So a cluster refuses them.
  it('--disable-all (or --only-admin) with --cluster is refused at start: a member reaching the room through another relay would not be held to it', async () => {
    redis = await startRedis();
    const basePath = `/${randomBytes(16).toString('hex')}`;
    for (const policy of ['--disable-all', '--only-admin']) {
      const r = await run(['serve', '--port', '0', '--cluster', redis.url, '--base-path', basePath, policy], '');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('E_USAGE');
      expect(r.stderr).toContain(policy);
    }
  }, 60_000);
});
