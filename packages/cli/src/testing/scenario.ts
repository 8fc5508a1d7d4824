/**
 * Test support (not built, not shipped): scenario tests of the client on the REAL relay.
 *
 * A `Scenario` is a relay from @safehouse/server on a free loopback port (real sockets, the real
 * membership authority), clients with the real e2ee and the `ws` transport, and between them the
 * `Wire` (wire.ts), where a test plays a malicious relay or a bad network. `restart()` closes the
 * relay and starts a new one on the same port and base path, as an operator restarting it would.
 * Every wait has a deadline, so a failing test fails rather than hangs.
 *
 * To see why one failed: DEBUG_EVENTS=FILE appends every client event to FILE, DEBUG_FRAMES=FILE
 * every frame header each way (ids and numbers only). Test runs only: they hold message text.
 */
import { appendFileSync } from 'node:fs';
import { createClient, type ClientEvent, type ClientOptions, type SafehouseClient } from '@safehouse/core/client';
import { createE2ee, PinStore } from '@safehouse/core/e2ee';
import { silentLogger, startServer, type RunningServer, type ServerOptions, type Upstream } from '@safehouse/server';
import { createWsTransport } from '../transport/ws.js';
import { until } from './members.js';
import { Wire, type Line } from './wire.js';

export { until } from './members.js';
export { Line, Wire, type Verdict } from './wire.js';

export type Ev<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }>;

/**
 * Short delays so scenarios run in a second or two; the logic is the same as with the defaults.
 * The join timeout is long: only a failing join waits for it, and these machines are slow.
 */
export const FAST: Partial<ClientOptions> = {
  timing: { rankDelayMs: 150, joinTimeoutMs: 15_000, leaveTimeoutMs: 1_000, refusalGraceMs: 300 },
  connection: { backoffBaseMs: 10, backoffCapMs: 50 },
};

export type RelayOptions = ServerOptions & { roughtimeUpstreams?: readonly Upstream[] };

let labels = 0;

export class Peer {
  readonly events: ClientEvent[] = [];
  readonly client: SafehouseClient;
  readonly pins = new PinStore();
  /** Unique per peer: the wire knows the peer's connections by it. */
  readonly label: string;
  constructor(
    private readonly wire: Wire,
    name: string,
    link: string,
    extra: Partial<ClientOptions> = {},
  ) {
    this.label = `${name}#${++labels}`;
    this.client = createClient({
      transport: wire.transport(this.label, createWsTransport()),
      name,
      link,
      pins: this.pins,
      e2ee: createE2ee({ pins: this.pins }),
      ...FAST,
      ...extra,
    });
    this.client.on((e) => this.events.push(e));
    const debug = process.env.DEBUG_EVENTS;
    if (debug) this.client.on((e) => appendFileSync(debug, `${Date.now() % 100_000} ${this.label} ${JSON.stringify(e)}\n`));
  }
  /** The peer's newest connection. */
  get line(): Line | undefined {
    return this.wire.lineOf(this.label);
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

/** A real relay, the wire in front of it and the peers on it; `close()` quits them and stops the relay. */
export class Scenario {
  readonly wire = new Wire();
  readonly peers: Peer[] = [];
  #server: RunningServer;
  readonly #options: RelayOptions;

  private constructor(server: RunningServer, options: RelayOptions) {
    this.#server = server;
    this.#options = options;
    const debug = process.env.DEBUG_FRAMES;
    if (debug) this.wire.trace = (line, dir, h) => appendFileSync(debug, `${Date.now() % 100_000} ${line.owner} ${dir} ${JSON.stringify(h)}\n`);
  }

  static async start(options: RelayOptions = {}): Promise<Scenario> {
    return new Scenario(await startServer({ port: 0, logger: silentLogger, ...options }), options);
  }

  get server(): RunningServer {
    return this.#server;
  }

  /** The relay's link without a room: a client given it creates one. */
  get url(): string {
    return this.#server.url;
  }

  peer(name: string, link: string, extra: Partial<ClientOptions> = {}): Peer {
    const p = new Peer(this.wire, name, link, extra);
    this.peers.push(p);
    return p;
  }

  /** A client on a link without a room: it creates one and emits its invite. */
  async founder(name = 'alice', extra: Partial<ClientOptions> = {}): Promise<{ peer: Peer; link: string }> {
    const peer = this.peer(name, this.url, extra);
    await peer.client.start();
    await until(() => peer.of('invite').length === 1, 'the invite');
    return { peer, link: peer.of('invite')[0]!.link };
  }

  async joiner(name: string, link: string, extra: Partial<ClientOptions> = {}): Promise<Peer> {
    const peer = this.peer(name, link, extra);
    await peer.client.start();
    return peer;
  }

  /**
   * Until the relay has told each of `peers`, on its current connection, that all of them are
   * subscribed to `room` (the founder's current room by default): each proved the room's epoch.
   */
  async subscribed(peers: Peer[], what: string, room = peers[0]?.client.currentRoom()): Promise<void> {
    if (room === undefined) throw new Error(`no room to wait on for ${what}`);
    await until(() => peers.every((p) => p.line?.open === true && p.line.presence.get(room) === peers.length), what);
  }

  /** A room with these members, joined one after the other; each subscribed before the next. */
  async room(names: string[], extra: Partial<ClientOptions> = {}): Promise<Peer[]> {
    const { peer } = await this.founder(names[0], extra);
    const link = peer.of('invite')[0]!.link;
    const all = [peer];
    for (const name of names.slice(1)) {
      const p = await this.joiner(name, link, extra);
      all.push(p);
      await until(() => p.of('joined').length === 1, `${name} joined`);
      await until(() => all.every((o) => o === p || o.of('member-joined').some((e) => e.name === name)), `all see ${name}`);
      await this.subscribed(all, `${name} subscribed`);
    }
    return all;
  }

  /** The relay process stops (clients are told `closing`) and a new one starts on the same port and base path. */
  async restart(): Promise<void> {
    const { port, basePath } = this.#server;
    await this.#server.close();
    this.#server = await startServer({ logger: silentLogger, ...this.#options, port, basePath });
  }

  /** Quits every peer (the relay keeps running). */
  async end(): Promise<void> {
    await Promise.all(this.peers.splice(0).map((p) => p.client.quit({ timeoutMs: 200 })));
  }

  async close(): Promise<void> {
    await this.end();
    await this.#server.close();
  }
}
