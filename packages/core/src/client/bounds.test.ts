/**
 * Each bound on the client's state (bounds.ts), hit: the state stays at the bound, what the
 * user wrote is refused rather than dropped, and `E_LIMIT` says so, rate-limited.
 */
import { describe, expect, it } from 'vitest';
import type { CurrentTime } from '../roughtime/bounds.js';
import { randomId } from '../protocol/ids.js';
import { BOUNDS, LIMIT_NOTICE_EVERY_MS, LimitNotice } from './bounds.js';
import { createManualClock } from './clock.js';
import type { ClientEvent } from './events.js';
import { EXPIRY_DEFAULTS, ExpiryKeeper } from './expiry.js';
import { Outbox, type OutboundHeader } from './outbox.js';
import { SecretHistory } from './secrets.js';

const room = randomId();
const app = (): OutboundHeader => ({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 1 });
const commit = (): OutboundHeader => ({ v: 1, t: 'pub', room, id: randomId(), kind: 'commit', epoch: 1 });
const welcome = (): OutboundHeader => ({ v: 1, t: 'welcome', room, id: randomId(), to: randomId() });
const body = new Uint8Array(1);

function outbox(limits: { frames?: number; welcomes?: number; recent?: number } = {}) {
  const clock = createManualClock();
  const full: string[] = [];
  const sent: string[] = [];
  const o = new Outbox({ clock, limits, send: (h) => (sent.push(h.id), true), onFull: (_h, bound) => full.push(bound) });
  return { o, full, sent };
}

