/**
 * Membership changes in random order (add, kick, leave, update, rejoin with the same identity):
 * every member ends each step in the same epoch with the same epoch authenticator and the same
 * member list, a removed member is told so, and everyone in the room can read everyone else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../protocol/bytes.js';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { GroupSession, Identity, PendingCommit } from './api.js';
import { createE2ee } from './index.js';

type Op =
  | { op: 'add' }
  | { op: 'kick'; who: number; by: number }
  | { op: 'leave'; who: number; by: number }
  | { op: 'update'; by: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ op: 'add' as const }),
  fc.record({ op: fc.constant('kick' as const), who: fc.nat(), by: fc.nat() }),
  fc.record({ op: fc.constant('leave' as const), who: fc.nat(), by: fc.nat() }),
  fc.record({ op: fc.constant('update' as const), by: fc.nat() }),
);

describe('membership', () => {
  it('membersConvergeUnderRandomChanges', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const e2ee = createE2ee();
        const room = randomId();
        const secret = randomBytes(32);
        const creator = await e2ee.createIdentity();
        let live: { id: Identity; s: GroupSession }[] = [
          { id: creator, s: await e2ee.createGroup(creator, 'u0', room) },
        ];
        const gone: Identity[] = [];
        let n = 1;
        const apply = async (by: GroupSession, p: PendingCommit, removed: GroupSession[]) => {
          await by.confirm(p);
          for (const m of live)
            if (m.s !== by)
              expect((await m.s.receive(p.commit)).kind).toBe(removed.includes(m.s) ? 'removed' : 'commit');
          live = live.filter((m) => !removed.includes(m.s));
        };
        for (const o of ops) {
          if (o.op === 'add') {
            // A new member, or one that left coming back with the same identity.
            const id = gone.pop() ?? (await e2ee.createIdentity());
            const pending = await e2ee.createJoinRequest(id, `u${n++}`, room, secret);
            const req = e2ee.parseJoinRequest(pending.request)!;
            expect(await e2ee.verifyJoinProof(req, secret)).toBe(true);
            const by = live[0]!.s;
            const p = await by.add(req);
            await apply(by, p, []);
            const j = await e2ee.joinFromWelcome(pending, p.welcome!, creator.fingerprint);
            // The link's inviter (the creator) may have left: then the joiner must refuse.
            if (!by.members().some((m) => bytesEqual(m.fingerprint, creator.fingerprint))) {
              expect(j.ok).toBe(false);
              // Its leaf is in the tree without a device behind it; take it out again.
              const leaf = by.members().find((m) => bytesEqual(m.fingerprint, id.fingerprint))!.leaf;
              await apply(by, await by.remove([leaf]), []);
              continue;
            }
            if (!j.ok) throw new Error(j.message);
            live.push({ id, s: j.session });
          } else if (live.length > 1) {
            const by = live[o.by % live.length]!;
            if (o.op === 'update') {
              await apply(by.s, await by.s.update(), []);
              continue;
            }
            const others = live.filter((m) => m !== by);
            const who = others[o.who % others.length]!;
            if (o.op === 'leave') {
              const proposal = await who.s.proposeLeave();
              for (const m of live) if (m !== who) expect((await m.s.receive(proposal)).kind).toBe('proposal');
            }
            await apply(by.s, await by.s.remove([who.s.myLeaf()]), [who.s]);
            gone.push(who.id);
          }
          const [first, ...rest] = live;
          for (const m of rest) {
            expect(m.s.epoch()).toBe(first!.s.epoch());
            expect(m.s.epochAuthenticator()).toEqual(first!.s.epochAuthenticator());
            expect(m.s.members().map((x) => [x.leaf, x.name])).toEqual(first!.s.members().map((x) => [x.leaf, x.name]));
          }
        }
        for (const sender of live) {
          const msg = await sender.s.encrypt(new TextEncoder().encode('hi'), { room, id: randomId() });
          for (const r of live) if (r !== sender) expect((await r.s.receive(msg)).kind).toBe('message');
        }
      }),
      { numRuns: Number(process.env.SAFEHOUSE_FUZZ_RUNS ?? 15) },
    );
  }, 120_000);
});
