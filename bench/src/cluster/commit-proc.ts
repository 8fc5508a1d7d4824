/**
 * Child process: commit racers. RFC 9420 §14 leaves one duty to the delivery service: per room,
 * the first commit for the current epoch wins. Here members of one room, spread over a cluster's
 * relays (or all on one relay alone), race: each sends a commit for the epoch it knows, waits for
 * its answer — `ack` (it won: the next epoch is open) or `nack E_STALE_EPOCH` with the room's
 * epoch (another won) — and at once commits for the epoch it now knows. So the room moves as fast
 * as it can order commits, one in flight per racer, as real members that each wait for their
 * answer would push it. One silent member per relay (an observer) records every commit fanned out.
 *
 * After the race it checks what ordering must give: exactly one winner per epoch (acks =
 * epochs), and every observer saw epochs 0, 1, ... each once, in order, each the commit whose
 * sender was acked for that epoch.
 *
 * Commits are signed as members sign them (docs/protocol.md "Membership authority": a commit for
 * epoch e is signed by e's relay key over `commitStatement`, and names e + 1's key), with the
 * minimal signing code of packages/server/src/testing/harness.ts (`epochKey`, `subHeader`,
 * `commitHeader`) copied here: one Ed25519 pair per epoch, shared by the racers as an epoch's
 * members share one. The pairs do not depend on the room, so they are made once, before `ready`;
 * the signature of epoch e + 1 is made while e's commits are in flight, once for all racers (they
 * send the same body, under different ids).
 *
 * argv: lifetimeMs keys
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { commitStatement, pubHeader, randomId, subStatement, toBase64Url } from '@safehouse/core/protocol';
import { Histogram } from '../relay/histogram.js';
import { RawClient, type Target } from '../relay/rawclient.js';
import { protocolFrame } from '../relay/wire.js';

export type RaceSpec = {
  /** The relays; `racersPerRelay` racers and one observer connect to each. */
  targets: Target[];
  racersPerRelay: number;
  /** Commit body size. */
  bytes: number;
  warmupMs: number;
  measureMs: number;
};
export type RaceWindow = {
  seconds: number;
  /** Commits accepted (epochs the room moved) within the window, per second. */
  commitsPerSecond: number;
  /** The racers' CPU over the window, as a fraction of one core. */
  genCpu: number;
  /** µs from sending a commit to its `ack`, for the winners within the window. */
  p50: number;
  p99: number;
};
export type RaceResult = RaceWindow & {
  racers: number;
  /** Epochs the room went through during the whole race (warm-up included). */
  epochs: number;
  /** `ack`s to commits (the whole race). */
  winners: number;
  /** `nack E_STALE_EPOCH` to commits. */
  stale: number;
  /** Any other answer to a commit, by code (none expected). */
  other: Record<string, number>;
  /** Commits each observer saw. */
  observed: number[];
  /** One winner per epoch, and every observer saw each epoch's winner once, in order. */
  ordered: boolean;
  /** What was wrong, if not ordered. */
  problem?: string;
};
export type RaceCommand = { cmd: 'race'; spec: RaceSpec } | { cmd: 'exit' };
export type RaceEvent =
  | { type: 'ready' }
  | { type: 'measuring' }
  | { type: 'measured'; window: RaceWindow }
  | { type: 'raced'; result: RaceResult }
  | { type: 'error'; message: string };

type Header = { t: string; id?: string; code?: string; epoch?: number; kind?: string; count?: number; nonce?: string };
type Pending = { id: string; epoch: number; sentAt: number };
/** A member that races; its client is set once connected. */
type Racer = { kind: 'racer'; client: RawClient | undefined; epoch: number; pending: Pending | undefined };
/** A member that only records the commits fanned out to it. */
type Observer = { kind: 'observer'; commits: { epoch: number; id: string }[] };

