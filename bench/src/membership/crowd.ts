/**
 * A crowd opens one link at once: a pure relay (`serve --no-admin`), a founder who creates the
 * room from the base link, then N-1 `join` processes started together. Measured: the time until
 * every one printed `joined`, then the time until a line written by the last one admitted is
 * received (a `message` event) by every other member. Commits: the room's epoch at the end
 * (`/code` prints it; the room starts at epoch 0 and every commit adds one).
 */
import { randomBytes } from 'node:crypto';
import {
  cpuShare,
  errorCodes,
  killAll,
  machineCpuMs,
  Member,
  median,
  now,
  procCpuMs,
  reapAll,
  Serve,
  sleep,
  type Ev,
} from './procs.js';

export type CrowdResult = {
  members: number;
  /** From starting the N-1 joiners to the last `joined`. */
  admittedMs?: number;
  admitted: number;
  /** From writing the line to the last member's `message` event. */
  heardMs?: number;
  heardBy: number;
  /** The room's epoch at the end, as the founder's `/code` says: the number of commits. */
  commits?: number;
  /** Every member that answered `/code` printed the same code and epoch. */
  sameRoomCode?: boolean;
  distinctCodes?: number;
  /** From spawn to a process's first event (its start-up on this machine). */
  startupMedianMs?: number;
  startupMaxMs?: number;
  /** From spawn to `joined`, per joiner. */
  joinMedianMs?: number;
  /** `member-joined` events at the founder (one per joiner admitted, however many commits). */
  founderSawJoins?: number;
  /**
   * While the joiners were being admitted: how busy the machine was (% of all its cores) and
   * how much of that was this crowd (its processes and the relay); the rest is other work.
   */
  cpuDuringAdmission?: { machineBusyPct: number; oursPct: number };
  /** CPU time one joiner process used by the end of admission (start-up, joining, commits), median. */
  cpuPerJoinerMedianMs?: number;
  errors: Record<string, number>;
  failures: { name: string; lastError?: Ev; lastEvents: Ev[]; exit?: unknown; stderr?: string }[];
  notHeardBy: string[];
  /** Who spoke, and when (s after the joiners were started). */
  lastSpeaker?: { name: string; sentAtS: number };
  /** The last events of (up to 10 of) the members that did not hear it. */
  notHeardDetail?: { name: string; joinedAtS: number; lastEvents: Ev[]; lastError?: Ev }[];
  targetMs: number;
};

export async function crowd(
  n: number,
  opts: { admitDeadlineMs: number; messageDeadlineMs: number; targetMs: number },
): Promise<CrowdResult> {
  const relay = new Serve({ name: 'crowd-relay' });
  const members: Member[] = [];
  const result: CrowdResult = {
    members: n,
    admitted: 0,
    heardBy: 0,
    errors: {},
    failures: [],
    notHeardBy: [],
    targetMs: opts.targetMs,
  };
  try {
    const ready = await relay.whenReady();
    const founder = new Member('founder', ready.invite);
    members.push(founder);
    const inv = await founder.waitFor((e) => e.type === 'invite', 30_000);
    if (!inv) throw new Error(`the founder created no room: ${JSON.stringify(founder.summary(5))}`);
    const link = String(inv.link);
    await sleep(500);

    const t0 = now();
    const m0 = machineCpuMs();
    const ours0 = (founder.cpuMs() ?? 0) + (procCpuMs(ready.pid) ?? 0);
    const guests = Array.from({ length: n - 1 }, (_, i) => new Member(`guest${i + 1}`, link));
    members.push(...guests);
    const deadline = t0 + opts.admitDeadlineMs;
    await Promise.all(
      guests.map((g) => g.waitFor((e) => e.type === 'joined' || e.type === 'fatal', Math.max(0, deadline - now()))),
    );
    const m1 = machineCpuMs();
    const perGuest = guests.map((g) => g.cpuMs()).filter((x): x is number => x !== undefined);
    const ours1 = (founder.cpuMs() ?? 0) + (procCpuMs(ready.pid) ?? 0) + perGuest.reduce((a, b) => a + b, 0);
    const share = cpuShare(m0, m1, ours1 - ours0);
    if (share) result.cpuDuringAdmission = share;
    result.cpuPerJoinerMedianMs = median(perGuest);
    const joined = guests.filter((g) => g.joinedAt !== undefined);
    result.admitted = joined.length + 1;
    if (joined.length === guests.length) result.admittedMs = Math.max(...joined.map((g) => g.joinedAt as number)) - t0;
    const firsts = guests
      .map((g) => g.events[0]?.at)
      .filter((x): x is number => x !== undefined)
      .map((x) => x - t0);
    result.startupMedianMs = median(firsts);
    result.startupMaxMs = firsts.length ? Math.max(...firsts) : undefined;
    result.joinMedianMs = median(joined.map((g) => (g.joinedAt as number) - g.startedAt));
    for (const g of guests) if (g.joinedAt === undefined) result.failures.push(g.summary(4));
    // (The room's own events: which commits added whom, as the founder saw them.)
    result.founderSawJoins = founder.of('member-joined').length;

    // The last one admitted says something; every other member must hear it.
    const inRoom = [founder, ...joined];
    const last = joined.reduce<Member | undefined>(
      (a, g) => (a === undefined || (g.joinedAt as number) > (a.joinedAt as number) ? g : a),
      undefined,
    );
    if (last) {
      const text = `crowd ${last.name} ${randomBytes(6).toString('hex')}`;
      const sentAt = now();
      last.write(text);
      const others = inRoom.filter((m) => m !== last);
      const got = await Promise.all(
        others.map((m) =>
          m.waitFor((e) => e.type === 'message' && e.text === text && e.self !== true, opts.messageDeadlineMs),
        ),
      );
      result.heardBy = got.filter(Boolean).length;
      result.notHeardBy = others.filter((_, i) => !got[i]).map((m) => m.name);
      result.lastSpeaker = { name: last.name, sentAtS: Math.round((sentAt - t0) / 100) / 10 };
      result.notHeardDetail = others
        .filter((_, i) => !got[i])
        .slice(0, 10)
        .map((m) => ({ ...m.summary(4), joinedAtS: Math.round(((m.joinedAt ?? NaN) - t0) / 100) / 10 }));
      if (result.heardBy === others.length) result.heardMs = Math.max(...got.map((e) => (e as Ev).at)) - sentAt;
    }

    // Commits, and one room state for all.
    const codes = await Promise.all(inRoom.map((m) => m.code(15_000)));
    const founderCode = codes[0];
    if (founderCode) result.commits = founderCode.epoch;
    const distinct = new Set(codes.filter(Boolean).map((c) => `${c?.code}@${c?.epoch}`));
    result.distinctCodes = distinct.size;
    result.sameRoomCode = distinct.size === 1 && codes.every(Boolean);
    result.errors = errorCodes(members);
    return result;
  } finally {
    killAll();
    await reapAll();
  }
}
