/**
 * Timers that cannot be stripped (issue 12, attack 5; docs/security.md): the room's message
 * timer is group state (a GroupContext extension set by a commit), so a relay cannot leave one
 * member without it by dropping one message, a newcomer has it from its Welcome, and a message
 * without a valid expiry in a timed room is flagged, never shown as permanent silently. Real
 * relay, real clients; the attacker is the wire in front of one client (a malicious relay) or a
 * member whose client is manipulated.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createE2ee, PinStore, type AppAad, type E2ee, type GroupSession } from '@safehouse/core/e2ee';
import { encodeFrame } from '@safehouse/core/protocol';
import { Scenario, until, type Peer } from '../testing/scenario.js';
import { provenTime } from '../testing/proven-time.js';


/** A member's e2ee whose sessions send every application message with `aad` changed by `tamper` (a manipulated client). */
function manipulated(pins: PinStore, tamper: (aad: AppAad) => AppAad): E2ee {
  const e2ee = createE2ee({ pins });
  const patch = (s: GroupSession): GroupSession => {
    const encrypt = s.encrypt.bind(s);
    s.encrypt = (plaintext, aad) => encrypt(plaintext, tamper(aad));
    return s;
  };
  return {
    ...e2ee,
    createIdentity: (o) => e2ee.createIdentity(o),
    createJoinRequest: (...a) => e2ee.createJoinRequest(...a),
    parseJoinRequest: (b) => e2ee.parseJoinRequest(b),
    verifyJoinProof: (r, k) => e2ee.verifyJoinProof(r, k),
    createGroup: async (...a) => patch(await e2ee.createGroup(...a)),
    joinFromWelcome: async (...a) => {
      const r = await e2ee.joinFromWelcome(...a);
      return r.ok ? { ok: true, session: patch(r.session) } : r;
    },
  };
}

const MINUTE = 60_000;
const message = (p: Peer, text: string) => p.of('message').find((m) => m.text === text);

let s: Scenario;
afterEach(() => s.close());

