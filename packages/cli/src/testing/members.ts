/**
 * Test support (not built, not shipped): real clients (the real e2ee, the `ws` transport) on the
 * real relay, and a transport that lets a test stand between one client and the relay, as a
 * malicious relay or network would, seeing and changing that client's frames only. Every wait
 * has a deadline, so a failing test fails instead of hanging.
 */
import { appendFileSync } from 'node:fs';
import { createClient, type ClientEvent, type ClientOptions, type SafehouseClient } from '@safehouse/core/client';
import { decodeClientFrame, decodeRelayFrame, parseInvite, randomId, type ClientHeader, type RelayHeader } from '@safehouse/core/protocol';
import type { Transport } from '@safehouse/core/client';
import { silentLogger, startServer, type RunningServer, type ServerOptions } from '@safehouse/server';
import { createWsTransport } from '../transport/ws.js';

export type Ev<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }>;

/** What a hook decides for one frame: pass it, drop it, or pass these bytes instead (or as well). */
export type Verdict = 'pass' | 'drop' | { replace: Uint8Array[] };

export type Interceptor = {
  /** Relay → client. */
  inbound?: (header: RelayHeader, bytes: Uint8Array, inject: (bytes: Uint8Array) => void) => Verdict;
  /** Client → relay. */
  outbound?: (header: ClientHeader, bytes: Uint8Array, inject: (bytes: Uint8Array) => void) => Verdict;
};

/** `inner`, with `hooks` between the client and the relay (frames that do not decode pass as they are). */
export function interceptTransport(inner: Transport, hooks: Interceptor): Transport {
  return {
    ...(inner.seesHttpStatus === true ? { seesHttpStatus: true } : {}),
    open(url, handlers, options) {
      const toClient = (bytes: Uint8Array): void => handlers.onFrame(bytes);
      const apply = (v: Verdict, bytes: Uint8Array, deliver: (b: Uint8Array) => void): void => {
        if (v === 'pass') deliver(bytes);
        else if (v !== 'drop') for (const b of v.replace) deliver(b);
      };
      const conn = inner.open(url, {
        onOpen: () => handlers.onOpen(),
        onClose: (code, reason, info) => handlers.onClose(code, reason, info),
        onFrame: (bytes) => {
          const d = decodeRelayFrame(bytes);
          if (!d.ok || !hooks.inbound) return toClient(bytes);
          apply(hooks.inbound(d.header, bytes, toClient), bytes, toClient);
        },
      }, options);
      const toRelay = (bytes: Uint8Array): void => conn.send(bytes);
      return {
        send: (bytes) => {
          const d = decodeClientFrame(bytes);
          if (!d.ok || !hooks.outbound) return toRelay(bytes);
          apply(hooks.outbound(d.header, bytes, toClient), bytes, toRelay);
        },
        close: (code, reason) => conn.close(code, reason),
      };
    },
  };
}

type Answer = Extract<RelayHeader, { t: 'ack' } | { t: 'nack' }>;
type Pub = Extract<ClientHeader, { t: 'pub' }>;

/** The `pub`s a member's connection carried, and the relay's answers, seen on the wire side of any interceptor. */
class Wire {
  readonly answers: Answer[] = [];
  readonly pubs: Pub[] = [];

  wrap(inner: Transport): Transport {
    return {
      ...(inner.seesHttpStatus === true ? { seesHttpStatus: true } : {}),
      open: (url, handlers, options) => {
        const conn = inner.open(url, {
          onOpen: () => handlers.onOpen(),
          onClose: (code, reason, info) => handlers.onClose(code, reason, info),
          onFrame: (bytes) => {
            const d = decodeRelayFrame(bytes);
            if (d.ok && (d.header.t === 'ack' || d.header.t === 'nack')) this.answers.push(d.header);
            handlers.onFrame(bytes);
          },
        }, options);
        return {
          send: (bytes) => {
            const d = decodeClientFrame(bytes);
            if (d.ok && d.header.t === 'pub') this.pubs.push(d.header);
            conn.send(bytes);
          },
          close: (code, reason) => conn.close(code, reason),
        };
      },
    };
  }
}

