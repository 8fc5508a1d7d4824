/**
 * A proposal on its own is only ever a leave (docs/protocol.md "Room policy"): a member that
 * sends any other proposal (here an Add, made by swapping what ts-mls's createProposal gets in
 * its own session) must not leave it pending at the others, or none of them could send an
 * application message again until some commit came (RFC 9420: none while proposals are pending).
 */
import { describe, expect, it, vi } from 'vitest';
import type { KeyPackage } from 'ts-mls';
import { randomBytes, randomId } from '../protocol/ids.js';
import type { GroupSession } from './api.js';
import { createE2ee } from './index.js';
import { mlsRoom } from '../testing/room.js';
import { decodeKeyPackage } from './keyPackage.js';

const swap = { on: false, kp: undefined as KeyPackage | undefined };
vi.mock('ts-mls', async (importOriginal) => {
  const mod = await importOriginal<typeof import('ts-mls')>();
  return {
    ...mod,
    createProposal: ((...args: Parameters<typeof mod.createProposal>) => {
      if (swap.on && swap.kp) args[2] = { proposalType: 'add', add: { keyPackage: swap.kp } };
      return mod.createProposal(...args);
    }) as typeof mod.createProposal,
  };
});

const room = mlsRoom;

describe('proposals', () => {
  it('aProposalThatIsNotALeaveIsRefusedAndNeverBlocksSending', async () => {
    const { sessions, id } = await room(['alice', 'bob', 'mallory']);
    const [alice, bob, mallory] = sessions as [GroupSession, GroupSession, GroupSession];
    const e2ee = createE2ee();
    const j = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'ghost', id, randomBytes(32));
    swap.kp = decodeKeyPackage(e2ee.parseJoinRequest(j.request)!.keyPackage)!.keyPackage;
    swap.on = true;
    const add = await mallory.proposeLeave(); // an Add proposal, in mallory's name
    swap.on = false;
    for (const s of [alice, bob]) {
      expect((await s.receive(add)).kind).toBe('rejected');
      expect(s.pendingProposals()).toBe(0);
    }
    const text = await alice.encrypt(new TextEncoder().encode('still talking'), { room: id, id: randomId() });
    expect((await bob.receive(text)).kind).toBe('message');
    // A genuine leave is still a proposal the others keep, to commit.
    const leave = await mallory.proposeLeave();
    expect((await alice.receive(leave)).kind).toBe('proposal');
    expect(alice.pendingProposals()).toBe(1);
  });
});
