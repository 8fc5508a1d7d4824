/**
 * The frozen-room attack: a link holder that is no member (a raw WebSocket with an Ed25519 key of
 * its own) subscribes to the room claiming epoch 2^53-1, publishes a garbage commit at that
 * epoch, and disconnects. Then the room's members do a join and a leave. Measured over the
 * 10 s after the attack: commits seen by a member (its epoch, polled with `/code`), the CPU the
 * members and the relay used (a spin shows there even when no commit lands), and whether and
 * when the join and the leave landed.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  commitStatement,
  decodeRelayFrame,
  encodeFrame,
  parseInvite,
  randomId,
  relayUrl,
  subStatement,
  toBase64Url,
  type ClientHeader,
  type RelayHeader,
} from '@safehouse/core/protocol';
import { errorCodes, killAll, Member, now, procCpuMs, reapAll, Serve, sleep, type Ev } from './procs.js';

export type FrozenResult = {
  afterRestart: boolean;
  windowMs: number;
  /** What the relay answered the attacker (frame types and nack codes). */
  attackerSaw: string[];
  epochBefore?: number;
  epochAfterWindow?: number;
  /** Commits seen by the observing member within the window (epoch change). */
  commitsInWindow?: number;
  commitsPerSecond?: number;
  /** The observer's epoch samples (s after the attack, epoch). */
  epochTimeline: [number, number][];
  joinLandedMs?: number;
  leaveLandedMs?: number;
  /** CPU used in the window, as % of one core, per process (members and relay). */
  cpuPct: Record<string, number>;
  /** Max CPU % of one core over the members that were in the room before the attack. */
  maxMemberCpuPct?: number;
  sameRoomCode?: boolean;
  roomCodes: Record<string, string>;
  errors: Record<string, number>;
  bounded: boolean;
  failures: { name: string; lastError?: Ev; lastEvents: Ev[] }[];
};

