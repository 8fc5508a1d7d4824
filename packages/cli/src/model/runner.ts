/**
 * Test support (not built, not shipped): runs one command sequence of the adversarial model on
 * the REAL relay with real clients, stops the adversary, and checks the invariants
 * (invariants.ts). Each sequence has a room of its own on a relay the sequences share.
 */
import { encodeFrame, parseInvite, randomId, type RelayHeader } from '@safehouse/core/protocol';
import { silentLogger, startServer, type RunningServer } from '@safehouse/server';
import { Attacker, Honest, sleep, until } from './actors.js';
import type { Command, Sequence } from './commands.js';
import { checkInvariants, converge, type SentText } from './invariants.js';
import { relabel, relayTransport, WireLog, type MsgFrame } from './wire.js';
import { startRedis, type TestRedis } from '../../../server/src/testing/redis.js';


/** Names of the members a sequence may have, in order of arrival. */
const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'ken', 'lea'];

/** Shared by every sequence: the relay, and frames of a room no sequence belongs to (for splices). */
export class Fixture {
  /** `msg` frames of a side room (app messages and a commit), to splice into the sequences' rooms. */
  foreign: MsgFrame[] = [];
  /** Texts sent in the side room: never to be shown in a sequence's room. */
  readonly foreignTexts: string[] = [];
  private constructor(
    /** The relays: one, or the two of a cluster sharing one Redis (each connection goes to the next). */
    readonly servers: RunningServer[],
    private readonly redis: TestRedis | undefined,
  ) {}

  /** How many times a cluster relay lost its bus (Redis) in this process. */
  static busLosses = 0;

  get server(): RunningServer {
    return this.servers[0] as RunningServer;
  }

  /** `cluster`: two relays sharing one real Redis; members' connections alternate between them, reconnects included. */
  static async start(options: { cluster?: boolean } = {}): Promise<Fixture> {
    // A short re-proof grace, so that a removed member stops receiving soon; no per-address cap
    // (many in-process connections at once); no room policy is ever set (see wire.ts).
    const limits = { reproveGraceMs: 400, maxConnectionsPerIp: 0 };
    const redis = options.cluster ? await startRedis() : undefined;
    const basePath = `/${randomId()}`;
    // A cluster's relays say when they lost their bus (every client is then disconnected): counted, and reported by `busLosses`.
    const logger = { ...silentLogger, warn: (event: string) => void (event === 'bus-lost' && (Fixture.busLosses += 1)) };
    const start = () => startServer({ port: 0, basePath, logger, limits, ...(redis ? { cluster: { url: redis.url, heartbeatMs: 200 } } : {}) });
    const servers = redis ? [await start(), await start()] : [await start()];
    const f = new Fixture(servers, redis);
    await f.#sideRoom();
    return f;
  }

  async #sideRoom(): Promise<void> {
    const log = new WireLog();
    const inner = relayTransport(this.servers);
    const zed = new Honest('zed', this.server.url, log, inner);
    await zed.client.start();
    await until(() => zed.of('invite').length > 0, 5_000);
    const link = zed.of('invite')[0]!.link;
    const yan = new Honest('yan', link, log, inner);
    await yan.client.start();
    await until(() => yan.joined, 5_000);
    const xia = new Honest('xia', link, log, inner);
    await xia.client.start();
    await until(() => xia.joined && yan.sawJoin('xia') !== undefined, 5_000);
    for (const [i, m] of [zed, xia, zed].entries()) {
      const text = `foreign-${i}-${randomId()}`;
      this.foreignTexts.push(text);
      await m.client.command(text);
    }
    await until(() => yan.of('message').length >= 3, 5_000);
    this.foreign = yan.line.history.slice();
    await Promise.all([zed, yan, xia].map((m) => m.client.quit({ timeoutMs: 100 })));
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
    await this.redis?.stop();
  }
}

export type Outcome = { violations: string[]; stats: Record<string, number> };

/** One sequence: its room, its actors, what was sent, and when removals landed. */
export class Run {
  readonly log = new WireLog();
  readonly members: Honest[] = [];
  readonly sent: SentText[] = [];
  /** Direct messages sent (`dm`): shown by their sender and recipient only. */
  readonly dms: Array<SentText & { to: string }> = [];
  /** Removals reported as landed (`remove(...).landed` true), by name: when. */
  readonly kicked = new Map<string, number>();
  /** Members that asked to leave, by name. */
  readonly leavers = new Set<string>();
  readonly notes: string[] = [];
  #attacker: Attacker | undefined;
  link = '';
  room = '';
  #texts = 0;
  readonly #tag = randomId().slice(0, 8);
  readonly #inner;

  constructor(readonly fixture: Fixture) {
    this.#inner = relayTransport(fixture.servers);
  }

  get alice(): Honest {
    return this.members[0]!;
  }

  /** Members that joined and have not left, been removed or turned ghost. */
  online(): Honest[] {
    return this.members.filter((m) => m.joined && !m.gone && !m.ghost && !this.kicked.has(m.name) && !this.leavers.has(m.name));
  }

