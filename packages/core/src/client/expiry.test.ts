/**
 * ExpiryKeeper on a manual clock and a scripted time source: what is shown, hidden, dropped and
 * expired is decided on proven bounds only; the wall clock (Date.now) plays no part.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CurrentTime } from '../roughtime/bounds.js';
import { createManualClock } from './clock.js';
import type { ClientEvent } from './events.js';
import { ExpiryKeeper, type TimeSource } from './expiry.js';

const T0 = 1_800_000_000_000;

/** Proven time = T0 + manual clock's elapsed time, ±radius; `up` false = no fresh bounds. */
function scripted(clock: { now(): number }, radius = 500) {
  const start = clock.now();
  const s = {
    up: true,
    refreshes: 0,
    current(): CurrentTime {
      if (!s.up) return { kind: 'none' };
      const t = T0 + (clock.now() - start);
      return { kind: 'bounds', earliestMs: t - radius, latestMs: t + radius, ageMs: 0 };
    },
    refresh() {
      s.refreshes++;
      return Promise.resolve(s.up ? { ok: true } : { ok: false, code: 'E_ROUGHTIME_NO_QUORUM', detail: 'no servers answered' });
    },
  };
  return s satisfies TimeSource;
}

function msg(id: string, expiresAt: number) {
  return { type: 'message' as const, id, room: 'r', roomName: 'lobby', from: 'bob', fingerprint: 'f', text: 'secret', ts: 0, direct: false, expiresAt };
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

afterEach(() => vi.useRealTimers());

describe('ExpiryKeeper', () => {
  it('showsUntilTheLatestBoundReachesTheExpiryThenExpires', async () => {
    const clock = createManualClock(0);
    const src = scripted(clock);
    const events: ClientEvent[] = [];
    const k = new ExpiryKeeper({ source: src, clock, emit: (e) => events.push(e) });
    k.offer(msg('a', T0 + 3_000));
    await flush();
    expect(events.filter((e) => e.type === 'message')).toHaveLength(1);
    clock.advance(2_400);
    expect(events.some((e) => e.type === 'expired')).toBe(false);
    clock.advance(200); // latest = T0 + 2600 + 500 ≥ expiry
    expect(events.find((e) => e.type === 'expired')).toMatchObject({ id: 'a', room: 'r', expiresAt: T0 + 3_000 });
    k.stop();
  });

  it('dropsOnArrivalWhatTheEarliestBoundHasPassed', () => {
    const clock = createManualClock(0);
    const events: ClientEvent[] = [];
    const k = new ExpiryKeeper({ source: scripted(clock), clock, emit: (e) => events.push(e) });
    k.offer(msg('old', T0 - 1_000)); // past even at the earliest
    k.offer(msg('edge', T0 + 100)); // within the uncertainty of the present
    expect(events.filter((e) => e.type === 'message')).toEqual([]);
    k.stop();
  });

  it('hidesWithoutProvenTimeAndShowsOnceProven', async () => {
    const clock = createManualClock(0);
    const src = scripted(clock);
    src.up = false;
    const events: ClientEvent[] = [];
    const k = new ExpiryKeeper({ source: src, clock, emit: (e) => events.push(e) });
    k.offer(msg('a', T0 + 10_000));
    await flush();
    expect(events.filter((e) => e.type === 'message')).toEqual([]);
    expect(events.find((e) => e.type === 'time')).toMatchObject({ state: 'unproven' });
    src.up = true;
    clock.advance(1_000); // the retry after a failure
    await flush();
    expect(events.filter((e) => e.type === 'message').map((e) => (e as { id: string }).id)).toEqual(['a']);
    expect(events.filter((e) => e.type === 'time').map((e) => (e as { state: string }).state)).toEqual(['unproven', 'proven']);
    // Time lost again: every shown timed message must be hidden (the UI hides on `time unproven`).
    src.up = false;
    clock.advance(1_000);
    expect(events.at(-1)).toMatchObject({ type: 'time', state: 'unproven' });
    k.stop();
  });

  it('aMessageShownAgainIsMarkedAgainAndOneNeverShownIsNot', async () => {
    const clock = createManualClock(0);
    const src = scripted(clock);
    src.up = false;
    const events: ClientEvent[] = [];
    const k = new ExpiryKeeper({ source: src, clock, emit: (e) => events.push(e) });
    k.offer(msg('a', T0 + 60_000)); // held, never shown yet
    await flush();
    src.up = true;
    clock.advance(1_000);
    await flush();
    src.up = false;
    clock.advance(1_000);
    await flush();
    src.up = true;
    clock.advance(1_000);
    await flush();
    const shown = events.filter((e) => e.type === 'message');
    expect(shown.map((e) => ('again' in e ? e.again : undefined))).toEqual([undefined, true]);
    k.stop();
  });

  it('aRoomForgottenIsNotShownAgainNorExpired', async () => {
    const clock = createManualClock(0);
    const src = scripted(clock);
    const events: ClientEvent[] = [];
    const k = new ExpiryKeeper({ source: src, clock, emit: (e) => events.push(e) });
    k.offer(msg('a', T0 + 3_000));
    await flush();
    k.forget('r'); // the room was left
    src.up = false;
    clock.advance(1_000);
    src.up = true;
    clock.advance(5_000);
    await flush();
    expect(events.filter((e) => e.type === 'message' || e.type === 'expired')).toHaveLength(1);
    k.stop();
  });

  it('withoutATimeSourceTimedMessagesStayHidden', () => {
    const clock = createManualClock(0);
    const events: ClientEvent[] = [];
    const k = new ExpiryKeeper({ source: undefined, clock, emit: (e) => events.push(e) });
    k.offer(msg('a', T0 + 10_000));
    clock.advance(60_000);
    expect(events.map((e) => e.type)).toEqual(['time']);
    expect(events[0]).toMatchObject({ state: 'unproven', message: expect.stringMatching(/no Roughtime servers/) });
    k.stop();
  });

  it('aWallClockTurnedBackADayOrForwardAYearChangesNothing', async () => {
    for (const shift of [-86_400_000, 365 * 86_400_000]) {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(T0 + shift);
      const clock = createManualClock(0);
      const events: ClientEvent[] = [];
      const k = new ExpiryKeeper({ source: scripted(clock), clock, emit: (e) => events.push(e) });
      k.offer(msg('a', T0 + 3_000));
      await flush();
      expect(events.filter((e) => e.type === 'message'), `shift ${shift}`).toHaveLength(1);
      clock.advance(2_600);
      expect(events.filter((e) => e.type === 'expired'), `shift ${shift}`).toHaveLength(1);
      k.stop();
      vi.useRealTimers();
    }
  });

  it('theSendersExpiryIsTheProvenMiddlePlusTheTtl', async () => {
    const clock = createManualClock(0);
    const src = scripted(clock);
    const k = new ExpiryKeeper({ source: src, clock, emit: () => undefined });
    expect(await k.expiresAt(30_000)).toBe(T0 + 30_000);
    src.up = false;
    expect(await k.expiresAt(30_000)).toBeUndefined();
    const none = new ExpiryKeeper({ source: undefined, clock, emit: () => undefined });
    expect(await none.expiresAt(30_000)).toBeUndefined();
    k.stop();
  });
});
