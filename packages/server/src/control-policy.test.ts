/**
 * The privileged control channel (control.ts): an in-process connection that speaks the same
 * protocol, room policies enforced by the relay (`--disable-all`, `--only-admin`), and closing
 * the connection that sent a given join request (`/kick`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRelayFrame, encodeFrame, randomId, type ClientHeader, type RelayHeader } from '@safehouse/core/protocol';
import { startTestServer, subHeader, TestClient, until, type TestServer } from './testing/harness.js';
import type { PrivilegedConnection } from './control.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The admin's side: an in-process connection, frames decoded into a list. */
async function privileged(s: TestServer): Promise<{
  conn: PrivilegedConnection;
  frames: RelayHeader[];
  nonce: string;
  send: (h: ClientHeader, body?: Uint8Array) => void;
  closed: () => boolean;
}> {
  const frames: RelayHeader[] = [];
  let opened!: () => void;
  let closed = false;
  const open = new Promise<void>((r) => (opened = r));
  const conn = s.control.openPrivileged({
    onOpen: () => opened(),
    onFrame: (b) => {
      const d = decodeRelayFrame(b);
      if (d.ok) frames.push(d.header);
    },
    onClose: () => (closed = true),
  });
  await open;
  const send = (h: ClientHeader, body?: Uint8Array): void => conn.send(encodeFrame(h, body));
  send({ v: 1, t: 'hello', session: randomId() });
  await until(() => frames.some((f) => f.t === 'hello'), 2_000, 'hello');
  const hello = frames.find((f) => f.t === 'hello');
  return { conn, frames, send, closed: () => closed, nonce: hello?.t === 'hello' ? hello.nonce : '' };
}

describe('control channel', () => {
  it('the in-process connection speaks the protocol: sub, pub, fan-out both ways', async () => {
    server = await startTestServer();
    const admin = await privileged(server);
    const room = randomId();
    admin.send(subHeader(admin.nonce, room));
    const member = await TestClient.connect(server);
    await member.sub(room);
    admin.send({ v: 1, t: 'pub', room, id: randomId(), kind: 'app', epoch: 0 }, new Uint8Array([1, 2, 3]));
    const got = await member.next('msg');
    expect([...got.body]).toEqual([1, 2, 3]);
    const id = randomId();
    member.send({ v: 1, t: 'pub', room, id, kind: 'app', epoch: 0 }, new Uint8Array([4]));
    await member.next('ack', (h) => h.id === id);
    await until(() => admin.frames.some((f) => f.t === 'msg' && f.id === id), 2_000, 'the member message at the admin');
    expect(server.stats().connections).toBe(2);
  });

  it('announceRoom: only the privileged connection posts app messages there; commits and other rooms are free', async () => {
    server = await startTestServer();
    const admin = await privileged(server);
    const room = randomId();
    const other = randomId();
    admin.send(subHeader(admin.nonce, room));
    server.control.setPolicy({ announceRoom: room });
    const member = await TestClient.connect(server);
    await member.sub(room);
    await member.sub(other);
    const app = randomId();
    member.send({ v: 1, t: 'pub', room, id: app, kind: 'app', epoch: 0 }, new Uint8Array([1]));
    expect((await member.next('nack', (h) => h.id === app)).header.code).toBe('E_FORBIDDEN');
    const commit = randomId();
    member.commit(room, commit, 0, new Uint8Array([1]));
    await member.next('ack', (h) => h.id === commit);
    const elsewhere = randomId();
    member.send({ v: 1, t: 'pub', room: other, id: elsewhere, kind: 'app', epoch: 0 }, new Uint8Array([1]));
    await member.next('ack', (h) => h.id === elsewhere);
    const mine = randomId();
    admin.send({ v: 1, t: 'pub', room, id: mine, kind: 'app', epoch: 1 }, new Uint8Array([1]));
    await member.next('msg', (h) => h.id === mine);
    expect(admin.frames.some((f) => f.t === 'msg' && f.id === app)).toBe(false);
  });

  it('confine: members publish, join and admit only in rooms the privileged connection is in', async () => {
    server = await startTestServer();
    const admin = await privileged(server);
    const withAdmin = randomId();
    const without = randomId();
    admin.send(subHeader(admin.nonce, withAdmin));
    server.control.setPolicy({ confine: true });
    const a = await TestClient.connect(server);
    await a.sub(withAdmin);
    await a.sub(without);
    const ok = randomId();
    a.send({ v: 1, t: 'pub', room: withAdmin, id: ok, kind: 'app', epoch: 0 }, new Uint8Array([1]));
    await a.next('ack', (h) => h.id === ok);
    for (const h of [
      { v: 1, t: 'pub', room: without, id: randomId(), kind: 'app', epoch: 0 },
      { v: 1, t: 'join', room: without, id: randomId() },
      { v: 1, t: 'welcome', room: without, id: randomId(), to: randomId() },
    ] as const) {
      a.send(h, new Uint8Array([1]));
      expect((await a.next('nack', (n) => n.id === h.id)).header.code, h.t).toBe('E_FORBIDDEN');
    }
  });

  it('joinerHandle + disconnect close the connection that sent a join request, with E_KICKED', async () => {
    server = await startTestServer();
    const admin = await privileged(server);
    const room = randomId();
    admin.send(subHeader(admin.nonce, room));
    const joiner = await TestClient.connect(server);
    const bystander = await TestClient.connect(server);
    const joinId = randomId();
    joiner.send({ v: 1, t: 'join', room, id: joinId }, new Uint8Array([9]));
    await until(
      () => admin.frames.some((f) => f.t === 'join' && f.id === joinId),
      2_000,
      'the join request at the admin',
    );
    const handle = server.control.joinerHandle(room, joinId);
    expect(handle).toBeTypeOf('number');
    expect(server.control.joinerHandle(room, randomId())).toBeUndefined();
    expect(server.control.disconnect(handle!)).toBe(true);
    const err = await joiner.next('error');
    expect(err.header.code).toBe('E_KICKED');
    expect((await joiner.closed).code).toBe(1008);
    expect(server.control.disconnect(handle!)).toBe(false);
    // Others are untouched, and so is the admin.
    await bystander.sub(room);
    expect(admin.closed()).toBe(false);
  });
});

describe('control channel after close', () => {
  it('a privileged connection opened while the server closes is refused at once', async () => {
    const s = await startTestServer();
    await s.close();
    const closed = await new Promise<number>((resolve) => {
      s.control.openPrivileged({
        onOpen: () => resolve(-1),
        onFrame: () => undefined,
        onClose: (code) => resolve(code),
      });
    });
    expect(closed).toBe(1001);
  });
});
