/**
 * The bench's rival relays carry the same protocol, or the comparison says nothing: a client
 * joins the room its URL path names, and each binary frame it sends reaches every *other* member
 * of that room once, unchanged, and nobody outside it. One suite, run by both (plain ws and
 * uWebSockets.js), over real sockets. And the order the bench runs relays in (`roundOrder`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBaseline } from './baseline.js';
import { loadUws, startUws } from './uws.js';
import { roundOrder } from './throughput.js';

type Running = { port: number; close(): Promise<void> | void };

const IMPLEMENTATIONS: [string, () => Promise<Running>][] = [
  ['ws', () => startBaseline()],
  ['uWS', () => startUws()],
];

function open(port: number, path: string): Promise<{ ws: WebSocket; got: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    const got: Buffer[] = [];
    ws.on('message', (data: Buffer) => got.push(data));
    ws.once('open', () => resolve({ ws, got }));
    ws.once('error', reject);
  });
}

const until = async (cond: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe.each(IMPLEMENTATIONS)('rival relay %s', (_name, start) => {
  let relay: Running;
  beforeAll(async () => {
    relay = await start();
  });
  afterAll(async () => {
    await relay.close();
  });

  it('sends each frame to every other member of the room once, never back, never to another room', async () => {
    const room = await Promise.all([0, 1, 2].map(() => open(relay.port, '/room/7')));
    const outsider = await open(relay.port, '/room/8');
    const [a, b, c] = room as [(typeof room)[0], (typeof room)[0], (typeof room)[0]];
    const frames = [Buffer.from([1, 2, 3]), Buffer.alloc(4096, 0x5a), Buffer.from([9])];
    for (const f of frames) a.ws.send(f);
    b.ws.send(Buffer.from('from b'));
    await until(() => b.got.length === 3 && c.got.length === 4 && a.got.length === 1);
    // A frame that still came would arrive within this; none may.
    await new Promise((r) => setTimeout(r, 100));
    expect(b.got).toEqual(frames);
    expect(c.got.map((x) => x.toString('hex')).sort()).toEqual(
      [...frames, Buffer.from('from b')].map((x) => x.toString('hex')).sort(),
    );
    expect(a.got).toEqual([Buffer.from('from b')]);
    expect(outsider.got).toEqual([]);
    for (const s of [...room, outsider]) s.ws.close();
  });
});

describe('uWS loading', () => {
  it('loads the native addon for this platform and Node ABI', () => {
    const uws = loadUws();
    expect(typeof uws.App).toBe('function');
  });
});

describe('roundOrder', () => {
  const rivals = ['ws', 'uws'];
  const rounds = [0, 1, 2, 3].map((p) => roundOrder('ours', rivals, p));

  it('runs every relay once per round, ours next to each rival', () => {
    for (const r of rounds) {
      expect([...r].sort()).toEqual(['ours', 'uws', 'ws']);
      for (const rival of rivals) expect(Math.abs(r.indexOf('ours') - r.indexOf(rival))).toBe(1);
    }
  });

  it('puts ours before each rival in half the rounds', () => {
    for (const rival of rivals) expect(rounds.filter((r) => r.indexOf('ours') < r.indexOf(rival))).toHaveLength(2);
  });

  it('gives every relay the same mean position over two rounds', () => {
    const mean = (x: string): number => (rounds[0]!.indexOf(x) + rounds[1]!.indexOf(x)) / 2;
    expect(new Set(['ours', ...rivals].map(mean)).size).toBe(1);
  });

  it('with one rival, alternates A B, B A', () => {
    expect(roundOrder('ours', ['ws'], 0)).toEqual(['ours', 'ws']);
    expect(roundOrder('ours', ['ws'], 1)).toEqual(['ws', 'ours']);
  });
});
