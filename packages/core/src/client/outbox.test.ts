import { describe, expect, it } from 'vitest';
import { randomId } from '../protocol/ids.js';
import { createManualClock } from './clock.js';
import { Outbox, type OutboundHeader } from './outbox.js';

function setup() {
  const clock = createManualClock();
  let connected = true;
  const sent: string[] = [];
  const outbox = new Outbox({
    clock,
    send: (h) => {
      if (!connected) return false;
      sent.push(h.id);
      return true;
    },
  });
  const room = randomId();
  const pub = (kind: 'app' | 'commit' | 'proposal' = 'app'): OutboundHeader => ({ v: 1, t: 'pub', room, id: randomId(), kind, epoch: 1 });
  return { clock, outbox, sent, room, pub, setConnected: (c: boolean) => (connected = c) };
}

describe('Outbox', () => {
  it('sends at once, keeps each frame until its ack, and ignores unknown acks', () => {
    const t = setup();
    const h = t.pub();
    let acked = 0;
    t.outbox.add({ header: h, body: new Uint8Array([1]), onAck: () => acked++ });
    expect(t.sent).toEqual([h.id]);
    expect(t.outbox.size).toBe(1);
    expect(t.outbox.ack(h.id)).toBe(true);
    expect(acked).toBe(1);
    expect(t.outbox.size).toBe(0);
    expect(t.outbox.ack(h.id)).toBe(false);
  });

  it('resends what was not acked after a reconnect, in order', () => {
    const t = setup();
    t.setConnected(false);
    const a = t.pub();
    const b = t.pub('commit');
    const c = t.pub();
    t.outbox.add({ header: a, body: new Uint8Array() });
    t.clock.advance(1);
    t.outbox.add({ header: b, body: new Uint8Array() });
    t.clock.advance(1);
    t.outbox.add({ header: c, body: new Uint8Array() });
    expect(t.sent).toEqual([]);
    t.setConnected(true);
    t.outbox.resend(false);
    expect(t.sent).toEqual([a.id, b.id, c.id]);
    t.outbox.ack(b.id);
    t.sent.length = 0;
    t.outbox.resend(false);
    expect(t.sent).toEqual([a.id, c.id]);
  });

  it('after a relay restart also resends app messages acked in the last 60 s', () => {
    const t = setup();
    const old = t.pub();
    t.outbox.add({ header: old, body: new Uint8Array() });
    t.outbox.ack(old.id);
    t.clock.advance(30_000);
    const commit = t.pub('commit');
    t.outbox.add({ header: commit, body: new Uint8Array() });
    t.outbox.ack(commit.id);
    t.clock.advance(20_000);
    const recent = t.pub();
    t.outbox.add({ header: recent, body: new Uint8Array() });
    t.outbox.ack(recent.id);
    const unacked = t.pub();
    t.outbox.add({ header: unacked, body: new Uint8Array() });
    t.clock.advance(15_000); // `old` is now 65 s old, `recent` 15 s
    t.sent.length = 0;
    t.outbox.resend(false);
    expect(t.sent).toEqual([unacked.id]);
    t.sent.length = 0;
    t.outbox.resend(true);
    expect(t.sent).toEqual([recent.id, unacked.id]); // commits are never resent once acked
    expect(t.outbox.size).toBe(2);
  });

  it('reports a nack with its code and epoch', () => {
    const t = setup();
    const c = t.pub('commit');
    let got: unknown;
    t.outbox.add({ header: c, body: new Uint8Array(), onNack: (code, epoch) => (got = { code, epoch }) });
    expect(t.outbox.nack(c.id, 'E_STALE_EPOCH', 4)).toBe(true);
    expect(got).toEqual({ code: 'E_STALE_EPOCH', epoch: 4 });
    expect(t.outbox.size).toBe(0);
  });

  it('drain resolves when empty, or false after the timeout', async () => {
    const t = setup();
    expect(await t.outbox.drain(10)).toBe(true);
    const a = t.pub();
    t.outbox.add({ header: a, body: new Uint8Array() });
    const p = t.outbox.drain(5_000);
    t.outbox.ack(a.id);
    expect(await p).toBe(true);
    t.outbox.add({ header: t.pub(), body: new Uint8Array() });
    const q = t.outbox.drain(5_000);
    t.clock.advance(5_000);
    expect(await q).toBe(false);
  });
});
