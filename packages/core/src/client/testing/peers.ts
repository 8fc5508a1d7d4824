/**
 * Test support (not exported from the package): clients with the real e2ee on a `FakeRelay`,
 * and the waits scenario tests need. Every wait has a deadline, so a failing test fails rather
 * than hangs.
 */
import { createE2ee, PinStore } from '../../e2ee/index.js';
import { createClient, type ClientOptions, type SafehouseClient } from '../client.js';
import type { ClientEvent } from '../events.js';
import { FakeRelay } from './fake-relay.js';

export type Ev<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }>;

export const BASE = 'http://127.0.0.1:8090/secretbase/';

/** Short delays so scenarios run in milliseconds; the logic is the same as with the defaults. */
export const FAST: Partial<ClientOptions> = {
  timing: { rankDelayMs: 150, joinTimeoutMs: 5_000, leaveTimeoutMs: 1_000, refusalGraceMs: 300 },
  connection: { backoffBaseMs: 10, backoffCapMs: 50 },
};

export class Peer {
  readonly events: ClientEvent[] = [];
  readonly client: SafehouseClient;
  readonly pins = new PinStore();
  constructor(relay: FakeRelay, name: string, link: string, extra: Partial<ClientOptions> = {}) {
    this.client = createClient({ transport: relay.transport(), name, link, pins: this.pins, e2ee: createE2ee({ pins: this.pins }), ...FAST, ...extra });
    this.client.on((e) => this.events.push(e));
  }
  of<T extends ClientEvent['type']>(type: T): Ev<T>[] {
    return this.events.filter((e): e is Ev<T> => e.type === type);
  }
  /** Texts received from others, in order. */
  texts(): string[] {
    return this.of('message')
      .filter((m) => !m.self)
      .map((m) => m.text);
  }
  last<T extends ClientEvent['type']>(type: T): Ev<T> | undefined {
    return this.of(type).at(-1);
  }
}

export async function until(check: () => boolean, what: string, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((r) => setTimeout(() => r(), 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(() => r(), ms));

/** A relay and the peers on it; `end()` quits them all. */
export class Scenario {
  readonly relay = new FakeRelay();
  readonly peers: Peer[] = [];

  peer(name: string, link: string, extra: Partial<ClientOptions> = {}): Peer {
    const p = new Peer(this.relay, name, link, extra);
    this.peers.push(p);
    return p;
  }

  /** A client on a link without a room: it creates one and emits its invite. */
  async founder(name = 'alice', extra: Partial<ClientOptions> = {}): Promise<{ peer: Peer; link: string }> {
    const peer = this.peer(name, BASE, extra);
    await peer.client.start();
    await until(() => peer.of('invite').length === 1, 'the invite');
    return { peer, link: peer.of('invite')[0]!.link };
  }

  async joiner(name: string, link: string, extra: Partial<ClientOptions> = {}): Promise<Peer> {
    const peer = this.peer(name, link, extra);
    await peer.client.start();
    return peer;
  }

  /** A room with these members, joined one after the other; each subscribed before the next. */
  async room(names: string[], extra: Partial<ClientOptions> = {}): Promise<Peer[]> {
    const { peer, link } = await this.founder(names[0], extra);
    const all = [peer];
    for (const name of names.slice(1)) {
      const p = await this.joiner(name, link, extra);
      all.push(p);
      await until(() => p.of('joined').length === 1, `${name} joined`);
      await until(() => all.every((o) => o === p || o.of('member-joined').some((e) => e.name === name)), `all see ${name}`);
      await until(() => this.relay.rooms.get(p.client.currentRoom()!)?.subs.size === all.length, `${name} subscribed`);
    }
    return all;
  }

  async end(): Promise<void> {
    await Promise.all(this.peers.splice(0).map((p) => p.client.quit({ timeoutMs: 200 })));
  }
}
