/**
 * Safehouse's own Roughtime server (udp-server.ts): a given key is the key it signs with, its
 * replies verify for every version we offer, a batch shares one signature, it logs counts only.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest, ed25519PublicKey, RoughtimeVersion, verifyReply } from '@safehouse/core/roughtime';
import { CapturingLogger } from '../testing/harness.js';
import { startRoughtimeServer, type RunningRoughtimeServer } from './udp-server.js';

let server: RunningRoughtimeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function exchange(port: number, packets: Uint8Array[]): Promise<Uint8Array[]> {
  const sock = dgram.createSocket('udp4');
  const replies: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (sock.close(), reject(new Error(`${replies.length} of ${packets.length} replies`))), 3_000);
    sock.on('message', (m) => {
      replies.push(new Uint8Array(m));
      if (replies.length === packets.length) {
        clearTimeout(timer);
        sock.close();
        resolve(replies);
      }
    });
    sock.connect(port, '127.0.0.1', () => packets.forEach((p) => sock.send(p)));
  });
}

describe('the Roughtime UDP server', () => {
  it('signsWithTheGivenKeyInEveryVersionAndPrintsItsSpec', async () => {
    const seed = new Uint8Array(32).fill(42);
    const logger = new CapturingLogger();
    server = await startRoughtimeServer({ port: 0, seed, logger });
    const publicKey = ed25519PublicKey(seed);
    expect(server.spec).toBe(`127.0.0.1:${server.port}:${Buffer.from(publicKey).toString('base64')}`);
    for (const versions of [[RoughtimeVersion.RFC, RoughtimeVersion.DRAFT_12], [RoughtimeVersion.DRAFT_08, RoughtimeVersion.DRAFT_11], [RoughtimeVersion.GOOGLE]]) {
      const request = await buildRequest({ versions, publicKey });
      const [reply] = await exchange(server.port, [request.packet]);
      const v = await verifyReply({ request, reply: reply!, publicKey });
      expect(v.ok && v.kind, `versions ${versions.join(',')}`).toBe('time');
      if (v.ok && v.kind === 'time') expect(Math.abs(v.interval.earliestMs / 2 + v.interval.latestMs / 2 - Date.now())).toBeLessThan(5_000);
    }
    await server.close();
    // Counts only: every logged field is a number.
    expect(logger.entries.map((e) => e.event)).toEqual(['roughtime-listening', 'roughtime-closed']);
    for (const e of logger.entries) for (const v of Object.values(e.fields ?? {})) expect(typeof v).toBe('number');
  });

  it('signsRequestsArrivingTogetherAsOneBatch', async () => {
    server = await startRoughtimeServer({ port: 0 });
    const requests = await Promise.all(Array.from({ length: 8 }, () => buildRequest({ publicKey: server!.publicKey })));
    const replies = await exchange(server.port, requests.map((r) => r.packet));
    let verified = 0;
    for (const reply of replies) {
      const match = await Promise.all(requests.map((request) => verifyReply({ request, reply, publicKey: server!.publicKey })));
      if (match.some((m) => m.ok && m.kind === 'time')) verified++;
    }
    expect(verified).toBe(8);
    expect(server.stats()).toMatchObject({ requests: 8, replies: 8, dropped: 0 });
  });
});
