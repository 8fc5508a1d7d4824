/**
 * Child process: the load generator. It holds client sets (one per relay under test) of raw
 * WebSocket clients — N members in each of R rooms, member 0 of each room publishing — and runs
 * load on one set at a time, either at a fixed window of messages in flight per room
 * (saturation) or at a fixed offered rate (latency). A message is complete when all N − 1 other
 * members have it. It reports deliveries, latency, loss and its own CPU use, so the parent can
 * tell when the generator, not the relay, was the limit. It exits with its parent.
 */
import { pubHeader, randomId } from '@safehouse/core/protocol';
import { Histogram } from './histogram.js';
import { RawClient, type Target } from './rawclient.js';
import { protocolFrame, PubTemplate, signedSub } from './wire.js';
import type { ServerKind } from './kinds.js';

export type Protocol = ServerKind;
export type SetSpec = {
  tag: string;
  protocol: Protocol;
  target: Target;
  rooms: number;
  members: number;
  bytes: number;
  /** Clients per source address (127.x.y.z): below the relay's per-address cap when it is on. */
  perAddress: number;
};
export type RunSpec = {
  tag: string;
  mode: 'window' | 'rate';
  window: number;
  rate: number;
  warmupMs: number;
  measureMs: number;
};
export type LoadCommand =
  { cmd: 'connect'; spec: SetSpec } | { cmd: 'run'; spec: RunSpec } | { cmd: 'drop'; tag: string } | { cmd: 'exit' };
export type RunResult = {
  /** The latency histogram's counts (histogram.ts buckets), so that runs can be merged. */
  hist: number[];
  deliveries: number;
  seconds: number;
  perSecond: number;
  messagesPerSecond: number;
  genCpu: number;
  p50: number;
  p99: number;
  p999: number;
  loss: number;
  closed: number;
};
export type LoadEvent =
  | { type: 'connected'; tag: string; ms: number }
  | { type: 'measuring' }
  | { type: 'measured'; result: Omit<RunResult, 'loss' | 'closed'> }
  | { type: 'drained'; loss: number; closed: number }
  | { type: 'error'; message: string };

type Room = {
  index: number;
  members: RawClient[];
  template: PubTemplate;
  sent: number;
  delivered: number;
  dirty: boolean;
};
type ClientSet = { spec: SetSpec; rooms: Room[]; clients: RawClient[] };

/** Linux routes all of 127.0.0.0/8 to the loopback; elsewhere only 127.0.0.1 may be bound. */
const MANY_SOURCES = process.platform === 'linux';
const sets = new Map<string, ClientSet>();
let setsMade = 0;
let active: ClientSet | undefined;
let windowSize = 16;
let sending = false;
let recording = false;
let now = performance.now();
const hist = new Histogram();
let deliveries = 0;
const dirty: Room[] = [];
let immediate: NodeJS.Immediate | undefined;

function emit(e: LoadEvent): void {
  process.send?.(e);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

function onDelivery(set: ClientSet, r: number, sentMs: number): void {
  const room = set.rooms[r];
  if (!room) return;
  room.delivered += 1;
  if (recording) {
    deliveries += 1;
    hist.record((now - sentMs) * 1000);
  }
  if (!room.dirty && set === active) {
    room.dirty = true;
    dirty.push(room);
    immediate ??= setImmediate(topUp);
  }
}

async function connectSet(spec: SetSpec): Promise<void> {
  const t0 = performance.now();
  const set: ClientSet = { spec, rooms: [], clients: [] };
  const setIndex = setsMade++ % 200;
  sets.set(spec.tag, set);
  const roomIds = Array.from({ length: spec.rooms }, () => randomId());
  let presence = 0;
  const wanted = spec.rooms * spec.members;
  const jobs: { r: number; m: number }[] = [];
  for (let r = 0; r < spec.rooms; r++) for (let m = 0; m < spec.members; m++) jobs.push({ r, m });
  for (let r = 0; r < spec.rooms; r++) {
    // As our clients build it, so the relay takes its fast path (fastPub.ts) as it does for them.
    const header = pubHeader({ room: roomIds[r] as string, id: randomId(), kind: 'app', epoch: 0 });
    set.rooms.push({
      index: r,
      members: [],
      template: new PubTemplate(header, spec.bytes, r),
      sent: 0,
      delivered: 0,
      dirty: false,
    });
  }
  // Many source addresses: no address runs out of ephemeral ports, and none reaches a per-address cap.
  const open = async ({ r, m }: { r: number; m: number }, i: number): Promise<void> => {
    let seenFull = false;
    const target = spec.protocol === 'ours' ? spec.target : { port: spec.target.port, path: `${spec.target.path}${r}` };
    const a = Math.floor(i / spec.perAddress);
    const local = MANY_SOURCES ? `127.${20 + setIndex}.${Math.floor(a / 254) % 256}.${1 + (a % 254)}` : undefined;
    let helloSeen: (nonce: string) => void = () => undefined;
    const hello = new Promise<string>((resolve) => (helloSeen = resolve));
    const client = await RawClient.open(
      target,
      {
        chunk: () => (now = performance.now()),
        delivery: (room, sentMs) => onDelivery(set, room, sentMs),
        other: (payload) => {
          if (seenFull) return; // during load: acks to publishers, not parsed
          const h = JSON.parse(payload.subarray(2, 2 + payload.readUInt16BE(0)).toString()) as {
            t: string;
            count?: number;
            nonce?: string;
          };
          if (h.t === 'hello') helloSeen(h.nonce ?? '');
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
    if (spec.protocol === 'ours') {
      client.write(protocolFrame({ v: 1, t: 'hello', session: randomId() }));
      client.write(signedSub(await hello, roomIds[r] as string));
    }
  };
  // Rooms are filled in order, a bounded number of handshakes at a time.
  const concurrency = 128;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const i = next++;
        await open(jobs[i] as { r: number; m: number }, i);
      }
    }),
  );
  if (spec.protocol === 'ours') {
    const deadline = Date.now() + 30_000;
    while (presence < wanted) {
      if (Date.now() > deadline) throw new Error(`only ${presence} of ${wanted} clients saw their full room`);
      await sleep(5);
    }
  }
  emit({ type: 'connected', tag: spec.tag, ms: performance.now() - t0 });
}

async function run(spec: RunSpec): Promise<void> {
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
  hist.reset();
  deliveries = 0;
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
  emit({
    type: 'measured',
    result: {
      deliveries,
      seconds,
      perSecond: deliveries / seconds,
      messagesPerSecond: (sent1 - sent0) / seconds,
      genCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      hist: Array.from(hist.counts),
      p50: hist.quantile(0.5),
      p99: hist.quantile(0.99),
      p999: hist.quantile(0.999),
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

process.on('message', (m: LoadCommand) => {
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
