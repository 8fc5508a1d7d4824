/**
 * Test support (not built, not shipped): what an attacking member's own code does in the
 * membership tests. A transport the test can also write to, an E2ee that hands over the sessions
 * it makes, commits signed for the relay like any commit, the member list a client shows, and a
 * raw protocol client of its own (`Attacker`).
 */
import { createCipheriv, createHmac, generateKeyPairSync, hkdfSync, randomBytes, sign } from 'node:crypto';
import { WebSocket } from 'ws';
import type { Transport, TransportConnection } from '@safehouse/core/client';
import { createE2ee, type E2ee, type GroupSession, type PendingCommit } from '@safehouse/core/e2ee';
import {
  bytesEqual,
  commitStatement,
  decodeRelayFrame,
  encodeFrame,
  randomId,
  subStatement,
  toBase64Url,
  type ClientHeader,
  type RelayHeader,
} from '@safehouse/core/protocol';
import type { RunningServer } from '@safehouse/server';
import { createWsTransport } from '../transport/ws.js';
import { interceptTransport, until, type Interceptor, type Member } from './members.js';

/** A transport whose current connection the test can also write to, as a member's own code would. */
export function tapped(hooks: Interceptor): { transport: Transport; send(bytes: Uint8Array): void } {
  const inner = interceptTransport(createWsTransport(), hooks);
  let conn: TransportConnection | undefined;
  return { transport: { open: (url, handlers, options) => (conn = inner.open(url, handlers, options)) }, send: (b) => conn!.send(b) };
}

/** An E2ee that hands the test the sessions it joins (the member's own code, as an attacker runs it). */
export function capturing(): { e2ee: E2ee; sessions: GroupSession[] } {
  const real = createE2ee();
  const sessions: GroupSession[] = [];
  const e2ee: E2ee = Object.create(real) as E2ee;
  e2ee.joinFromWelcome = async (...a: Parameters<E2ee['joinFromWelcome']>) => {
    const o = await real.joinFromWelcome.call(real, ...a);
    if (o.ok) sessions.push(o.session);
    return o;
  };
  return { e2ee, sessions };
}

/** Publishes a commit made by `session`, signed for the relay like any commit; applies it there unless `confirm` is false. */
export async function publish(session: GroupSession, room: string, send: (b: Uint8Array) => void, p: PendingCommit, confirm = true): Promise<void> {
  const key = await session.relayKey();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', p.commit));
  const next = toBase64Url(p.nextRelayKey);
  const sig = toBase64Url(await key.sign(commitStatement(room, p.epoch, digest, next)));
  send(encodeFrame({ v: 1, t: 'pub', room, id: randomId(), kind: 'commit', epoch: p.epoch, next, sig }, p.commit));
  if (confirm) await session.confirm(p);
}

/** A commit "as absent" removing the members called `names`. */
export async function absentCommit(session: GroupSession, room: string, send: (b: Uint8Array) => void, names: string[]): Promise<void> {
  const leaves = session.members().filter((m) => names.includes(m.name)).map((m) => m.leaf);
  await publish(session, room, send, await session.remove(leaves, { absent: true }));
}

/** A refusal in a Welcome envelope (0x02 + code), as anyone subscribed can send one. */
export function refusal(code: string): Uint8Array {
  return Uint8Array.of(0x02, ...new TextEncoder().encode(code));
}

/** The members `m` lists (`/users`), sorted. */
export async function names(m: Member): Promise<string[]> {
  const before = m.of('users').length;
  await m.client.command('/users');
  await until(() => m.of('users').length > before, `the members at ${m.name}`);
  return m.of('users').at(-1)!.users.map((u) => u.name).sort();
}

/**
 * A join request named `name` whose KeyPackage claims `publicKey` (not signed by it: the
 * attacker's own KeyPackage with the key swapped in), with a valid invite proof under `secret`
 * (docs/protocol.md "Joining a room": HMAC under HKDF(secret) over the room and the KeyPackage),
 * sealed under `secret` as a `join` frame body (e2ee/joinSeal.ts, done here with node:crypto).
 */
