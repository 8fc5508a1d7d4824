/**
 * A churn soak: a room of 6 on a pure relay. Every `killEveryMs` one member is SIGKILLed and a
 * new one joins in its place; once a member `/leave`s and a new one joins; the relay is
 * SIGKILLed and started again twice on the same port and base path (the links stay valid);
 * every member writes a line about every 2 s, each with a unique id. Choices (victims, the
 * leaver, send jitter) come from a seeded PRNG.
 *
 * At the end: of the lines written by members alive at the end, how many reached exactly once
 * each member that was admitted before the line was written and is alive at the end (missing
 * and duplicate deliveries counted apart); whether every member alive shows the same room code
 * and epoch (`/code`); joiners that never got in; `/users` against the members alive (a member
 * killed stays in the room as a dead leaf unless something removes it).
 */
import { randomBytes } from 'node:crypto';
import { errorCodes, killAll, Member, median, now, reapAll, rng, Serve, sleep, type Ev } from './procs.js';

/** The clients' absence grace (core TIMING_DEFAULTS.absentAfterMs). */
const ABSENT_AFTER_MS = 90_000;

export type ChurnPlan = { durationMs: number; killEveryMs: number; members: number; settleMs: number; seed: number };

type Sent = { text: string; from: string; at: number };
type Expected = { text: string; from: Slot; to: Slot; sentAt: number };
type Tally = {
  expected: number;
  once: number;
  missing: number;
  dups: number;
  within2s: number;
  lostForAll: number;
  partly: number;
  missingSample: Missing[];
  duplicateSample: { text: string; to: string; times: number }[];
};
type Slot = {
  m: Member;
  fate: 'alive' | 'killed' | 'left';
  /** When it was SIGKILLed, or wrote `/leave`. */
  stoppedAt?: number;
  sent: Sent[];
  nextSendAt: number;
  seq: number;
  leaving: boolean;
};

export type Missing = {
  /** The writer at the end: alive, or killed / left at (s into the soak). */
  senderFate: string;
  /** Error events the sender printed within 15 s after writing the line (they name no line). */
  senderErrors: string[];
  /** How many of the line's expected recipients got it. */
  receivedBy: number;
  text: string;
  from: string;
  to: string;
  sentAtS: number;
  recipientJoinedBeforeSendMs: number;
};

export type ChurnResult = {
  seed: number;
  plan: ChurnPlan;
  schedule: { atS: number; what: string }[];
  /** Lines written by members alive at the end. */
  sentBySurvivors: number;
  /** (line, recipient) pairs expected: recipient alive at the end and admitted before the line. */
  expectedDeliveries: number;
  deliveredOnce: number;
  missing: number;
  duplicates: number;
  deliveredOncePct: number;
  /** Missing deliveries where the recipient had been admitted less than 2 s before the line was written. */
  missingWithin2sOfJoin: number;
  /** Lines (not pairs) that reached none of their expected recipients; lines that reached some. */
  linesLostForAll: number;
  linesPartly: number;
  missingSample: Missing[];
  duplicateSample: { text: string; to: string; times: number }[];
  /**
   * The same count over every writer's lines, those of members killed or gone later included,
   * for lines written at least 5 s before their writer was killed or left (a line written just
   * before a SIGKILL may never have left the process).
   */
  allWriters: {
    expectedDeliveries: number;
    deliveredOnce: number;
    missing: number;
    duplicates: number;
    deliveredOncePct: number;
    linesLostForAll: number;
    linesPartly: number;
    /** Missing deliveries of lines by members not alive at the end. */
    missingSample: Missing[];
  };
  alive: string[];
  sameRoomState: boolean;
  roomCodes: Record<string, string>;
  /** From the end of sending until every alive member printed the same `/code`. */
  convergedAfterMs?: number;
  /** Members that exited without being killed or leaving (a crash, a fatal error). */
  exitedOnTheirOwn: { name: string; startedAtS: number; exit?: unknown; lastError?: Ev; lastEvents: Ev[] }[];
  stuckJoiners: { name: string; startedAtS: number; lastError?: Ev; lastEvents: Ev[] }[];
  joinLatencies: { name: string; startedAtS: number; ms?: number }[];
  joinMedianMs?: number;
  joinMaxMs?: number;
  /** `/users` of each alive member: how many it lists, against how many are alive. */
  usersListed: Record<string, number>;
  usersAlive: number;
  /** Leaves of dead members still listed once the absence grace passed after the last death or restart. */
  deadLeaves: number;
  listedButDead: string[];
  /** The same, right after the room converged (before the grace could pass for the last ones killed). */
  deadLeavesAtEnd: number;
  /** When every alive member listed exactly the alive (ms after the end of sending), if it happened. */
  deadLeavesGoneAfterMs?: number;
  relayRestarts: { atS: number; downMs: number; readyAfterMs: number }[];
  reconnects: number;
  errors: Record<string, number>;
  leaver?: { name: string; leftAfterMs?: number; exit?: unknown };
  killed: string[];
};

