/**
 * Test support (not built, not shipped): the actors of the adversarial model.
 *
 * - `Honest`: a real client (real e2ee, real relay) behind its own `AdversaryLine`; every event
 *   it emits is kept with the wall-clock time it was emitted at.
 * - `Attacker`: a link holder speaking the protocol with keys of its own (false epoch claims,
 *   garbage commits, forged refusals); everything it receives is logged for the plaintext scan.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { createClient, type ClientEvent, type ClientOptions, type SafehouseClient, type Transport, type TransportConnection } from '@safehouse/core/client';
import { decodeRelayFrame, encodeFrame, randomId, subStatement, toBase64Url, type ClientHeader, type RelayHeader } from '@safehouse/core/protocol';
import { AdversaryLine, type WireLog } from './wire.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds (true) or `ms` passed (false). */
export async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(15);
  }
  return true;
}

export type Ev<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }> & { at: number };
export type Stamped = ClientEvent & { at: number };

/** Client timings: short, so that a sequence takes about a second; the logic is the protocol's. */
export const MODEL_TIMING = {
  rankDelayMs: 120,
  batchWindowMs: 20,
  refusalGraceMs: 300,
  joinTimeoutMs: 6_000,
  leaveTimeoutMs: 800,
  staleBackoffMs: 60,
  staleBackoffCapMs: 400,
  inFlightGraceMs: 150,
  joinerSubscribeMs: 500,
} as const;
export const MODEL_CONNECTION = { backoffBaseMs: 10, backoffCapMs: 80 } as const;

export class Honest {
  readonly events: Stamped[] = [];
  readonly client: SafehouseClient;
  readonly line: AdversaryLine;
  /** Set once the model made it a removed member that keeps its state. */
  ghost = false;
  constructor(
    readonly name: string,
    link: string,
    log: WireLog,
    inner: Transport,
    extra: Partial<ClientOptions> = {},
  ) {
    this.line = new AdversaryLine(log, inner);
    this.client = createClient({
      transport: this.line.transport(),
      name,
      link,
      timing: MODEL_TIMING,
      connection: MODEL_CONNECTION,
      ...extra,
    });
    this.client.on((e) => this.events.push({ ...e, at: Date.now() }));
  }
  of<T extends ClientEvent['type']>(type: T): Ev<T>[] {
    return this.events.filter((e): e is Ev<T> => e.type === type);
  }
  get fingerprint(): string | undefined {
    return this.of('fingerprint')[0]?.fingerprint;
  }
  get joined(): boolean {
    return this.of('joined').length > 0;
  }
  get gone(): boolean {
    return this.of('left').length > 0 || this.of('fatal').length > 0;
  }
  /** When this member's client applied the removal of `name` (its `member-left`), if it did. */
  sawLeave(name: string): number | undefined {
    return this.of('member-left').find((e) => e.name === name)?.at;
  }
  sawJoin(name: string): number | undefined {
    return this.of('member-joined').find((e) => e.name === name)?.at;
  }
}

/** A protocol client with its own keys: it is a member of no epoch, whatever it claims. */
export class Attacker {
  readonly frames: RelayHeader[] = [];
  nonce = '';
  /** Answer every join request it sees with a refusal (a forged `E_BANNED`). */
  refuseJoins = false;
  #conn: TransportConnection | undefined;
  #closed = false;

  constructor(
    private readonly log: WireLog,
    private readonly transport: Transport,
    private readonly url: string,
  ) {}

  async connect(): Promise<void> {
    let opened!: () => void;
    const ready = new Promise<void>((r) => (opened = r));
    this.#conn = this.transport.open(this.url, {
      onOpen: () => {
        this.send({ v: 1, t: 'hello', session: randomId() });
      },
      onClose: () => {
        this.#closed = true;
        opened();
      },
      onFrame: (bytes) => {
        this.log.add(bytes);
        const d = decodeRelayFrame(bytes);
        if (!d.ok) return;
        this.frames.push(d.header);
        if (d.header.t === 'hello') {
          this.nonce = d.header.nonce;
          opened();
        }
        if (d.header.t === 'join' && this.refuseJoins)
          this.send({ v: 1, t: 'welcome', room: d.header.room, id: randomId(), to: d.header.id }, new Uint8Array([2, ...new TextEncoder().encode('E_BANNED')]));
      },
    });
    await Promise.race([ready, new Promise((r) => setTimeout(r, 2_000))]);
  }

  send(h: ClientHeader, body?: Uint8Array): void {
    if (this.#closed || !this.#conn) return;
    const bytes = encodeFrame(h, body);
    this.log.add(bytes);
    this.#conn.send(bytes);
  }

  /** `sub` claiming `epoch` of `room` under a key pair of its own. */
  claim(room: string, epoch: number): void {
    const pair = generateKeyPairSync('ed25519');
    const key = toBase64Url(pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const sig = toBase64Url(sign(null, subStatement(this.nonce, room, epoch), pair.privateKey));
    this.send({ v: 1, t: 'sub', room, epoch, key, sig });
  }

  close(): void {
    this.#closed = true;
    this.#conn?.close(1000, '');
  }
}