function emit(e: RaceEvent): void {
  process.send?.(e);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- signing (after packages/server/src/testing/harness.ts) ----------------------------------

type EpochKey = { text: string; privateKey: KeyObject };
const epochKeys: EpochKey[] = [];

/** The relay key of `epoch` (the same for every room: the relay checks the chain, not the room). */
function epochKey(epoch: number): EpochKey {
  while (epochKeys.length <= epoch) {
    const pair = generateKeyPairSync('ed25519');
    const raw = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    epochKeys.push({ text: toBase64Url(raw), privateKey: pair.privateKey });
  }
  return epochKeys[epoch] as EpochKey;
}

/** Signatures of one room's commits, by epoch, over the one body every racer sends. */
class CommitSigner {
  private readonly sigs = new Map<number, string>();
  private readonly digest: Buffer;

  constructor(
    readonly room: string,
    readonly body: Buffer,
  ) {
    this.digest = createHash('sha256').update(body).digest();
  }

  sig(epoch: number): string {
    let s = this.sigs.get(epoch);
    if (s === undefined) {
      const statement = commitStatement(this.room, epoch, this.digest, epochKey(epoch + 1).text);
      s = toBase64Url(sign(null, statement, epochKey(epoch).privateKey));
      this.sigs.set(epoch, s);
    }
    return s;
  }

  /** The client frame of a commit for `epoch` under a fresh id. */
  frame(id: string, epoch: number): Buffer {
    const header = pubHeader({
      room: this.room,
      id,
      kind: 'commit',
      epoch,
      next: epochKey(epoch + 1).text,
      sig: this.sig(epoch),
    });
    return protocolFrame(header, this.body);
  }
}

function subFrame(nonce: string, room: string): Buffer {
  const k = epochKey(0);
  const sig = toBase64Url(sign(null, subStatement(nonce, room, 0), k.privateKey));
  return protocolFrame({ v: 1, t: 'sub', room, epoch: 0, key: k.text, sig });
}

// ---- the race ------------------------------------------------------------------------------

function header(payload: Buffer): Header {
  return JSON.parse(payload.subarray(2, 2 + payload.readUInt16BE(0)).toString()) as Header;
}

async function race(spec: RaceSpec): Promise<void> {
  const room = randomId();
  // Not the bench's delivery MAGIC: the scanner must hand commits to `other`.
  const signer = new CommitSigner(room, Buffer.alloc(spec.bytes, 0x43));
  const total = spec.targets.length * (spec.racersPerRelay + 1);
  const racers: Racer[] = [];
  const observers: Observer[] = [];
  const clients: RawClient[] = [];
  let full = 0;
  let racing = false;
  let recording = false;
  let winners = 0;
  let stale = 0;
  let inWindow = 0;
  const other: Record<string, number> = {};
  const winnerOf = new Map<number, string>();
  let problem: string | undefined;
  const hist = new Histogram();

  const send = (r: Racer): void => {
    if (!racing) return;
    const p: Pending = { id: randomId(), epoch: r.epoch, sentAt: performance.now() };
    r.pending = p;
    r.client?.write(signer.frame(p.id, p.epoch));
    // The next epoch's signature while this one is being ordered, once for all racers.
    setImmediate(() => signer.sig(p.epoch + 1));
  };

  const answer = (r: Racer, h: Header): void => {
    const p = r.pending;
    if (!p || h.id !== p.id) return;
    r.pending = undefined;
    if (h.t === 'ack') {
      winners += 1;
      if (winnerOf.has(p.epoch)) problem ??= `two winners for epoch ${p.epoch}`;
      winnerOf.set(p.epoch, p.id);
      if (recording) {
        inWindow += 1;
        hist.record((performance.now() - p.sentAt) * 1000);
      }
      r.epoch = Math.max(r.epoch, p.epoch + 1);
    } else if (h.code === 'E_STALE_EPOCH') {
      stale += 1;
      if (h.epoch !== undefined) r.epoch = Math.max(r.epoch, h.epoch);
    } else other[h.code ?? '?'] = (other[h.code ?? '?'] ?? 0) + 1;
    send(r);
  };

  const connect = async (target: Target, racer: boolean): Promise<void> => {
    let nonceSeen: (nonce: string) => void = () => undefined;
    const nonce = new Promise<string>((resolve) => (nonceSeen = resolve));
    let counted = false;
    const me: Racer | Observer = racer
      ? { kind: 'racer', client: undefined, epoch: 0, pending: undefined }
      : { kind: 'observer', commits: [] };
    const client = await RawClient.open(target, {
      chunk: () => undefined,
      delivery: () => undefined,
      other: (payload) => {
        const h = header(payload);
        switch (h.t) {
          case 'hello':
            return nonceSeen(h.nonce ?? '');
          case 'presence':
            if (!counted && h.count === total) {
              counted = true;
              full += 1;
            }
            return;
          case 'ack':
          case 'nack':
            if (me.kind === 'racer') answer(me, h);
            return;
          case 'msg':
            if (me.kind === 'observer' && h.kind === 'commit')
              me.commits.push({ epoch: h.epoch ?? -1, id: h.id ?? '' });
            return;
        }
      },
    });
    clients.push(client);
    if (me.kind === 'racer') {
      me.client = client;
      racers.push(me);
    } else observers.push(me);
    client.write(protocolFrame({ v: 1, t: 'hello', session: randomId() }));
    client.write(subFrame(await nonce, room));
  };

  try {
    for (const target of spec.targets) {
      await connect(target, false);
      for (let i = 0; i < spec.racersPerRelay; i++) await connect(target, true);
    }
    const deadline = Date.now() + 15_000;
    while (full < total) {
      if (Date.now() > deadline) throw new Error(`only ${full} of ${total} racers and observers saw the full room`);
      await sleep(5);
    }
    signer.sig(0);
    racing = true;
    for (const r of racers) send(r);
    await sleep(spec.warmupMs);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    recording = true;
    emit({ type: 'measuring' });
    await sleep(spec.measureMs);
    recording = false;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const window: RaceWindow = {
      seconds,
      commitsPerSecond: inWindow / seconds,
      genCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      p50: hist.quantile(0.5),
      p99: hist.quantile(0.99),
    };
    emit({ type: 'measured', window });
    racing = false;
    // Every racer's last commit is answered, and every observer has every commit.
    const settle = Date.now() + 10_000;
    while (racers.some((r) => r.pending) && Date.now() < settle) await sleep(5);
    const epochs = Math.max(0, ...racers.map((r) => r.epoch));
    while (observers.some((o) => o.commits.length < epochs) && Date.now() < settle) await sleep(5);
    if (racers.some((r) => r.pending)) problem ??= 'a racer had no answer within 10 s';
    if (winners !== epochs) problem ??= `${winners} winners for ${epochs} epochs`;
    for (const [i, o] of observers.entries()) {
      if (o.commits.length !== epochs) problem ??= `observer ${i} saw ${o.commits.length} commits for ${epochs} epochs`;
      for (const [e, c] of o.commits.entries())
        if (c.epoch !== e || c.id !== winnerOf.get(e)) {
          problem ??= `observer ${i}'s commit number ${e} was epoch ${c.epoch}, ${c.id === winnerOf.get(c.epoch) ? '' : 'not '}its winner`;
          break;
        }
    }
    emit({
      type: 'raced',
      result: {
        ...window,
        racers: racers.length,
        epochs,
        winners,
        stale,
        other,
        observed: observers.map((o) => o.commits.length),
        ordered: problem === undefined,
        ...(problem === undefined ? {} : { problem }),
      },
    });
  } finally {
    racing = false;
    for (const c of clients) c.close();
  }
}

process.on('message', (m: RaceCommand) => {
  switch (m.cmd) {
    case 'race':
      return void race(m.spec).catch((err: unknown) =>
        emit({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
      );
    case 'exit':
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(0), Number(process.argv[2] ?? 900_000)).unref();
epochKey(Number(process.argv[3] ?? 0));
emit({ type: 'ready' });