describe('bounds', () => {
  it('theOutboxRefusesAMessageAtItsBoundAndKeepsEveryFrameItTook', () => {
    const { o, full, sent } = outbox();
    for (let i = 0; i < BOUNDS.outboxFrames; i++) expect(o.add({ header: app(), body })).toBe(true);
    expect(o.hasRoomFor('message')).toBe(false);
    const refused = app();
    expect(o.add({ header: refused, body })).toBe(false);
    expect(full).toEqual(['outboxFrames']);
    expect(sent).not.toContain(refused.id); // refused: neither queued nor sent
    expect(o.size).toBe(BOUNDS.outboxFrames);
    // The room's own protocol (a commit, a leave, a join request) is still taken: one each per room.
    expect(o.add({ header: commit(), body })).toBe(true);
    expect(o.size).toBe(BOUNDS.outboxFrames + 1);
    // An ack makes room again.
    o.ack(sent[0]!);
    expect(o.hasRoomFor('message')).toBe(true);
  });

  it('welcomesHaveABoundOfTheirOwn', () => {
    const { o, full } = outbox();
    for (let i = 0; i < BOUNDS.outboxWelcomes; i++) expect(o.add({ header: welcome(), body })).toBe(true);
    expect(o.add({ header: welcome(), body })).toBe(false);
    expect(full).toEqual(['outboxWelcomes']);
    expect(o.size).toBe(BOUNDS.outboxWelcomes);
    expect(o.add({ header: app(), body })).toBe(true); // a message still goes
  });

  it('theRecentMessagesKeptForARelayRestartAreBounded', () => {
    const { o, sent } = outbox({ recent: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const h = app();
      ids.push(h.id);
      o.add({ header: h, body });
      o.ack(h.id);
    }
    sent.length = 0;
    o.resend(true);
    expect(sent).toEqual(ids.slice(2)); // the newest 3; the oldest had been acked, only their resend is lost
  });

  it('aRelayRestartResendsNoMoreThanTheBoundAllows', () => {
    const { o, sent } = outbox({ frames: 4 });
    for (let i = 0; i < 3; i++) {
      const h = app();
      o.add({ header: h, body });
      o.ack(h.id);
    }
    o.add({ header: app(), body });
    o.add({ header: app(), body });
    sent.length = 0;
    o.resend(true);
    expect(o.size).toBe(4);
  });

  it('timedMessagesAreBoundedAndNeverShownUntimed', async () => {
    const clock = createManualClock(0);
    const T0 = 1_800_000_000_000;
    const source = { current: (): CurrentTime => ({ kind: 'bounds', earliestMs: T0 - 100, latestMs: T0 + 100, ageMs: 0 }), refresh: () => Promise.resolve({ ok: true }) };
    const events: ClientEvent[] = [];
    const limits: string[] = [];
    const k = new ExpiryKeeper({ source, clock, emit: (e) => events.push(e), limit: (m) => limits.push(m) });
    const msg = (id: string, fingerprint = 'f') => ({ type: 'message' as const, id, room, roomName: 'r', from: 'bob', fingerprint, text: 't', ts: 0, direct: false, expiresAt: T0 + 60_000 });
    await Promise.resolve();
    for (let i = 0; i < EXPIRY_DEFAULTS.maxHeld; i++) k.offer(msg(`m${i}`));
    const shown = () => events.filter((e) => e.type === 'message').length;
    expect(shown()).toBe(EXPIRY_DEFAULTS.maxHeld);
    k.offer(msg('one too many'));
    expect(shown()).toBe(EXPIRY_DEFAULTS.maxHeld); // not shown: nobody could take it away on time
    expect(limits).toHaveLength(1);
    k.stop();
  });

  it('timedMessagesAreKeptPerSender', () => {
    const clock = createManualClock(0);
    const T0 = 1_800_000_000_000;
    const source = { current: (): CurrentTime => ({ kind: 'bounds', earliestMs: T0 + clock.now() - 100, latestMs: T0 + clock.now() + 100, ageMs: 0 }), refresh: () => Promise.resolve({ ok: true }) };
    const events: ClientEvent[] = [];
    const k = new ExpiryKeeper({ source, clock, emit: (e) => events.push(e) });
    const base = { type: 'message' as const, id: 'same', room, roomName: 'r', text: 't', ts: 0, direct: false };
    k.offer({ ...base, from: 'alice', fingerprint: 'a', expiresAt: T0 + 60_000 });
    k.offer({ ...base, from: 'mallory', fingerprint: 'm', expiresAt: T0 + 1_000 }); // the same id, another sender
    expect(events.filter((e) => e.type === 'message')).toHaveLength(2);
    clock.advance(1_000);
    expect(events.filter((e) => e.type === 'expired')).toEqual([{ type: 'expired', id: 'same', fingerprint: 'm', room, expiresAt: T0 + 1_000 }]);
    clock.advance(60_000);
    expect(events.filter((e) => e.type === 'expired').map((e) => (e as { fingerprint: string }).fingerprint)).toEqual(['m', 'a']);
    k.stop();
  });

  it('theLimitNoticeIsSaidOncePerBoundAndRoomEveryTenSeconds', () => {
    const clock = createManualClock(0);
    const events: ClientEvent[] = [];
    const n = new LimitNotice(clock, (e) => events.push(e));
    for (let i = 0; i < 1000; i++) n.hit('joinIntents', 'full', 'r1');
    n.hit('joinIntents', 'full', 'r2');
    n.hit('outboxFrames', 'full', 'r1');
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.type === 'error' && e.code === 'E_LIMIT')).toBe(true);
    clock.advance(LIMIT_NOTICE_EVERY_MS);
    n.hit('joinIntents', 'full', 'r1');
    expect(events).toHaveLength(4);
  });

  it('theMembersHeardFromAreBounded', () => {
    const h = new SecretHistory();
    const fp = (i: number) => {
      const b = new Uint8Array(32);
      new DataView(b.buffer).setUint32(0, i);
      return b;
    };
    h.heard(fp(0), 5);
    for (let i = 1; i <= BOUNDS.heardMembers; i++) h.heard(fp(i), 1);
    expect(h.heardSince(fp(0), 5)).toBe(false); // heard from longest ago: forgotten
    expect(h.heardSince(fp(1), 1)).toBe(true);
    h.heard(fp(1), 7); // heard again: the newest, kept
    h.heard(fp(BOUNDS.heardMembers + 1), 1);
    expect(h.heardSince(fp(1), 7)).toBe(true);
    expect(h.heardSince(fp(2), 1)).toBe(false);
  });
});