export class Member {
  readonly events: ClientEvent[] = [];
  readonly client: SafehouseClient;
  readonly wire: Wire;
  constructor(
    readonly name: string,
    link: string,
    options: { interceptor?: Interceptor } & Partial<ClientOptions> = {},
  ) {
    const { interceptor, transport, ...extra } = options;
    this.wire = new Wire();
    const wired = this.wire.wrap(transport ?? createWsTransport());
    this.client = createClient({
      transport: interceptor ? interceptTransport(wired, interceptor) : wired,
      name,
      link,
      // Faster than the protocol's defaults so the test runs in seconds; same logic.
      timing: { rankDelayMs: 300, joinTimeoutMs: 20_000, refusalGraceMs: 1_000, ...extra.timing },
      connection: { backoffBaseMs: 100, backoffCapMs: 500, ...extra.connection },
      ...extra,
    });
    this.client.on((e) => this.events.push(e));
    if (process.env.DEBUG_EVENTS) this.client.on((e) => appendFileSync(process.env.DEBUG_EVENTS!, `${Date.now() % 100000} ${name} ${JSON.stringify(e)}\n`));
  }
  of<T extends ClientEvent['type']>(type: T): Ev<T>[] {
    return this.events.filter((e): e is Ev<T> => e.type === type);
  }
  /** Texts received from others (not our own echoes), in order. */
  received(): Ev<'message'>[] {
    return this.of('message').filter((m) => !m.self);
  }
  texts(): string[] {
    return this.received().map((m) => m.text);
  }
  /**
   * Says `text` and resolves once the relay has answered the message (`ack`: fanned out to the
   * room; `nack`: refused), with that answer: from then on, a marker sent by anyone reaches every
   * member after whatever the relay sent them of `text`.
   */
  async sayAndWait(text: string, ms = 10_000): Promise<'ack' | 'nack'> {
    const from = this.wire.pubs.length;
    await this.client.command(text);
    let id: string | undefined;
    await until(() => (id = this.wire.pubs.slice(from).find((h) => h.kind === 'app')?.id) !== undefined, `${this.name}'s message on the wire`, ms);
    let answer: Answer | undefined;
    await until(() => (answer = this.wire.answers.find((h) => h.id === id)) !== undefined, `the relay's answer to ${this.name}'s message`, ms);
    return answer!.t;
  }
}

/** A transport a test can take offline (the connection drops; reconnects fail) and back. */
export function switchable(): { transport: Transport; offline(): void; online(): void } {
  const inner = createWsTransport();
  let down = false;
  const live = new Set<{ close(code?: number, reason?: string): void }>();
  return {
    transport: {
      open(url, handlers, options) {
        if (down) {
          setTimeout(() => handlers.onClose(1006, ''), 0);
          return { send: () => undefined, close: () => undefined };
        }
        const conn = inner.open(url, { ...handlers, onClose: (code, reason) => (live.delete(conn), handlers.onClose(code, reason)) }, options);
        live.add(conn);
        return conn;
      },
    },
    offline() {
      down = true;
      for (const c of live) c.close(4000, 'offline');
    },
    online() {
      down = false;
    },
  };
}

export async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The room id a room link names. */
export function roomOf(link: string): string {
  const parsed = parseInvite(link);
  if (!parsed.ok || !parsed.invite.room) throw new Error('a room link');
  return parsed.invite.room.id;
}

/** Absence after a marker: `marker` from `from` reached `witness`, so anything sent before it had its chance. */
export async function marker(from: Member, witness: Member, text = `marker ${randomId()}`): Promise<void> {
  await from.client.command(text);
  await until(() => witness.texts().includes(text), `the marker at ${witness.name}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Servers and members a test made; `end()` quits and closes them all. */
export class World {
  readonly servers: RunningServer[] = [];
  readonly members: Member[] = [];

  async server(options: ServerOptions & Pick<NonNullable<Parameters<typeof startServer>[0]>, 'cluster'> = {}): Promise<RunningServer> {
    const s = await startServer({ port: 0, logger: silentLogger, ...options });
    this.servers.push(s);
    return s;
  }

  async member(name: string, link: string, options: ConstructorParameters<typeof Member>[2] = {}): Promise<Member> {
    const m = new Member(name, link, options);
    this.members.push(m);
    await m.client.start();
    return m;
  }

  /**
   * A room with these members on `server`, joined one after the other; each admitted and seen by
   * all before the next (one commit at a time). `options[name]` configures one member.
   */
  async room(server: RunningServer, names: string[], options: Record<string, ConstructorParameters<typeof Member>[2]> = {}): Promise<{ link: string; all: Member[] }> {
    const first = await this.member(names[0]!, server.url, options[names[0]!]);
    await until(() => first.of('invite').length === 1, 'an invite link');
    const link = first.of('invite')[0]!.link;
    const all = [first];
    for (const name of names.slice(1)) {
      const m = await this.member(name, link, options[name]);
      all.push(m);
      await until(() => m.of('joined').length === 1, `${name} to join`);
      await until(() => all.every((o) => o === m || o.of('member-joined').some((e) => e.name === name)), `the others to see ${name}`);
    }
    return { link, all };
  }

  async end(): Promise<void> {
    await Promise.all(this.members.splice(0).map((m) => m.client.quit({ timeoutMs: 500 })));
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
  }
}
