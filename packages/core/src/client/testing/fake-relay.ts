/**
 * Test support (not exported from the package): an in-memory relay that follows
 * docs/protocol.md (hello, sub/unsub with epoch relearning, commit ordering with E_STALE_EPOCH,
 * pending joins sent to later subscribers, welcome routing, presence) and that a test can make
 * misbehave: `filter` drops, delays, duplicates or alters frames; `kill`, `down` and `restart`
 * play network failures. Asynchronous like a network: every hop is a macrotask.
 */
import { decodeClientFrame, encodeFrame, type ClientHeader, type RelayHeader } from '../../protocol/frames.js';
import { randomId } from '../../protocol/ids.js';
import type { Transport, TransportHandlers } from '../transport.js';

export type Conn = { id: number; handlers: TransportHandlers; rooms: Set<string>; joins: Set<string>; open: boolean; ready: boolean };
export type RelayRoom = { epoch: number; subs: Set<Conn>; joins: Map<string, { conn: Conn; body: Uint8Array }>; commits: Set<string>; seq: number };

export class FakeRelay {
  relayId = randomId();
  conns = new Set<Conn>();
  rooms = new Map<string, RelayRoom>();
  /** Frames relay → client pass through here; return false to drop one. */
  filter: (conn: Conn, h: RelayHeader, body: Uint8Array) => boolean = () => true;
  /** Answers `rt` frames (the Roughtime path for browsers); undefined: nack E_ROUGHTIME_UNREACHABLE. */
  roughtime: ((server: number, request: Uint8Array) => Promise<Uint8Array | undefined>) | undefined;
  /** Every `msg` delivered, for replays. */
  log: Array<{ conn: Conn; bytes: Uint8Array; h: RelayHeader }> = [];
  /** While true, new connections fail (the relay is unreachable for newcomers). */
  down = false;
  /** Commit `pub`s received, accepted or not. */
  commitPubs = 0;
  #next = 0;

  kill(conn: Conn): void {
    this.#drop(conn, 1006);
  }

  transport(): Transport {
    return {
      open: (_url, handlers) => {
        if (this.down) {
          setTimeout(() => handlers.onClose(1006, ''), 0);
          return { send: () => undefined, close: () => undefined };
        }
        const conn: Conn = { id: ++this.#next, handlers, rooms: new Set(), joins: new Set(), open: true, ready: false };
        this.conns.add(conn);
        setTimeout(() => conn.open && handlers.onOpen(), 0);
        return {
          send: (bytes) => {
            const copy = bytes.slice();
            setTimeout(() => conn.open && this.#onFrame(conn, copy), 0);
          },
          close: () => this.#drop(conn, 1000),
        };
      },
    };
  }

  #room(id: string): RelayRoom {
    let r = this.rooms.get(id);
    if (!r) this.rooms.set(id, (r = { epoch: 0, subs: new Set(), joins: new Map(), commits: new Set(), seq: 0 }));
    return r;
  }

  send(conn: Conn, h: RelayHeader, body?: Uint8Array): void {
    if (!conn.open || !this.filter(conn, h, body ?? new Uint8Array())) return;
    const bytes = encodeFrame(h, body);
    if (h.t === 'msg') this.log.push({ conn, bytes, h });
    setTimeout(() => conn.open && conn.handlers.onFrame(bytes), 0);
  }

  #presence(id: string, r: RelayRoom): void {
    for (const c of r.subs) this.send(c, { v: 1, t: 'presence', room: id, count: r.subs.size });
  }

  #drop(conn: Conn, code: number): void {
    if (!conn.open) return;
    conn.open = false;
    this.conns.delete(conn);
    for (const [id, r] of this.rooms) {
      for (const [j, p] of r.joins) if (p.conn === conn) r.joins.delete(j);
      if (r.subs.delete(conn)) this.#presence(id, r);
    }
    setTimeout(() => conn.handlers.onClose(code, ''), 0);
  }

  /** Kills every connection and forgets everything, like a relay process that restarted. */
  restart(): void {
    for (const c of [...this.conns]) this.#drop(c, 1006);
    this.rooms.clear();
    this.relayId = randomId();
  }

  #onFrame(conn: Conn, bytes: Uint8Array): void {
    const r = decodeClientFrame(bytes);
    if (!r.ok) throw new Error(`client sent a bad frame: ${r.message}`);
    const h: ClientHeader = r.header;
    if (!conn.ready) {
      if (h.t !== 'hello') throw new Error('frame before hello');
      conn.ready = true;
      this.send(conn, { v: 1, t: 'hello', relay: this.relayId, maxFrame: 65536, nonce: randomId() });
      return;
    }
    switch (h.t) {
      case 'hello':
        throw new Error('second hello');
      case 'ping':
        return this.send(conn, { v: 1, t: 'pong' });
      case 'sub': {
        const room = this.#room(h.room);
        room.epoch = Math.max(room.epoch, h.epoch);
        if (room.subs.has(conn)) return; // proving a new epoch: nothing to send again
        room.subs.add(conn);
        conn.rooms.add(h.room);
        for (const [id, p] of room.joins) this.send(conn, { v: 1, t: 'join', room: h.room, id }, p.body);
        return this.#presence(h.room, room);
      }
      case 'unsub': {
        const room = this.#room(h.room);
        room.subs.delete(conn);
        return this.#presence(h.room, room);
      }
      case 'pub': {
        const room = this.#room(h.room);
        if (!room.subs.has(conn)) return this.send(conn, { v: 1, t: 'nack', id: h.id, code: 'E_NOT_SUBSCRIBED' });
        if (h.kind === 'commit') {
          this.commitPubs++;
          if (room.commits.has(h.id)) return this.send(conn, { v: 1, t: 'ack', id: h.id });
          if (h.epoch < room.epoch) return this.send(conn, { v: 1, t: 'nack', id: h.id, code: 'E_STALE_EPOCH', epoch: room.epoch });
          room.epoch = h.epoch + 1;
          room.commits.add(h.id);
        }
        const seq = ++room.seq;
        for (const c of room.subs) if (c !== conn) this.send(c, { v: 1, t: 'msg', room: h.room, id: h.id, kind: h.kind, epoch: h.epoch, seq, ...(h.exp === undefined ? {} : { exp: h.exp }), ...(h.next === undefined ? {} : { next: h.next }) }, r.body);
        return this.send(conn, { v: 1, t: 'ack', id: h.id });
      }
      case 'join': {
        const room = this.#room(h.room);
        room.joins.set(h.id, { conn, body: r.body.slice() });
        for (const c of room.subs) this.send(c, { v: 1, t: 'join', room: h.room, id: h.id }, r.body);
        return this.send(conn, { v: 1, t: 'ack', id: h.id });
      }
      case 'welcome': {
        const room = this.#room(h.room);
        const p = room.joins.get(h.to);
        if (!p || !p.conn.open) return this.send(conn, { v: 1, t: 'nack', id: h.id, code: 'E_NO_SUCH_JOINER' });
        this.send(p.conn, { v: 1, t: 'welcome', room: h.room, id: h.id }, r.body);
        return this.send(conn, { v: 1, t: 'ack', id: h.id });
      }
      case 'rt': {
        const reply = this.roughtime ? this.roughtime(h.server, r.body.slice()) : Promise.resolve(undefined);
        void reply.then((b) => (b ? this.send(conn, { v: 1, t: 'rt', id: h.id }, b) : this.send(conn, { v: 1, t: 'nack', id: h.id, code: 'E_ROUGHTIME_UNREACHABLE' })));
        return;
      }
      default:
        throw new Error('unknown frame');
    }
  }
}