describe('timers that cannot be stripped', () => {
  describe('a malicious relay', () => {
    beforeEach(async () => {
      // The relay unsubscribes a member that has not proved the new epoch after 3 s; it then
      // catches up from the relay's log (the attacker drops what carries the timer only once).
      s = await Scenario.start({ limits: { reproveGraceMs: 3_000 } });
    });

    it('aRelayDroppingTheTimerToOneMemberCannotMakeItsMessagesPermanent', async () => {
      const [alice, bob, carol] = (await s.room(['alice', 'bob', 'carol'], { timeSource: provenTime() })) as [Peer, Peer, Peer];
      // The relay drops, to bob only, the first frame the room sends after alice's `/ttl`: the
      // frame that carries the timer, whatever carries it (it was an application message).
      let armed = true;
      let dropped = 0;
      s.wire.inbound = (line, h) => {
        if (armed && line === bob.line && h.t === 'msg' && (h.kind === 'app' || h.kind === 'commit')) {
          armed = false;
          dropped++;
          return 'drop';
        }
        return 'pass';
      };
      await alice.client.command('/ttl 1m');
      await until(() => alice.of('ttl').length === 1 && carol.of('ttl').length === 1, 'the timer at alice and carol');
      expect(dropped).toBe(1);
      // Past the time a message may be in flight (1 s): bob writes on.
      await new Promise((r) => setTimeout(r, 1_200));
      await bob.client.command('from bob, first');
      for (const p of [alice, carol]) {
        await until(() => p.texts().includes('from bob, first'), "bob's first message");
        // Never permanent: timed (by bob, or, if bob could not know, by the receiver itself, flagged).
        const m = message(p, 'from bob, first')!;
        expect(m.expiresAt).toBeDefined();
        expect(m.expiresAt!).toBeLessThanOrEqual(Date.now() + MINUTE + 2 * MINUTE);
        if (m.untimed) expect(p.of('error').some((e) => e.code === 'E_UNTIMED')).toBe(true);
      }
      // Bob catches up (the relay's log brings the commit again) and has the timer himself.
      await until(() => bob.of('ttl').length === 1, 'the timer at bob', 15_000);
      expect(bob.last('ttl')).toMatchObject({ ms: MINUTE, from: 'alice', self: false });
      await bob.client.command('from bob, second');
      for (const p of [alice, carol]) {
        await until(() => p.texts().includes('from bob, second'), "bob's second message");
        const m = message(p, 'from bob, second')!;
        expect(m.expiresAt).toBeGreaterThan(Date.now() + MINUTE - 10_000);
        expect(m.untimed).toBeUndefined();
      }
    });

    it('aNewcomerKnowsTheTimerFromItsWelcomeWithEveryApplicationMessageToItDropped', async () => {
      const [alice, bob] = (await s.room(['alice', 'bob'], { timeSource: provenTime() })) as [Peer, Peer];
      await alice.client.command('/ttl 1h');
      await until(() => bob.of('ttl').length === 1, 'the timer at bob');
      const link = alice.of('invite')[0]!.link;
      // To the newcomer, the relay drops every application message, and strips anything that
      // rides beside the Welcome in its envelope (a 0x03 note is cut down to the bare Welcome).
      const carol = s.peer('carol', link, { timeSource: provenTime() });
      s.wire.inbound = (line, h, body) => {
        if (line !== carol.line) return 'pass';
        if (h.t === 'msg' && h.kind === 'app') return 'drop';
        if (h.t === 'welcome' && body[0] === 0x03 && body.length > 5) {
          const n = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
          return { replace: [encodeFrame(h, Uint8Array.from([0x01, ...body.subarray(5, 5 + n)]))] };
        }
        return 'pass';
      };
      await carol.client.start();
      await until(() => carol.of('joined').length === 1, 'carol in');
      expect(carol.of('ttl')).toHaveLength(1);
      expect(carol.last('ttl')).toMatchObject({ ms: 3_600_000, self: false });
      expect(carol.last('ttl')!.text).toContain('yours too');
      await s.subscribed([alice, bob, carol], 'carol subscribed');
      await carol.client.command('from the newcomer');
      await until(() => alice.texts().includes('from the newcomer') && bob.texts().includes('from the newcomer'), "carol's message");
      for (const p of [alice, bob]) {
        expect(message(p, 'from the newcomer')?.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
        expect(message(p, 'from the newcomer')?.untimed).toBeUndefined();
      }
    });
  });

  describe('a malicious member', () => {
    beforeEach(async () => {
      s = await Scenario.start();
    });

    it('aMessageWithoutAValidExpiryInATimedRoomIsFlaggedNeverShownAsPermanent', async () => {
      const { peer: alice, link } = await s.founder('alice', { timeSource: provenTime() });
      // Mallory's client strips the expiry from what it sends, then (a second phase) puts it a year out.
      let tamper: (aad: AppAad) => AppAad = ({ room, id }) => ({ room, id });
      const pins = new PinStore();
      const mallory = await s.joiner('mallory', link, { timeSource: provenTime(), pins, e2ee: manipulated(pins, (aad) => tamper(aad)) });
      const bob = await s.joiner('bob', link, { timeSource: provenTime() });
      await until(() => [mallory, bob].every((p) => p.of('joined').length === 1), 'all in');
      await s.subscribed([alice, mallory, bob], 'all subscribed');
      await alice.client.command('/ttl 1m');
      await until(() => [alice, mallory, bob].every((p) => p.of('ttl').length === 1), 'the timer at every member');
      await mallory.client.command('no expiry');
      for (const p of [alice, bob]) {
        await until(() => p.texts().includes('no expiry'), 'the message');
        const m = message(p, 'no expiry')!;
        expect(m.untimed).toBe(true);
        // Timed by the receiver itself, from proven time: never permanent.
        expect(m.expiresAt).toBeGreaterThan(Date.now());
        expect(m.expiresAt).toBeLessThanOrEqual(Date.now() + MINUTE);
        expect(p.of('error').filter((e) => e.code === 'E_UNTIMED')).toHaveLength(1);
        expect(p.last('error')!.message).toContain('mallory');
      }
      tamper = (aad) => ({ ...aad, expiresAt: (aad.expiresAt ?? Date.now()) + 365 * 86_400_000 });
      await mallory.client.command('a year');
      for (const p of [alice, bob]) {
        await until(() => p.texts().includes('a year'), 'the message');
        const m = message(p, 'a year')!;
        expect(m.untimed).toBe(true);
        expect(m.expiresAt).toBeLessThanOrEqual(Date.now() + MINUTE);
      }
      // An honest member's message is not flagged; in a room without a timer an expiry is honoured.
      await bob.client.command('honest');
      await until(() => alice.texts().includes('honest'), 'the honest message');
      expect(message(alice, 'honest')?.untimed).toBeUndefined();
      await alice.client.command('/ttl off');
      await until(() => [mallory, bob].every((p) => p.of('ttl').length === 2), 'the timer off');
      tamper = (aad) => ({ ...aad, expiresAt: Date.now() + 30_000 });
      await mallory.client.command('timed anyway');
      await until(() => bob.texts().includes('timed anyway'), 'the message');
      expect(message(bob, 'timed anyway')).toMatchObject({ expiresAt: expect.any(Number) as number });
      expect(message(bob, 'timed anyway')?.untimed).toBeUndefined();
    });

    it('aMemberWhoIsNotAnAdminMaySetTheTimer', async () => {
      const [alice, bob, carol] = (await s.room(['alice', 'bob', 'carol'], { timeSource: provenTime() })) as [Peer, Peer, Peer];
      await bob.client.command('/ttl 5m');
      for (const p of [alice, bob, carol]) {
        await until(() => p.of('ttl').length === 1, 'the timer');
        expect(p.last('ttl')).toMatchObject({ ms: 5 * MINUTE, from: 'bob', self: p === bob });
      }
      await carol.client.command('timed by bob');
      await until(() => alice.texts().includes('timed by bob'), 'the message');
      expect(message(alice, 'timed by bob')?.expiresAt).toBeGreaterThan(Date.now() + 4 * MINUTE);
      expect(alice.of('error')).toHaveLength(0);
    });
  });

  it('aRelayDroppingTheShorterTimerToOneMemberCannotKeepItsMessagesForTheLongerOne', async () => {
    s = await Scenario.start();
    const [alice, bob] = (await s.room(['alice', 'bob'], { timeSource: provenTime() })) as [Peer, Peer];
    await alice.client.command('/ttl 7d');
    await until(() => bob.of('ttl').length === 1, 'the 7 d timer at bob');
    // The relay drops to bob every commit from now on: the one that shortens the timer to 1 m.
    s.wire.inbound = (line, h) => (line === bob.line && h.t === 'msg' && h.kind === 'commit' ? 'drop' : 'pass');
    await alice.client.command('/ttl 1m');
    await until(() => alice.of('ttl').length === 2, 'the 1 m timer at alice');
    // Past the in-flight grace (1 s): bob is kept behind, not in flight.
    await new Promise((r) => setTimeout(r, 1_500));
    await bob.client.command('from bob, after the room chose 1 minute');
    await until(() => alice.texts().includes('from bob, after the room chose 1 minute'), "bob's message at alice");
    const m = alice.of('message').find((x) => x.text === 'from bob, after the room chose 1 minute')!;
    // Flagged, and kept for the room's minute, not for the week bob's client still applies.
    expect(m.untimed).toBe(true);
    expect(m.expiresAt! - Date.now()).toBeLessThan(2 * MINUTE);
    expect(alice.of('error').some((e) => e.code === 'E_UNTIMED')).toBe(true);
  }, 30_000);
});