/** A non-member link holder: hello, sub claiming `epoch` with its own key, a garbage commit, gone. */
async function attack(wsUrl: string, room: string, epoch: number): Promise<string[]> {
  const seen: string[] = [];
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  ws.on('error', () => undefined);
  let nonce = '';
  let presence = false;
  ws.on('message', (data: Buffer) => {
    const d = decodeRelayFrame(new Uint8Array(data));
    if (!d.ok) {
      seen.push(`undecodable: ${d.message}`);
      return;
    }
    const h: RelayHeader = d.header;
    seen.push(h.t === 'nack' ? `nack ${h.code}` : h.t === 'error' ? `error ${h.code}` : h.t);
    if (h.t === 'hello') nonce = h.nonce;
    if (h.t === 'presence') presence = true;
  });
  const send = (h: ClientHeader, body?: Uint8Array): void => ws.send(encodeFrame(h, body));
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      5_000,
      'the attacker to connect',
    );
    send({ v: 1, t: 'hello', session: randomId() });
    await until(() => nonce !== '', 5_000, "the relay's hello");
    const pair = generateKeyPairSync('ed25519');
    const key = toBase64Url(pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const sig = toBase64Url(sign(null, subStatement(nonce, room, epoch), pair.privateKey));
    send({ v: 1, t: 'sub', room, epoch, key, sig });
    // The garbage commit twice: bare, and signed as its own cohort's commit (over the claimed
    // epoch's key, announcing a next key), which is the one the relay could take.
    const garbage = new Uint8Array(64).fill(0x41);
    send({ v: 1, t: 'pub', room, id: randomId(), kind: 'commit', epoch }, garbage);
    const nextPair = generateKeyPairSync('ed25519');
    const next = toBase64Url(nextPair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const digest = createHash('sha256').update(garbage).digest();
    const commitSig = toBase64Url(sign(null, commitStatement(room, epoch, digest, next), pair.privateKey));
    send({ v: 1, t: 'pub', room, id: randomId(), kind: 'commit', epoch, next, sig: commitSig }, garbage);
    await until(() => presence, 5_000, 'the claim to be answered').catch(() => undefined);
    await sleep(200);
  } finally {
    ws.terminate();
  }
  return seen;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = now() + ms;
  while (!check()) {
    if (now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * `afterRestart`: the relay is SIGKILLed and started again on the same port and path just
 * before the attack, so the attacker's claim is the first the new relay hears for the room (it
 * holds no key yet), before the members reconnect.
 */
export async function frozen(opts: {
  windowMs: number;
  landDeadlineMs: number;
  afterRestart?: boolean;
}): Promise<FrozenResult> {
  let relay = new Serve({ name: 'frozen-relay' });
  const members: Member[] = [];
  try {
    let ready = await relay.whenReady();
    const a = new Member('alice', ready.invite);
    members.push(a);
    const inv = await a.waitFor((e) => e.type === 'invite', 30_000);
    if (!inv) throw new Error(`the founder created no room: ${JSON.stringify(a.summary(5))}`);
    const link = String(inv.link);
    const parsed = parseInvite(link);
    if (!parsed.ok || !parsed.invite.room) throw new Error(`not a room link: ${link}`);
    const room = parsed.invite.room.id;
    const b = new Member('bob', link);
    const c = new Member('carol', link);
    members.push(b, c);
    for (const m of [b, c])
      if (!(await m.waitFor((e) => e.type === 'joined', 30_000)))
        throw new Error(`${m.name} was not admitted: ${JSON.stringify(m.summary(5))}`);
    // Quiet: the three show the same room code (bob and carol may have come in one commit, so
    // bob need not print a `member-joined` for carol).
    const settled = now() + 15_000;
    let before: { code: string; epoch: number } | undefined;
    for (;;) {
      const got = await Promise.all([a, b, c].map((m) => m.code(5_000)));
      before = got[0];
      if (got.every((x) => x && x.code === got[0]?.code && x.epoch === got[0]?.epoch) || now() > settled) break;
      await sleep(250);
    }
    await sleep(500);

    let restartedAt = 0;
    if (opts.afterRestart) {
      restartedAt = now();
      const basePath = relay.basePath();
      relay.kill('SIGKILL');
      await relay.exited;
      relay = new Serve({ name: 'frozen-relay-restarted', port: ready.port, basePath });
      ready = await relay.whenReady();
    }
    const seen = await attack(relayUrl(parsed.invite.base), room, Number.MAX_SAFE_INTEGER);
    const t0 = now();
    const old = [a, b, c];
    const cpu0 = new Map<string, number | undefined>([
      ...old.map((m) => [m.name, m.cpuMs()] as const),
      ['relay', procCpuMs(ready.pid)],
    ]);

    // The observer polls its epoch every 500 ms through the window.
    const timeline: [number, number][] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const c = await a.code(2_000);
        if (c) timeline.push([Math.round((c.at - t0) / 100) / 10, c.epoch]);
        await sleep(500);
      }
    })();

    // With the relay restarted, the members reconnect first (a leave written while a member is
    // still reconnecting is another matter than this attack).
    if (opts.afterRestart)
      await Promise.all(
        old.map((m) =>
          m.waitFor((e) => e.type === 'connection' && e.state === 'connected' && e.at >= restartedAt, 15_000),
        ),
      );
    // A join, then a leave.
    const d = new Member('dave', link);
    members.push(d);
    const landDeadline = t0 + opts.landDeadlineMs;
    const dJoined = await d.waitFor((e) => e.type === 'joined', Math.max(0, landDeadline - now()));
    const seenJoin = dJoined
      ? await a.waitFor((e) => e.type === 'member-joined' && e.name === 'dave', Math.max(0, landDeadline - now()))
      : undefined;
    const joinLandedMs = dJoined && seenJoin ? Math.round(Math.max(dJoined.at, seenJoin.at) - t0) : undefined;
    const fromC = c.events.length;
    c.write('/leave');
    const cLeft = await c.waitFor((e) => e.type === 'left', Math.max(0, landDeadline - now()), fromC);
    const seenLeave = await a.waitFor(
      (e) => e.type === 'member-left' && e.name === 'carol',
      Math.max(0, landDeadline - now()),
    );
    const leaveLandedMs = cLeft && seenLeave ? Math.round(Math.max(cLeft.at, seenLeave.at) - t0) : undefined;

    const windowEnd = t0 + opts.windowMs;
    if (now() < windowEnd) await sleep(windowEnd - now());
    const cpu1 = new Map<string, number | undefined>([
      ...old.map((m) => [m.name, m.cpuMs()] as const),
      ['relay', procCpuMs(ready.pid)],
    ]);
    const span = now() - t0;
    polling = false;
    await poll;
    const cpuPct: Record<string, number> = {};
    for (const [k, v0] of cpu0) {
      const v1 = cpu1.get(k);
      if (v0 !== undefined && v1 !== undefined) cpuPct[k] = Math.round((1000 * (v1 - v0)) / span) / 10;
    }
    const inWindow = timeline.filter(([s]) => s * 1000 <= opts.windowMs);
    const epochAfter = inWindow.at(-1)?.[1];
    const commits = before && epochAfter !== undefined ? epochAfter - before.epoch : undefined;
    const remaining = [a, b, d].filter((m) => m.joinedAt !== undefined);
    const codes = await Promise.all(remaining.map((m) => m.code(5_000)));
    const roomCodes = Object.fromEntries(
      remaining.map((m, i) => [m.name, codes[i] ? `${codes[i]?.code} @ epoch ${codes[i]?.epoch}` : 'no answer']),
    );
    const distinct = new Set(Object.values(roomCodes));
    const memberCpu = old.filter((m) => m !== c).map((m) => cpuPct[m.name] ?? 0);
    const maxMemberCpuPct = memberCpu.length ? Math.max(...memberCpu) : undefined;
    // Bounded: the two expected commits (and a few more at most), the join and the leave
    // landed, and no member of the room before the attack kept a core busy.
    const bounded =
      commits !== undefined &&
      commits <= 4 &&
      joinLandedMs !== undefined &&
      leaveLandedMs !== undefined &&
      (maxMemberCpuPct ?? 100) < 50;
    const failures = [];
    if (joinLandedMs === undefined) failures.push(d.summary(5), a.summary(5));
    if (leaveLandedMs === undefined) failures.push(c.summary(5), a.summary(5));
    return {
      afterRestart: opts.afterRestart === true,
      windowMs: opts.windowMs,
      attackerSaw: seen,
      ...(before ? { epochBefore: before.epoch } : {}),
      ...(epochAfter !== undefined ? { epochAfterWindow: epochAfter } : {}),
      ...(commits !== undefined
        ? { commitsInWindow: commits, commitsPerSecond: commits / (opts.windowMs / 1000) }
        : {}),
      epochTimeline: timeline,
      ...(joinLandedMs !== undefined ? { joinLandedMs } : {}),
      ...(leaveLandedMs !== undefined ? { leaveLandedMs } : {}),
      cpuPct,
      ...(maxMemberCpuPct !== undefined ? { maxMemberCpuPct } : {}),
      sameRoomCode: distinct.size === 1 && !distinct.has('no answer'),
      roomCodes,
      errors: errorCodes(members),
      bounded,
      failures,
    };
  } finally {
    killAll();
    await reapAll();
  }
}
