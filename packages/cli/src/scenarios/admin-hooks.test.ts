/**
 * The two hooks a server's admin console uses (packages/cli/src/admin): an admission policy
 * (`admit`, for `/ban`) and `remove` (for `/kick`), with the real e2ee on the real relay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JoinCandidate } from '@safehouse/core/client';
import { encodeFrame, toBase64Url } from '@safehouse/core/protocol';
import { Scenario, until } from '../testing/scenario.js';

let s: Scenario;
beforeEach(async () => {
  s = await Scenario.start();
});
afterEach(() => s.close());

describe('admin hooks (real e2ee, real relay)', () => {
  it('removedMemberByAdminCannotReadWhatFollows', async () => {
    const [admin, bob, carol] = await s.room(['ADMIN', 'bob', 'carol']);
    const picked = admin!.client.remove((m) => m.name === 'bob');
    expect(picked.map((p) => p.name)).toEqual(['bob']);
    await until(() => bob!.of('left').some((l) => l.reason === 'removed'), 'bob removed');
    await until(() => carol!.of('member-left').some((e) => e.name === 'bob'), 'carol sees bob leave');
    await admin!.client.command('after the kick');
    await until(() => carol!.texts().includes('after the kick'), 'carol reads on');
    expect(bob!.texts()).not.toContain('after the kick');
    expect(bob!.last('fatal')).toMatchObject({ code: 'E_KICKED' }); // why its last room ended: removed
  });

  it('aBannedJoinerIsRefusedWithEBanned', async () => {
    const seen: JoinCandidate[] = [];
    const { peer: admin, link } = await s.founder('ADMIN', {
      admit: (c) => {
        seen.push(c);
        return c.name === 'mallory' ? 'E_BANNED' : undefined;
      },
    });
    const mallory = await s.joiner('mallory', link);
    await until(() => mallory.of('error').some((e) => e.code === 'E_BANNED'), 'the refusal');
    expect(mallory.of('left')[0]).toMatchObject({ reason: 'refused' });
    const bob = await s.joiner('bob', link);
    await until(() => bob.of('joined').length === 1, 'bob admitted');
    expect(seen.map((c) => c.name)).toEqual(['mallory', 'bob']);
    expect(seen[1]!.joinId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(toBase64Url(seen[1]!.fingerprint)).toHaveLength(43);
    expect(admin.of('member-joined').map((e) => e.name)).toEqual(['bob']);
  });
});

describe('kind dm (for room policies)', () => {
  it('aTextLabelledDmIsDroppedSoAPolicyCannotBeDodged', async () => {
    const [alice, bob] = await s.room(['alice', 'bob']);
    // A client that labels a text message `dm` (to pass a relay that refuses `app`): simulated by
    // relabelling alice's frames on the way to bob.
    for (const label of ['dm', 'proposal', 'commit'] as const) {
      let relabel = true;
      s.wire.inbound = (line, h, body) => {
        if (!relabel || line !== bob!.line || h.t !== 'msg' || h.kind !== 'app') return 'pass';
        relabel = false;
        return { replace: [encodeFrame({ ...h, kind: label }, body)] };
      };
      await alice!.client.command(`sneaky as ${label}`);
      await until(() => !relabel, 'the relabelled frame');
    }
    s.wire.inbound = () => 'pass';
    await alice!.client.command('honest');
    await until(() => bob!.texts().includes('honest'), 'the honest message');
    expect(bob!.texts().filter((t) => t.startsWith('sneaky'))).toEqual([]);
    // Direct-message invitations still travel as `dm` and work.
    await alice!.client.command('/msg bob psst');
    await until(() => bob!.texts().includes('psst'), 'the direct message');
  });
});
