/**
 * A crowd opens one link at once (issue "Membership that holds", item 7): every joiner is
 * admitted (several per commit), every member ends in the same epoch, and a message from the
 * last one reaches all the others. Real clients on the real relay, in one process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { World, until, type Member } from './testing/members.js';

const world = new World();
afterEach(() => world.end());

describe('a crowd', () => {
  it('aCrowdOpeningOneLinkAtOnceConverges: 30 joiners at once, all admitted, the last one heard by all', async () => {
    const server = await world.server();
    const { link, all } = await world.room(server, ['host']);
    const host = all[0]!;
    const n = 30;
    const started = Date.now();
    const crowd: Member[] = await Promise.all(Array.from({ length: n }, (_, i) => world.member(`guest${i}`, link, { timing: { joinTimeoutMs: 60_000 } })));
    await until(() => crowd.every((m) => m.of('joined').length === 1), 'every guest admitted', 60_000);
    const admitted = Date.now() - started;
    const everyone = [host, ...crowd];
    const last = crowd.at(-1)!;
    await last.client.command('hello from the last');
    await until(() => everyone.every((m) => m === last || m.texts().includes('hello from the last')), 'the last message everywhere', 60_000);
    const heard = Date.now() - started;
    // One epoch for all: every member can read every other (each one's message reaches the host).
    for (const m of crowd.slice(0, 5)) await m.client.command(`from ${m.name}`);
    await until(() => crowd.slice(0, 5).every((m) => host.texts().includes(`from ${m.name}`)), 'five more at the host', 30_000);
    const commits = host.of('member-joined').length;
    expect(commits).toBe(n);
    expect(crowd.flatMap((m) => m.of('error')).filter((e) => e.code !== 'E_RATE_LIMITED')).toEqual([]);
    console.log(`crowd of ${n}: all admitted in ${admitted} ms, the last one's message heard by all ${n} others in ${heard} ms`);
  }, 120_000);
});
