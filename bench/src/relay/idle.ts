/**
 * Idle cost and capacity: a fresh relay, warmed up by 1,000 connections that come and go, then N
 * idle connections (rooms of 5; ours with `hello` and
 * `sub`), the JS heap and RSS they add per connection (after forced GCs), how many connections
 * per second were accepted (handshake to first answer, 128 at a time), and whether the relay
 * still answers (a small room carries a burst of messages). Ours runs with its default limits,
 * the clients spread over many source addresses (16 each, under the per-address cap of 32).
 * Then ours is filled up to `hold` connections to show it holds them and still answers.
 */
import { startRelay, usage, type Generator, type Relay } from './procs.js';
import type { Protocol } from './load-proc.js';
import { SERVER_KINDS } from './kinds.js';

export type IdleResult = {
  relay: Protocol;
  connections: number;
  heapPerConnection: number;
  rssPerConnection: number;
  acceptedPerSecond: number;
  answers: boolean;
};
export type HoldResult = { connections: number; held: number; answers: boolean; acceptedPerSecond: number };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let sets = 0;

async function connect(gen: Generator, relay: Relay, n: number): Promise<{ tag: string; ms: number }> {
  const tag = `idle-${relay.kind}-${sets++}`;
  gen.send({
    cmd: 'connect',
    spec: {
      tag,
      protocol: relay.kind,
      target: relay.ready,
      rooms: Math.ceil(n / 5),
      members: 5,
      bytes: 256,
      perAddress: 16,
    },
  });
  const { ms } = await gen.next('connected', 300_000);
  return { tag, ms };
}

/** True if a small room on `relay` carries messages now (at a rate within the default limits). */
async function answers(gen: Generator, relay: Relay): Promise<boolean> {
  const { tag } = await connect(gen, relay, 2);
  gen.send({ cmd: 'run', spec: { tag, mode: 'rate', window: 0, rate: 20, warmupMs: 0, measureMs: 500 } });
  const { result } = await gen.next('measured');
  await gen.next('drained');
  gen.send({ cmd: 'drop', tag });
  return result.deliveries > 0;
}

export async function idle(
  gen: Generator,
  n: number,
  hold: number,
): Promise<{ idle: IdleResult[]; hold?: HoldResult }> {
  const out: IdleResult[] = [];
  let held: HoldResult | undefined;
  for (const kind of SERVER_KINDS) {
    // Default limits need many source addresses (32 connections per address): Linux only.
    const relay = await startRelay(kind, kind === 'ours' && process.platform === 'linux');
    try {
      // Warm up first (code compiled, tables grown), so that what is measured is the cost of a connection.
      const warm = await connect(gen, relay, 1_000);
      gen.send({ cmd: 'drop', tag: warm.tag });
      for (let i = 0; i < 100 && (await usage(relay)).connections > 0; i++) await sleep(50);
      const u0 = await usage(relay, true);
      const { tag, ms } = await connect(gen, relay, n);
      await sleep(300);
      const u1 = await usage(relay, true);
      out.push({
        relay: kind,
        connections: u1.connections,
        heapPerConnection: (u1.heapUsed - u0.heapUsed) / n,
        rssPerConnection: (u1.rss - u0.rss) / n,
        acceptedPerSecond: n / (ms / 1000),
        answers: await answers(gen, relay),
      });
      if (kind === 'ours' && hold > n) {
        const more = await connect(gen, relay, hold - n);
        const u2 = await usage(relay);
        held = {
          connections: hold,
          held: u2.connections,
          answers: await answers(gen, relay),
          acceptedPerSecond: (hold - n) / (more.ms / 1000),
        };
        gen.send({ cmd: 'drop', tag: more.tag });
      }
      gen.send({ cmd: 'drop', tag });
    } finally {
      await relay.stop();
    }
  }
  return held ? { idle: out, hold: held } : { idle: out };
}
