/**
 * Opening a sealed join request on a member's side (joinRequests.ts): the current secret first,
 * then the secrets the room used before; none → undefined (the caller drops and counts it).
 */
import { describe, expect, it, vi } from 'vitest';
import { createE2ee } from '../e2ee/index.js';
import { randomBytes, randomId } from '../protocol/ids.js';
import { openJoinRequest } from './joinRequests.js';
import type { OldSecret } from './secrets.js';

const e2ee = createE2ee();
const old = (secret: Uint8Array): OldSecret => ({ secret, retiredAt: 0, retiredEpoch: 1 });

describe('openJoinRequest (member side)', () => {
  it('opens under the current secret without asking for the old ones', async () => {
    const room = randomId();
    const secret = randomBytes(32);
    const p = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'bob', room, secret);
    const olds = vi.fn(() => [old(randomBytes(32))]);
    const r = await openJoinRequest(e2ee, room, p.body, secret, olds);
    expect(r?.kind).toBe('current');
    expect(r?.request.name).toBe('bob');
    expect(olds).not.toHaveBeenCalled();
  });

  it('opens under an old secret, and says which', async () => {
    const room = randomId();
    const before = randomBytes(32);
    const p = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'bob', room, before);
    const kept = old(before);
    const r = await openJoinRequest(e2ee, room, p.body, randomBytes(32), () => [old(randomBytes(32)), kept]);
    expect(r?.kind === 'old' && r.old).toBe(kept);
    // The request opened under it is accepted for `add` with that secret.
    expect(r && (await e2ee.verifyJoinProof(r.request, before))).toBe(true);
  });

  it('undefined under no secret of the room, for another room, or for garbage', async () => {
    const room = randomId();
    const secret = randomBytes(32);
    const p = await e2ee.createJoinRequest(await e2ee.createIdentity(), 'bob', room, secret);
    expect(await openJoinRequest(e2ee, room, p.body, randomBytes(32), () => [old(randomBytes(32))])).toBeUndefined();
    expect(await openJoinRequest(e2ee, randomId(), p.body, secret, () => [])).toBeUndefined();
    expect(await openJoinRequest(e2ee, room, p.request, secret, () => [])).toBeUndefined(); // unsealed: refused
    expect(await openJoinRequest(e2ee, room, randomBytes(1053), secret, () => [])).toBeUndefined();
  });
});
