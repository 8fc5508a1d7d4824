/**
 * The password at the WebSocket upgrade (password.ts, THREATS B.12/B.13): the probe matrix's
 * password rows. Without the password, with a wrong one, with it in the wrong form: the standard
 * 404, byte for byte (`Date` aside). With the right one: 101, echoing the subprotocol. An address
 * that keeps guessing is made to wait, even with the right password; other addresses are not.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordSubprotocol } from '@safehouse/core/protocol';
import { PasswordGate } from './password.js';
import {
  rawExchange,
  rawWebSocket,
  startTestServer,
  upgradeRequest,
  withoutDate,
  type TestServer,
} from './testing/harness.js';

const PASSWORD = 'correct horse battery staple';
let server: TestServer;
let ws: string;
let good: string;

beforeAll(async () => {
  server = await startTestServer({}, { password: PASSWORD });
  ws = `${server.basePath}/ws`;
  good = await passwordSubprotocol(PASSWORD, server.basePath);
});
afterAll(async () => {
  await server.close();
});

const baseline = async (): Promise<string> =>
  withoutDate(
    await rawExchange(server.port, `GET /${randomBytes(16).toString('base64url')} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
  );

describe('password at the upgrade', () => {
  it('missing, wrong or malformed password: byte-identical to a random-path 404', async () => {
    const expected = await baseline();
    const wrongToken = await passwordSubprotocol('wrong', server.basePath);
    const otherBase = await passwordSubprotocol(PASSWORD, '/another');
    const variants: [string, string[]][] = [
      ['no password', []],
      ['wrong password', [`Sec-WebSocket-Protocol: ${wrongToken}`]],
      ['right password for another base path', [`Sec-WebSocket-Protocol: ${otherBase}`]],
      ['the password in clear', [`Sec-WebSocket-Protocol: safehouse.${PASSWORD.replace(/ /g, '-')}`]],
      ['right token with another protocol first', [`Sec-WebSocket-Protocol: chat, ${good}`]],
      ['truncated token', [`Sec-WebSocket-Protocol: ${good.slice(0, -1)}`]],
      ['empty protocol', ['Sec-WebSocket-Protocol: ']],
    ];
    for (const [what, extra] of variants) {
      // Each from its own source address, so that the back-off does not change the question.
      const localAddress = `127.0.${1 + variants.findIndex((v) => v[0] === what)}.9`;
      expect(withoutDate(await rawExchange(server.port, upgradeRequest(ws, extra), { localAddress })), what).toBe(
        expected,
      );
    }
  });

  it('the right password, on the relay URL only: 101 with the subprotocol echoed', async () => {
    const { socket, head } = await rawWebSocket(server.port, ws, [`Sec-WebSocket-Protocol: ${good}`]);
    socket.destroy();
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head).toContain(`Sec-WebSocket-Protocol: ${good}`);
    const expected = await baseline();
    const elsewhere = withoutDate(
      await rawExchange(server.port, upgradeRequest(`${server.basePath}/`, [`Sec-WebSocket-Protocol: ${good}`])),
    );
    expect(elsewhere).toBe(expected);
  });

  it('an address that keeps guessing waits, even with the right password; other addresses do not', async () => {
    const expected = await baseline();
    const guesser = '127.0.77.1';
    for (let i = 0; i < 6; i++)
      await rawExchange(server.port, upgradeRequest(ws, [`Sec-WebSocket-Protocol: safehouse.guess${i}`]), {
        localAddress: guesser,
      });
    const locked = withoutDate(
      await rawExchange(server.port, upgradeRequest(ws, [`Sec-WebSocket-Protocol: ${good}`]), {
        localAddress: guesser,
      }),
    );
    expect(locked).toBe(expected);
    const { socket, head } = await rawWebSocket(server.port, ws, [`Sec-WebSocket-Protocol: ${good}`]);
    socket.destroy();
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
  });

  it('the logger heard neither the password nor its token', () => {
    const text = server.logger.text();
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(good.slice('safehouse.'.length));
  });
});

describe('PasswordGate back-off', () => {
  it('5 free failures, then 1 s, 2 s, 4 s ... capped; a success forgets the address', async () => {
    let now = 1_000_000;
    const gate = await PasswordGate.create('pw', '/b', { freeAttempts: 5, maxBackoffMs: 4_000 }, () => now);
    const good = await passwordSubprotocol('pw', '/b');
    for (let i = 0; i < 5; i++) expect(gate.check('a', 'safehouse.x')).toBe(false);
    expect(gate.check('a', good)).toBe(true); // five failures are free
    for (let i = 0; i < 6; i++) gate.check('a', 'safehouse.x');
    expect(gate.check('a', good)).toBe(false); // waiting
    expect(gate.check('b', good)).toBe(true); // another address is not
    now += 4_001; // the cap
    expect(gate.check('a', good)).toBe(true);
    expect(gate.check('a', ['x'])).toBe(false);
  });

  it('remembers a bounded number of addresses', async () => {
    const gate = await PasswordGate.create('pw', '/b', { maxTracked: 3, freeAttempts: 0 });
    for (const ip of ['1', '2', '3', '4']) gate.check(ip, 'bad');
    // '1' was forgotten (oldest): its next try is checked, not refused by a wait.
    expect(gate.check('1', await passwordSubprotocol('pw', '/b'))).toBe(true);
    expect(gate.check('4', await passwordSubprotocol('pw', '/b'))).toBe(false);
  });
});

describe('password timing (THREATS B.13, smoke test)', () => {
  it('no password, a wrong one and a near miss take about as long as a random path', async () => {
    const { performance } = await import('node:perf_hooks');
    const nearMiss = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    const wrong = await passwordSubprotocol('wrong', server.basePath);
    const classes: Record<string, (i: number) => [string, string]> = {
      random: (i) => [upgradeRequest(`/${randomBytes(16).toString('base64url')}/ws`), `127.1.${i % 250}.1`],
      none: (i) => [upgradeRequest(ws), `127.2.${i % 250}.1`],
      wrong: (i) => [upgradeRequest(ws, [`Sec-WebSocket-Protocol: ${wrong}`]), `127.3.${i % 250}.1`],
      nearMiss: (i) => [upgradeRequest(ws, [`Sec-WebSocket-Protocol: ${nearMiss}`]), `127.4.${i % 250}.1`],
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(classes).map((k) => [k, []]));
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    for (let round = 0; round < 100; round++) {
      for (const [name, make] of Object.entries(classes)) {
        // A fresh source address per request: this measures the check, not the back-off.
        const [request, localAddress] = make(round);
        const t0 = performance.now();
        const res = await rawExchange(server.port, request, { localAddress });
        times[name]?.push(performance.now() - t0);
        expect(res.subarray(0, 22).toString('latin1')).toBe('HTTP/1.1 404 Not Found');
      }
    }
    const ref = median(times.random ?? []);
    for (const [name, xs] of Object.entries(times))
      expect(median(xs), `${name} vs random (${ref.toFixed(3)} ms)`).toBeLessThan(ref * 2 + 1);
  });
});
