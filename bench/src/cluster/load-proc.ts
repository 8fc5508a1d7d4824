/**
 * Child process: the cluster section's fan-out generator. Like the relay section's
 * (relay/load-proc.ts, whose raw clients, pre-encoded frames and histogram it reuses), it holds
 * client sets of R rooms × N members, member 0 of each room publishing, and runs load on one set
 * at a time, at a window of messages in flight per room or at a fixed offered rate. What it adds:
 * a set's clients are spread over several relays — member m of room r on relay (r + m) mod K, so
 * each room's members go round-robin over the relays and its publisher is on relay r mod K (room
 * 0's on the first) — and each delivery is counted as *local* (the receiver is on its
 * publisher's relay) or *remote* (it crossed the bus), with a latency histogram for each.
 */
import { pubHeader, randomId } from '@safehouse/core/protocol';
import { Histogram } from '../relay/histogram.js';
import { RawClient, type Target } from '../relay/rawclient.js';
import { protocolFrame, PubTemplate, signedSub } from '../relay/wire.js';

export type ClusterSetSpec = {
  tag: string;
  /** The relays of one cluster (or the one relay alone). */
  targets: Target[];
  rooms: number;
  members: number;
  bytes: number;
  /** Clients per source address (127.x.y.z). */
  perAddress: number;
};
export type ClusterRunSpec = {
  tag: string;
  mode: 'window' | 'rate';
  window: number;
  rate: number;
  warmupMs: number;
  measureMs: number;
};
export type Latency = { deliveries: number; hist: number[]; p50: number; p99: number; p999: number };
export type ClusterRunResult = {
  deliveries: number;
  seconds: number;
  perSecond: number;
  messagesPerSecond: number;
  /** The generator's CPU over the window, as a fraction of one core. */
  genCpu: number;
  /** Receivers on the publisher's relay. */
  local: Latency;
  /** Receivers on another relay (the frame crossed Redis). */
  remote: Latency;
};
export type ClusterLoadCommand =
  | { cmd: 'connect'; spec: ClusterSetSpec }
  | { cmd: 'run'; spec: ClusterRunSpec }
  | { cmd: 'drop'; tag: string }
  | { cmd: 'exit' };
export type ClusterLoadEvent =
  | { type: 'connected'; tag: string; ms: number }
  | { type: 'measuring' }
  | { type: 'measured'; result: ClusterRunResult }
  | { type: 'drained'; loss: number; closed: number }
  | { type: 'error'; message: string };

type Room = {
  members: RawClient[];
  template: PubTemplate;
  sent: number;
  delivered: number;
  dirty: boolean;
};
type ClientSet = { spec: ClusterSetSpec; rooms: Room[]; clients: RawClient[] };

/** Linux routes all of 127.0.0.0/8 to the loopback; elsewhere only 127.0.0.1 may be bound. */
const MANY_SOURCES = process.platform === 'linux';
const sets = new Map<string, ClientSet>();
let setsMade = 0;
let active: ClientSet | undefined;
let windowSize = 16;
let sending = false;
let recording = false;
let now = performance.now();
const hists = { local: new Histogram(), remote: new Histogram() };
const dirty: Room[] = [];
let immediate: NodeJS.Immediate | undefined;

