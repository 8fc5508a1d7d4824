/**
 * What relays of a cluster say to each other through the bus (engine/redis.ts), in bytes.
 *
 * A room's channel carries its changes, each `[u32 seq][u32 cohort][u8 type][fields]`: the
 * sequence number and cohort number are put in front by the Redis script that orders the change
 * (redis-scripts.ts); the rest is made here. Strings are u16-length-prefixed UTF-8, bodies
 * u32-length-prefixed, numbers float64 (epochs and expiry times are integers below 2^53).
 *
 *   b  frames and counts of one relay, one event-loop turn: relay, counts, then records
 *   o  a cohort opened: epoch, relay key, refused commit id ('' for none)
 *   c  a commit: id, epoch, next key, relay, connection serial, body
 *   j  a join request: id, relay, connection serial, the joiner's session, body
 *   u  a join request answered or gone: id, relay
 *   x  a cohort dropped (no relay had members in it)
 *
 * A relay's own channel carries Welcomes for its joiners: room, join id, Welcome id, body.
 * Nothing here is ever plaintext: bodies are the members' ciphertext, as the relay got them.
 */
import type { PubKind } from '@safehouse/core/protocol';
import type { CommitEvent, JoinEvent, PubRecord } from './engine.js';

export const TYPE = { batch: 0x62, open: 0x6f, commit: 0x63, join: 0x6a, unjoin: 0x75, drop: 0x78 } as const;

/** Appends fields to a growing buffer. */
class Writer {
  private buf: Buffer;
  private at = 0;

  /** `size`: what it will hold, if known (a batch: one allocation, no copies). */
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  u8(n: number): this {
    this.room(1);
    this.buf[this.at++] = n;
    return this;
  }

  u32(n: number): this {
    this.room(4);
    this.buf.writeUInt32BE(n >>> 0, this.at);
    this.at += 4;
    return this;
  }

  f64(n: number): this {
    this.room(8);
    this.buf.writeDoubleBE(n, this.at);
    this.at += 8;
    return this;
  }

  str(s: string): this {
    const n = Buffer.byteLength(s);
    this.room(2 + n);
    this.buf.writeUInt16BE(n, this.at);
    this.buf.write(s, this.at + 2);
    this.at += 2 + n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(4 + b.length);
    this.buf.writeUInt32BE(b.length, this.at);
    this.buf.set(b, this.at + 4);
    this.at += 4 + b.length;
    return this;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** Reads fields in order; a short or malformed buffer throws (the bus is trusted, but not blindly). */
export class Reader {
  constructor(
    private readonly buf: Buffer,
    public at = 0,
  ) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new RangeError('bus message too short');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++] as number;
  }

  u32(): number {
    this.need(4);
    const n = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }

  f64(): number {
    this.need(8);
    const n = this.buf.readDoubleBE(this.at);
    this.at += 8;
    return n;
  }

  str(): string {
    this.need(2);
    const n = this.buf.readUInt16BE(this.at);
    this.need(2 + n);
    const s = this.buf.toString('utf8', this.at + 2, this.at + 2 + n);
    this.at += 2 + n;
    return s;
  }

  bytes(): Buffer {
    this.need(4);
    const n = this.buf.readUInt32BE(this.at);
    this.need(4 + n);
    const b = this.buf.subarray(this.at + 4, this.at + 4 + n);
    this.at += 4 + n;
    return b;
  }

  get done(): boolean {
    return this.at === this.buf.length;
  }
}

function writeRecord(w: Writer, r: PubRecord): void {
  w.u32(r.cid).str(r.id).str(r.kind).f64(r.epoch).f64(r.exp ?? NaN).bytes(r.body);
}

export function readRecord(r: Reader): PubRecord {
  const cid = r.u32();
  const id = r.str();
  const kind = r.str() as PubKind;
  const epoch = r.f64();
  const exp = r.f64();
  return { cid, id, kind, epoch, exp: Number.isNaN(exp) ? undefined : exp, body: r.bytes() };
}

/** One record alone (a kept proposal, as the cluster stores it). */
export function encodeRecord(rec: PubRecord): Buffer {
  const w = new Writer();
  writeRecord(w, rec);
  return w.done();
}

/** `counts`: this relay's subscribers by cohort ("cid:n,..."), '' for none, or undefined: unchanged. */
export function encodeBatch(relay: string, counts: string | undefined, records: readonly PubRecord[]): Buffer {
  let size = 1 + 2 + Buffer.byteLength(relay) + 2 + Buffer.byteLength(counts ?? '-') + 4;
  for (const r of records) size += 4 + 2 + Buffer.byteLength(r.id) + 2 + Buffer.byteLength(r.kind) + 8 + 8 + 4 + r.body.length;
  const w = new Writer(size).u8(TYPE.batch).str(relay).str(counts ?? '-').u32(records.length);
  for (const r of records) writeRecord(w, r);
  return w.done();
}

export function encodeOpen(epoch: number, key: string, refused: string | undefined): Buffer {
  return new Writer().u8(TYPE.open).f64(epoch).str(key).str(refused ?? '').done();
}

export function encodeCommit(ev: CommitEvent): Buffer {
  return new Writer().u8(TYPE.commit).str(ev.id).f64(ev.epoch).str(ev.next).str(ev.relay).u32(ev.serial).bytes(ev.body).done();
}

export function readCommit(r: Reader): CommitEvent {
  return { id: r.str(), epoch: r.f64(), next: r.str(), relay: r.str(), serial: r.u32(), body: r.bytes() };
}

export function encodeJoin(ev: JoinEvent): Buffer {
  return new Writer().u8(TYPE.join).str(ev.id).str(ev.relay).u32(ev.serial).str(ev.session).bytes(ev.body).done();
}

export function readJoin(r: Reader): JoinEvent {
  return { id: r.str(), relay: r.str(), serial: r.u32(), session: r.str(), body: r.bytes() };
}

export function encodeUnjoin(id: string, relay: string): Buffer {
  return new Writer().u8(TYPE.unjoin).str(id).str(relay).done();
}

export function encodeDrop(): Buffer {
  return Buffer.from([TYPE.drop]);
}

export function encodeWelcome(room: string, to: string, id: string, body: Uint8Array): Buffer {
  return new Writer().str(room).str(to).str(id).bytes(body).done();
}

export function readWelcome(buf: Buffer): { room: string; to: string; id: string; body: Buffer } {
  const r = new Reader(buf);
  return { room: r.str(), to: r.str(), id: r.str(), body: r.bytes() };
}

/** "3:2,5:1" → {3→2, 5→1}; malformed parts are skipped. */
export function parseCounts(s: string): Map<number, number> {
  const out = new Map<number, number>();
  if (s === '') return out;
  for (const part of s.split(',')) {
    const [cid, n] = part.split(':').map(Number);
    if (Number.isSafeInteger(cid) && Number.isSafeInteger(n) && (n as number) > 0) out.set(cid as number, n as number);
  }
  return out;
}