  async setup(size: number): Promise<void> {
    const alice = this.#member(NAMES[0]!, this.fixture.server.url);
    await alice.client.start();
    if (!(await until(() => alice.of('invite').length > 0, 5_000))) throw new Error('setup: no invite');
    this.link = alice.of('invite')[0]!.link;
    const parsed = parseInvite(this.link);
    if (!parsed.ok || !parsed.invite.room) throw new Error('setup: a room link');
    this.room = parsed.invite.room.id;
    for (let i = 1; i < size; i++) {
      const m = await this.join(30_000);
      if (!m.joined) {
        const why = m.events.filter((e) => e.type === 'fatal' || e.type === 'error' || e.type === 'left').map((e) => JSON.stringify(e).slice(0, 200));
        throw new Error(`setup: ${m.name} did not join${why.length > 0 ? ` (${why.join('; ')})` : ''}`);
      }
      if (!(await until(() => this.online().every((o) => o === m || o.sawJoin(m.name) !== undefined), 5_000))) throw new Error('setup: not seen');
    }
  }

  #member(name: string, link: string): Honest {
    const m = new Honest(name, link, this.log, this.#inner);
    this.members.push(m);
    return m;
  }

  async join(waitMs = 3_000): Promise<Honest> {
    const m = this.#member(NAMES[this.members.length] ?? `m${this.members.length}`, this.link);
    await m.client.start();
    await until(() => m.joined || m.gone, waitMs);
    return m;
  }

  #pick<T>(list: T[], i: number): T | undefined {
    return list.length === 0 ? undefined : list[i % list.length];
  }

  /** A member's text: unique, tagged with the sequence, logged once echoed (sent). */
  async say(m: Honest, kind = 'text'): Promise<string> {
    const text = `${kind}-${this.#tag}-${++this.#texts}-${randomId().slice(0, 10)}`;
    const entry: SentText = { text, from: m.name, fingerprint: m.fingerprint ?? '', echoAt: undefined };
    this.sent.push(entry);
    await m.client.command(text);
    entry.echoAt = m.events.find((e) => e.type === 'message' && e.self === true && e.text === text)?.at;
    return text;
  }

  async #kick(target: Honest): Promise<void> {
    const picked = this.alice.client.remove((x) => x.name === target.name);
    if (picked.length === 0) return;
    const landed = await Promise.race(picked.map((p) => p.landed).concat(sleep(4_000).then(() => false)));
    if (landed) this.kicked.set(target.name, Date.now());
  }

  async attacker(): Promise<Attacker> {
    if (!this.#attacker) {
      this.#attacker = new Attacker(this.log, this.#inner, this.link);
      await this.#attacker.connect();
    }
    return this.#attacker;
  }

  async exec(cmd: Command): Promise<void> {
    const all = this.members.filter((m) => !m.gone);
    const online = this.online();
    const removable = online.filter((m) => m !== this.alice);
    switch (cmd.c) {
      case 'say': {
        // Ghosts speak too: they are the removed members that keep their state.
        const m = this.#pick(this.members.filter((x) => x.joined && !x.gone && !this.leavers.has(x.name)), cmd.who);
        if (m) await this.say(m);
        return;
      }
      case 'dm': {
        const m = this.#pick(online, cmd.who);
        const to = m && this.#pick(online.filter((x) => x !== m), cmd.to);
        if (!m || !to) return;
        const text = `dm-${this.#tag}-${++this.#texts}-${randomId().slice(0, 10)}`;
        this.dms.push({ text, from: m.name, to: to.name, fingerprint: m.fingerprint ?? '', echoAt: undefined });
        await m.client.command(`/msg ${to.name} ${text}`);
        return;
      }
      case 'join':
        if (this.members.length < 6) await this.join();
        return;
      case 'leave': {
        const m = this.#pick(removable, cmd.who);
        if (!m) return;
        this.leavers.add(m.name);
        await m.client.command('/leave');
        return;
      }
      case 'kick': {
        const m = this.#pick(removable, cmd.who);
        if (m && this.online().includes(this.alice)) await this.#kick(m);
        return;
      }
      case 'ghost': {
        // A removed member that keeps its old state: its relay never gives it the commit that
        // removes it, and it keeps writing.
        const m = this.#pick(removable, cmd.who);
        if (!m || !this.online().includes(this.alice)) return;
        m.line.blindCommits = true;
        m.ghost = true;
        await this.#kick(m);
        if (this.kicked.has(m.name)) await this.say(m, 'ghost');
        return;
      }
      case 'reconnect':
        this.#pick(all, cmd.who)?.line.kill();
        return;
      case 'drop':
      case 'dup':
        this.#pick(all, cmd.who)?.line.arm({ kind: cmd.c, n: cmd.n });
        return;
      case 'delay':
        this.#pick(all, cmd.who)?.line.arm({ kind: 'delay', n: cmd.n, ms: cmd.ms });
        return;
      case 'reorder':
        this.#pick(all, cmd.who)?.line.arm({ kind: 'reorder', n: cmd.n, held: [] });
        return;
      case 'tamper':
        this.#pick(all, cmd.who)?.line.arm({ kind: 'tamper', n: 1, at: cmd.at });
        return;
      case 'replay': {
        const m = this.#pick(all, cmd.who);
        const f = m && this.#pick(m.line.history, cmd.k);
        if (m && f) m.line.inject(relabel(f, {}));
        return;
      }
      case 'spliceEpoch': {
        // An old frame, claimed for the room's newest epoch, under a fresh id.
        const m = this.#pick(all, cmd.who);
        const f = m && this.#pick(m.line.history, cmd.k);
        const newest = m?.line.history.at(-1)?.header.epoch ?? 0;
        if (m && f) m.line.inject(relabel(f, { epoch: Math.max(newest, f.header.epoch + 1), id: randomId() }));
        return;
      }
      case 'spliceRoom': {
        const m = this.#pick(all, cmd.who);
        const f = this.#pick(this.fixture.foreign, cmd.k);
        if (m && f) m.line.inject(relabel(f, { room: this.room }));
        return;
      }
      case 'presence': {
        const m = this.#pick(all, cmd.who);
        m?.line.inject(frame({ v: 1, t: 'presence', room: this.room, count: cmd.count }));
        return;
      }
      case 'refusal': {
        // A link holder in a cohort of its own answers every join request with "banned", and
        // the relay forges the same refusal to every joiner still waiting.
        const a = await this.attacker();
        a.refuseJoins = true;
        a.claim(this.room, 0);
        for (const m of this.members.filter((x) => !x.joined && !x.gone)) m.line.inject(refusalFrame(this.room));
        return;
      }
      case 'garbageMsg': {
        const m = this.#pick(all, cmd.who);
        m?.line.inject(frame({ v: 1, t: 'msg', room: this.room, id: randomId(), kind: 'commit', epoch: cmd.epoch, seq: 1 }, garbage()));
        return;
      }
      case 'claim': {
        const a = await this.attacker();
        a.claim(this.room, cmd.epoch);
        return;
      }
      case 'garbageCommit': {
        const a = await this.attacker();
        a.claim(this.room, cmd.epoch);
        a.send({ v: 1, t: 'pub', room: this.room, id: randomId(), kind: 'commit', epoch: cmd.epoch }, garbage());
        return;
      }
    }
  }

  /** The adversary stops: every line passes frames again, the attacker goes. */
  stopAdversary(): void {
    for (const m of this.members) m.line.stop();
    this.#attacker?.close();
  }

  async end(): Promise<void> {
    this.#attacker?.close();
    await Promise.all(this.members.map((m) => m.client.quit({ timeoutMs: 50 })));
  }
}