export async function forgedJoinRequest(room: string, secret: Uint8Array, name: string, publicKey: Uint8Array): Promise<Uint8Array> {
  const e2ee = createE2ee();
  const pj = await e2ee.createJoinRequest(await e2ee.createIdentity(), name, room, secret);
  const own = e2ee.parseJoinRequest(pj.request)!;
  const forged = Buffer.from(own.keyPackage);
  Buffer.from(publicKey).copy(forged, forged.indexOf(Buffer.from(own.publicKey)));
  const request = Buffer.from(pj.request);
  Buffer.from(forged).copy(request, request.indexOf(Buffer.from(own.keyPackage)));
  const mac = Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), 'safehouse invite proof v1', 32));
  createHmac('sha256', mac).update(Buffer.concat([lp(Buffer.from(room)), lp(forged)])).digest().copy(request, request.length - 32);
  const body = sealJoinRequest(request, room, secret);
  // It passes every check before a commit's: it opens, a valid proof, the claimed name and key.
  const parsed = await e2ee.openJoinRequest(body, room, secret);
  if (!parsed || !bytesEqual(parsed.publicKey, publicKey)) throw new Error('forgedJoinRequest: the forgery does not pass the proof check');
  return body;
}

function lp(b: Uint8Array): Buffer {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(b.length);
  return Buffer.concat([n, b]);
}

/**
 * A `join` frame body as e2ee/joinSeal.ts makes it: version 2 ‖ nonce ‖ AES-256-GCM(HKDF(secret,
 * "safehouse join request seal v1"), aad = 2 ‖ lp(room)) of (u32 length ‖ request ‖ zeros to 1,024).
 */
export function sealJoinRequest(request: Uint8Array, room: string, secret: Uint8Array): Uint8Array {
  const key = Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), 'safehouse join request seal v1', 32));
  const padded = Buffer.alloc(Math.ceil((4 + request.length) / 1024) * 1024);
  padded.writeUInt32BE(request.length);
  Buffer.from(request).copy(padded, 4);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.concat([Buffer.of(2), lp(Buffer.from(room))]));
  const sealed = Buffer.concat([cipher.update(padded), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(Buffer.concat([Buffer.of(2), nonce, sealed]));
}

/** A link holder with a protocol client of its own: any frame, proofs under its own keys. */
export class Attacker {
  readonly frames: RelayHeader[] = [];
  /** The bodies of the `join` frames it got, by join id. */
  readonly bodies = new Map<string, Uint8Array>();
  nonce = '';
  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      const d = decodeRelayFrame(new Uint8Array(data));
      if (d.ok) {
        this.frames.push(d.header);
        if (d.header.t === 'hello') this.nonce = d.header.nonce;
        if (d.header.t === 'join') this.bodies.set(d.header.id, d.body);
      }
    });
  }
  static async connect(server: RunningServer): Promise<Attacker> {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}ws`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const a = new Attacker(ws);
    a.send({ v: 1, t: 'hello', session: randomId() });
    await until(() => a.nonce !== '', 'hello');
    return a;
  }
  send(h: ClientHeader, body?: Uint8Array): void {
    this.ws.send(encodeFrame(h, body));
  }
  /** `sub` claiming `epoch` with a key pair of its own (it is not a member of any epoch). */
  claim(room: string, epoch: number): void {
    const pair = generateKeyPairSync('ed25519');
    const key = toBase64Url(pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const sig = toBase64Url(sign(null, subStatement(this.nonce, room, epoch), pair.privateKey));
    this.send({ v: 1, t: 'sub', room, epoch, key, sig });
  }
  close(): void {
    this.ws.terminate();
  }
}

/**
 * An E2ee that hands the test what a member's own code could keep: the secrets of the groups it
 * creates (by room), its sessions, and every application message they decrypt (bytes and text).
 */
export function recording(): { e2ee: E2ee; secrets: Map<string, Uint8Array>; sessions: GroupSession[]; plaintexts: Uint8Array[]; texts: string[] } {
  const real = createE2ee();
  const secrets = new Map<string, Uint8Array>();
  const sessions: GroupSession[] = [];
  const plaintexts: Uint8Array[] = [];
  const texts: string[] = [];
  const watch = (s: GroupSession): GroupSession => {
    const receive = s.receive.bind(s);
    s.receive = async (...a) => {
      const r = await receive(...a);
      if (r.kind === 'message') {
        plaintexts.push(r.plaintext);
        texts.push(new TextDecoder().decode(r.plaintext));
      }
      return r;
    };
    sessions.push(s);
    return s;
  };
  const e2ee: E2ee = Object.create(real) as E2ee;
  e2ee.createGroup = async (...a: Parameters<E2ee['createGroup']>) => {
    if (a[3]?.secret) secrets.set(a[2], a[3].secret.slice());
    return watch(await real.createGroup.call(real, ...a));
  };
  e2ee.joinFromWelcome = async (...a: Parameters<E2ee['joinFromWelcome']>) => {
    const o = await real.joinFromWelcome.call(real, ...a);
    if (o.ok) watch(o.session);
    return o;
  };
  return { e2ee, secrets, sessions, plaintexts, texts };
}