const STEP_MS = 100;

export async function churn(plan: ChurnPlan): Promise<ChurnResult> {
  const rand = rng(plan.seed);
  const token = randomBytes(3).toString('hex');
  const slots: Slot[] = [];
  const all: Member[] = [];
  let relay = new Serve({ name: 'churn-relay-0' });
  const relays: Serve[] = [relay];
  let counter = 0;
  const schedule: { atS: number; what: string }[] = [];
  const restarts: ChurnResult['relayRestarts'] = [];
  const killed: string[] = [];
  let leaver: ChurnResult['leaver'];
  try {
    const ready = await relay.whenReady();
    const port = ready.port;
    const basePath = relay.basePath();
    const spawnMember = (link: string): Slot => {
      counter++;
      const m = new Member(`m${counter}`, link);
      all.push(m);
      const slot: Slot = { m, fate: 'alive', sent: [], nextSendAt: Infinity, seq: 0, leaving: false };
      slots.push(slot);
      return slot;
    };

    // The room: a founder, then the others at once.
    const founder = spawnMember(ready.invite);
    const inv = await founder.m.waitFor((e) => e.type === 'invite', 30_000);
    if (!inv) throw new Error(`the founder created no room: ${JSON.stringify(founder.m.summary(5))}`);
    const link = String(inv.link);
    for (let i = 1; i < plan.members; i++) spawnMember(link);
    await Promise.all(slots.map((s) => s.m.waitFor((e) => e.type === 'joined' || e.type === 'fatal', 60_000)));
    const notIn = slots.filter((s) => s.m.joinedAt === undefined);
    if (notIn.length > 0)
      throw new Error(
        `the first ${plan.members} did not all get in: ${JSON.stringify(notIn.map((s) => s.m.summary(4)))}`,
      );

    // The plan, in ms from the start of the soak.
    const D = plan.durationMs;
    type Step = { at: number; kind: 'kill' | 'leave' | 'restart' };
    const steps: Step[] = [];
    for (let t = plan.killEveryMs; t < D; t += plan.killEveryMs) steps.push({ at: t, kind: 'kill' });
    steps.push({ at: Math.round(D * 0.5), kind: 'leave' });
    steps.push({ at: Math.round(D * 0.3), kind: 'restart' }, { at: Math.round(D * 0.7), kind: 'restart' });
    steps.sort((a, b) => a.at - b.at);

    const start = now();
    const rel = (t: number): number => Math.round((t - start) / 100) / 10;
    for (const s of slots) s.nextSendAt = start + rand() * 2_000;
    const joinedAlive = (): Slot[] =>
      slots.filter((s) => s.fate === 'alive' && !s.leaving && s.m.joinedAt !== undefined);
    const pick = (): Slot | undefined => {
      const c = joinedAlive();
      return c.length ? c[Math.floor(rand() * c.length)] : undefined;
    };
    let restarting: Promise<void> | undefined;
    let leaving: Promise<void> | undefined;

    const restart = async (): Promise<void> => {
      const at = now();
      relay.kill('SIGKILL');
      await relay.exited;
      const down = now();
      await sleep(1_000);
      for (let attempt = 0; ; attempt++) {
        const r = new Serve({ port, basePath, name: `churn-relay-${restarts.length + 1}` });
        relays.push(r);
        try {
          await r.whenReady(15_000);
          relay = r;
          break;
        } catch (err) {
          if (attempt >= 4) throw err;
          await sleep(500);
        }
      }
      restarts.push({ atS: rel(at), downMs: Math.round(now() - down), readyAfterMs: Math.round(now() - at) });
    };

    let next = 0;
    for (;;) {
      const t = now();
      if (t - start >= D) break;
      while (next < steps.length && t - start >= (steps[next] as Step).at) {
        const step = steps[next++] as Step;
        if (step.kind === 'kill') {
          const v = pick();
          if (v) {
            v.m.kill('SIGKILL');
            v.fate = 'killed';
            v.stoppedAt = now();
            killed.push(v.m.name);
            const r = spawnMember(link);
            schedule.push({ atS: rel(t), what: `SIGKILL ${v.m.name}; ${r.m.name} joins` });
          }
        } else if (step.kind === 'leave') {
          const v = pick();
          if (v) {
            v.leaving = true;
            const r = spawnMember(link);
            schedule.push({ atS: rel(t), what: `${v.m.name} /leave; ${r.m.name} joins` });
            leaving = (async () => {
              const from = v.m.events.length;
              const sentLeave = now();
              v.stoppedAt = sentLeave;
              v.m.write('/leave');
              const left = await v.m.waitFor((e) => e.type === 'left', 20_000, from);
              v.m.endInput();
              await Promise.race([v.m.exited, sleep(10_000)]);
              v.m.kill('SIGKILL');
              v.fate = 'left';
              v.stoppedAt = now();
              leaver = {
                name: v.m.name,
                ...(left ? { leftAfterMs: Math.round(left.at - sentLeave) } : {}),
                ...(v.m.exit ? { exit: v.m.exit } : {}),
              };
            })();
          }
        } else if (!restarting) {
          schedule.push({ atS: rel(t), what: 'relay SIGKILL, restart on the same port and path' });
          restarting = restart().finally(() => (restarting = undefined));
        }
      }
      for (const s of slots) {
        if (s.fate !== 'alive' || s.leaving || s.m.joinedAt === undefined) continue;
        if (s.nextSendAt === Infinity) s.nextSendAt = t + rand() * 2_000;
        if (t >= s.nextSendAt) {
          s.seq++;
          const text = `soak ${token} ${s.m.name}#${s.seq}`;
          s.sent.push({ text, from: s.m.name, at: now() });
          s.m.write(text);
          s.nextSendAt = t + 1_500 + rand() * 1_000;
        }
      }
      await sleep(STEP_MS);
    }
    const end = now();
    await restarting;
    await leaving;

    // Settle: wait (bounded) for every expected delivery.
    const alive = slots.filter((s) => s.fate === 'alive' && s.m.alive && !s.leaving);
    // (line, recipient) pairs: recipients alive at the end, admitted before the line was written.
    const expectedFrom = (senders: Slot[], counts: (s: Slot, m: Sent) => boolean): Expected[] => {
      const out: Expected[] = [];
      for (const s of senders)
        for (const m of s.sent)
          if (counts(s, m))
            for (const r of alive)
              if (r !== s && r.m.joinedAt !== undefined && r.m.joinedAt < m.at)
                out.push({ text: m.text, from: s, to: r, sentAt: m.at });
      return out;
    };
    const expected = (): Expected[] => expectedFrom(alive, () => true);
    const countIn = (r: Slot): Map<string, number> => {
      const c = new Map<string, number>();
      for (const e of r.m.received()) if (typeof e.text === 'string') c.set(e.text, (c.get(e.text) ?? 0) + 1);
      return c;
    };
    const settleUntil = now() + plan.settleMs;
    for (;;) {
      const counts = new Map(alive.map((s) => [s, countIn(s)]));
      const allIn = expected().every((x) => (counts.get(x.to)?.get(x.text) ?? 0) >= 1);
      const joinersIn = slots.every((s) => s.fate !== 'alive' || s.m.joinedAt !== undefined || !s.m.alive);
      if ((allIn && joinersIn) || now() > settleUntil) break;
      await sleep(250);
    }

    // One room state for all alive members.
    let codes: Record<string, string> = {};
    let converged: number | undefined;
    const convergeUntil = now() + 20_000;
    for (;;) {
      const got = await Promise.all(alive.map((s) => s.m.code(8_000)));
      codes = Object.fromEntries(
        alive.map((s, i) => [s.m.name, got[i] ? `${got[i]?.code} @ epoch ${got[i]?.epoch}` : 'no answer']),
      );
      const distinct = new Set(Object.values(codes));
      if (distinct.size === 1 && !distinct.has('no answer')) {
        converged = Math.round(now() - end);
        break;
      }
      if (now() > convergeUntil) break;
      await sleep(2_000);
    }
    const aliveNames = new Set(alive.map((s) => s.m.name));
    const deadListed = (lists: (string[] | undefined)[]): number => Math.max(0, ...lists.map((l) => (l ?? []).length)) - alive.length;
    let lists = await Promise.all(alive.map((s) => s.m.users(8_000)));
    const deadLeavesAtEnd = deadListed(lists);
    // Dead members' leaves go once the absence grace (90 s, docs/protocol.md "Absent members")
    // passed after the last death or relay restart: wait that long, and a little more (bounded).
    const lastDeath = Math.max(start, ...slots.map((s) => (s.fate === 'alive' ? 0 : (s.stoppedAt ?? 0))), ...relays.map((r) => r.startedAt));
    const leavesUntil = lastDeath + ABSENT_AFTER_MS + 30_000;
    let deadLeavesGoneAfterMs: number | undefined;
    for (;;) {
      if (deadListed(lists) === 0 && lists.every((l) => l !== undefined)) {
        deadLeavesGoneAfterMs = Math.round(now() - end);
        break;
      }
      if (now() > leavesUntil) break;
      await sleep(5_000);
      lists = await Promise.all(alive.map((s) => s.m.users(8_000)));
    }
    const usersListed = Object.fromEntries(alive.map((s, i) => [s.m.name, lists[i]?.length ?? -1]));
    const listedButDead = [...new Set(lists.flatMap((l) => l ?? []).filter((n) => !aliveNames.has(n)))].sort();

    // Deliveries.
    const counts = new Map(alive.map((s) => [s, countIn(s)]));
    const tally = (exp: Expected[]): Tally => {
      const t: Tally = {
        expected: exp.length,
        once: 0,
        missing: 0,
        dups: 0,
        within2s: 0,
        lostForAll: 0,
        partly: 0,
        missingSample: [],
        duplicateSample: [],
      };
      const gotBy = new Map<string, { expected: number; got: number }>();
      for (const x of exp) {
        const g = gotBy.get(x.text) ?? { expected: 0, got: 0 };
        g.expected++;
        if ((counts.get(x.to)?.get(x.text) ?? 0) > 0) g.got++;
        gotBy.set(x.text, g);
      }
      t.lostForAll = [...gotBy.values()].filter((g) => g.got === 0).length;
      t.partly = [...gotBy.values()].filter((g) => g.got > 0 && g.got < g.expected).length;
      for (const x of exp) {
        const n = counts.get(x.to)?.get(x.text) ?? 0;
        if (n === 1) t.once++;
        else if (n === 0) {
          t.missing++;
          const before = Math.round(x.sentAt - (x.to.m.joinedAt as number));
          if (before < 2_000) t.within2s++;
          if (t.missingSample.length < 40)
            t.missingSample.push({
              text: x.text,
              from: x.from.m.name,
              to: x.to.m.name,
              sentAtS: rel(x.sentAt),
              recipientJoinedBeforeSendMs: before,
              receivedBy: gotBy.get(x.text)?.got ?? 0,
              senderErrors: x.from.m.events
                .filter(
                  (e) => (e.type === 'error' || e.type === 'fatal') && e.at >= x.sentAt && e.at <= x.sentAt + 15_000,
                )
                .map((e) => String(e.code)),
              senderFate:
                x.from.fate === 'alive' && !x.from.leaving
                  ? 'alive'
                  : x.from.fate === 'killed'
                    ? `killed at ${rel(x.from.stoppedAt ?? NaN)} s`
                    : `left at ${rel(x.from.stoppedAt ?? NaN)} s`,
            });
        } else {
          t.dups++;
          if (t.duplicateSample.length < 20) t.duplicateSample.push({ text: x.text, to: x.to.m.name, times: n });
        }
      }
      return t;
    };
    const survivors = tally(expected());
    const everyone = tally(
      expectedFrom(
        slots,
        (s, m) =>
          (s.fate === 'alive' && !s.leaving && s.m.alive) || (s.stoppedAt !== undefined && m.at <= s.stoppedAt - 5_000),
      ),
    );

    const joinLatencies = slots.map((s) => ({
      name: s.m.name,
      startedAtS: rel(s.m.startedAt),
      ...(s.m.joinedAt !== undefined ? { ms: Math.round(s.m.joinedAt - s.m.startedAt) } : {}),
    }));
    const lat = joinLatencies.map((j) => j.ms).filter((x): x is number => x !== undefined);
    const crashed = slots.filter((s) => s.fate === 'alive' && !s.leaving && !s.m.alive);
    const stuck = slots.filter((s) => s.m.joinedAt === undefined && s.fate !== 'killed');
    return {
      seed: plan.seed,
      plan,
      schedule,
      sentBySurvivors: alive.reduce((n, s) => n + s.sent.length, 0),
      expectedDeliveries: survivors.expected,
      deliveredOnce: survivors.once,
      missing: survivors.missing,
      duplicates: survivors.dups,
      deliveredOncePct: survivors.expected ? (100 * survivors.once) / survivors.expected : 0,
      missingWithin2sOfJoin: survivors.within2s,
      linesLostForAll: survivors.lostForAll,
      linesPartly: survivors.partly,
      missingSample: survivors.missingSample,
      duplicateSample: survivors.duplicateSample,
      allWriters: {
        expectedDeliveries: everyone.expected,
        deliveredOnce: everyone.once,
        missing: everyone.missing,
        duplicates: everyone.dups,
        deliveredOncePct: everyone.expected ? (100 * everyone.once) / everyone.expected : 0,
        linesLostForAll: everyone.lostForAll,
        linesPartly: everyone.partly,
        missingSample: everyone.missingSample.filter((m) => m.senderFate !== 'alive'),
      },
      alive: alive.map((s) => s.m.name),
      sameRoomState: converged !== undefined,
      roomCodes: codes,
      ...(converged !== undefined ? { convergedAfterMs: converged } : {}),
      exitedOnTheirOwn: crashed.map((s) => ({ ...s.m.summary(4), startedAtS: rel(s.m.startedAt) })),
      stuckJoiners: stuck.map((s) => ({ ...s.m.summary(4), startedAtS: rel(s.m.startedAt) })),
      joinLatencies,
      joinMedianMs: median(lat),
      joinMaxMs: lat.length ? Math.max(...lat) : undefined,
      usersListed,
      usersAlive: alive.length,
      deadLeaves: Math.max(0, ...Object.values(usersListed)) - alive.length,
      listedButDead,
      deadLeavesAtEnd,
      ...(deadLeavesGoneAfterMs !== undefined ? { deadLeavesGoneAfterMs } : {}),
      relayRestarts: restarts,
      reconnects: all.reduce(
        (n, m) => n + m.events.filter((e) => e.type === 'connection' && e.state === 'reconnecting').length,
        0,
      ),
      errors: errorCodes(all),
      ...(leaver ? { leaver } : {}),
      killed,
    };
  } finally {
    killAll();
    await reapAll();
  }
}