function frame(h: RelayHeader, body?: Uint8Array): Uint8Array {
  return encodeFrame(h, body);
}

function refusalFrame(room: string): Uint8Array {
  return encodeFrame({ v: 1, t: 'welcome', room, id: randomId() }, new Uint8Array([2, ...new TextEncoder().encode('E_BANNED')]));
}

function garbage(): Uint8Array {
  const b = new Uint8Array(96);
  for (let i = 0; i < b.length; i++) b[i] = (i * 37 + 11) & 0xff;
  return b;
}

/** Runs `seq` start to end and returns what the invariants found. Never throws for a violation. */
export async function runSequence(fixture: Fixture, seq: Sequence, options: { trace?: boolean } = {}): Promise<Outcome> {
  const started = Date.now();
  const run = new Run(fixture);
  try {
    try {
      await run.setup(seq.size);
    } catch (e) {
      // No adversary acts during the set-up: a room that cannot even be formed is a failure too.
      if (options.trace) for (const m of run.members) for (const e of m.events) console.log(`${e.at - started} ${m.name} ${JSON.stringify(e)}`);
      return { violations: [`setup: ${e instanceof Error ? e.message : String(e)}`], stats: { ms: Date.now() - started } };
    }
    for (const cmd of seq.cmds) {
      await run.exec(cmd);
      await sleep(10);
    }
    run.stopAdversary();
    const conv = await converge(run);
    const violations = [...conv.violations, ...checkInvariants(run)];
    if (options.trace && violations.length > 0)
      for (const m of run.members)
        for (const e of m.events) if (e.type !== 'users' && e.type !== 'room-code') console.log(`${e.at - started} ${m.name} ${JSON.stringify(e)}`);
    return {
      violations,
      stats: {
        members: run.members.length,
        joined: run.members.filter((m) => m.joined).length,
        online: run.online().length,
        texts: run.sent.length,
        shown: run.members.reduce((n, m) => n + m.of('message').filter((e) => e.self !== true).length, 0),
        kicks: run.kicked.size,
        ghosts: run.members.filter((m) => m.ghost).length,
        leaves: run.leavers.size,
        errors: run.members.reduce((n, m) => n + m.of('error').length, 0),
        converged: conv.violations.length === 0 ? 1 : 0,
        ms: Date.now() - started,
      },
    };
  } finally {
    await run.end();
  }
}