function emit(e: ClusterLoadEvent): void {
  process.send?.(e);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The relay (index into the set's targets) that member `m` of room `r` connects to. */
function placement(r: number, m: number, relays: number): number {
  return (r + m) % relays;
}

function publish(room: Room, count: number): void {
  const pub = room.members[0] as RawClient;
  pub.socket.cork();
  for (let i = 0; i < count; i++) pub.write(room.template.stamp(performance.now()));
  room.sent += count;
  pub.socket.uncork();
}

function topUp(): void {
  immediate = undefined;
  for (const room of dirty) {
    room.dirty = false;
    if (!sending) continue;
    const per = room.members.length - 1;
    const inFlight = room.sent - Math.floor(room.delivered / per);
    if (inFlight < windowSize) publish(room, windowSize - inFlight);
  }
  dirty.length = 0;
}

function onDelivery(set: ClientSet, r: number, sentMs: number, hist: Histogram): void {
  const room = set.rooms[r];
  if (!room) return;
  room.delivered += 1;
  if (recording) hist.record((now - sentMs) * 1000);
  if (!room.dirty && set === active) {
    room.dirty = true;
    dirty.push(room);
    immediate ??= setImmediate(topUp);
  }
}

async function connectSet(spec: ClusterSetSpec): Promise<void> {
  if (spec.targets.length === 0) throw new Error('a client set needs at least one relay');
  const t0 = performance.now();
  const set: ClientSet = { spec, rooms: [], clients: [] };
  const setIndex = setsMade++ % 200;
  sets.set(spec.tag, set);
  const roomIds = Array.from({ length: spec.rooms }, () => randomId());
  const k = spec.targets.length;
  let presence = 0;
  const wanted = spec.rooms * spec.members;
  for (let r = 0; r < spec.rooms; r++) {
    // As our clients build it, so the relay takes its fast path (fastPub.ts) as it does for them.
    const header = pubHeader({ room: roomIds[r] as string, id: randomId(), kind: 'app', epoch: 0 });
    set.rooms.push({
      members: [],
      template: new PubTemplate(header, spec.bytes, r),
      sent: 0,
      delivered: 0,
      dirty: false,
    });
  }
  const open = async (r: number, m: number, i: number): Promise<void> => {
    let seenFull = false;
    const relay = placement(r, m, k);
    const hist = relay === placement(r, 0, k) ? hists.local : hists.remote;
    const a = Math.floor(i / spec.perAddress);
    const local = MANY_SOURCES ? `127.${20 + setIndex}.${Math.floor(a / 254) % 256}.${1 + (a % 254)}` : undefined;
    let helloSeen: (nonce: string) => void = () => undefined;
    const hello = new Promise<string>((resolve) => (helloSeen = resolve));
    const client = await RawClient.open(
      spec.targets[relay] as Target,
      {
        chunk: () => (now = performance.now()),
        delivery: (room, sentMs) => onDelivery(set, room, sentMs, hist),
        other: (payload) => {
          if (seenFull) return; // during load: acks to publishers, not parsed
          const h = JSON.parse(payload.subarray(2, 2 + payload.readUInt16BE(0)).toString()) as {
            t: string;
            count?: number;
            nonce?: string;
          };
          if (h.t === 'hello') helloSeen(h.nonce ?? '');
          // In a cluster the count includes the members on the other relays (their counts ride the bus).
          if (h.t === 'presence' && h.count === spec.members) {
            seenFull = true;
            presence += 1;
          }
        },
      },
      local,
    );
    set.clients.push(client);
    (set.rooms[r] as Room).members[m] = client;
    client.write(protocolFrame({ v: 1, t: 'hello', session: randomId() }));
    client.write(signedSub(await hello, roomIds[r] as string));
  };
  const jobs: [number, number][] = [];
  for (let r = 0; r < spec.rooms; r++) for (let m = 0; m < spec.members; m++) jobs.push([r, m]);
  // Rooms are filled in order, a bounded number of handshakes at a time.
  let next = 0;
  await Promise.all(
    Array.from({ length: 128 }, async () => {
      while (next < jobs.length) {
        const i = next++;
        const [r, m] = jobs[i] as [number, number];
        await open(r, m, i);
      }
    }),
  );
  const deadline = Date.now() + 30_000;
  while (presence < wanted) {
    if (Date.now() > deadline) throw new Error(`only ${presence} of ${wanted} clients saw their full room`);
    await sleep(5);
  }
  emit({ type: 'connected', tag: spec.tag, ms: performance.now() - t0 });
}

function latency(h: Histogram): Latency {
  return {
    deliveries: h.total,
    hist: Array.from(h.counts),
    p50: h.quantile(0.5),
    p99: h.quantile(0.99),
    p999: h.quantile(0.999),
  };
}

async function run(spec: ClusterRunSpec): Promise<void> {
  const set = sets.get(spec.tag);
  if (!set) throw new Error(`no client set ${spec.tag}`);
  active = set;
  windowSize = spec.window;
  for (const room of set.rooms) room.sent = room.delivered = 0;
  sending = true;
  let ticker: NodeJS.Timeout | undefined;
  if (spec.mode === 'window') for (const room of set.rooms) publish(room, windowSize);
  else {
    // Fixed offered rate, spread over the rooms; the send time stamped is the actual one.
    const start = performance.now();
    const perRoom = spec.rate / set.rooms.length;
    ticker = setInterval(() => {
      const due = Math.floor(((performance.now() - start) / 1000) * perRoom);
      for (const room of set.rooms) if (due > room.sent) publish(room, due - room.sent);
    }, 1);
  }
  await sleep(spec.warmupMs);
  hists.local.reset();
  hists.remote.reset();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent0 = set.rooms.reduce((a, r) => a + r.sent, 0);
  recording = true;
  emit({ type: 'measuring' });
  await sleep(spec.measureMs);
  recording = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sent1 = set.rooms.reduce((a, r) => a + r.sent, 0);
  const deliveries = hists.local.total + hists.remote.total;
  emit({
    type: 'measured',
    result: {
      deliveries,
      seconds,
      perSecond: deliveries / seconds,
      messagesPerSecond: (sent1 - sent0) / seconds,
      genCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      local: latency(hists.local),
      remote: latency(hists.remote),
    },
  });
  sending = false;
  clearInterval(ticker);
  const expected = (): number => set.rooms.reduce((a, r) => a + r.sent * (r.members.length - 1), 0);
  const got = (): number => set.rooms.reduce((a, r) => a + r.delivered, 0);
  const deadline = Date.now() + 5_000;
  while (got() < expected() && Date.now() < deadline) await sleep(10);
  active = undefined;
  const closed = set.clients.filter((c) => c.closed).length;
  emit({ type: 'drained', loss: expected() === 0 ? 0 : 1 - got() / expected(), closed });
}

function drop(tag: string): void {
  const set = sets.get(tag);
  if (!set) return;
  for (const c of set.clients) c.close();
  sets.delete(tag);
}

process.on('message', (m: ClusterLoadCommand) => {
  const fail = (err: unknown): void =>
    emit({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  switch (m.cmd) {
    case 'connect':
      return void connectSet(m.spec).catch(fail);
    case 'run':
      return void run(m.spec).catch(fail);
    case 'drop':
      return drop(m.tag);
    case 'exit':
      for (const tag of [...sets.keys()]) drop(tag);
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(0), Number(process.argv[2] ?? 900_000)).unref();
