/**
 * The invariants of the adversarial model, checked after every sequence, from what the clients
 * emitted (each event stamped with the wall-clock time it was emitted at) and from every byte
 * that crossed the relay:
 *
 * 1. No plaintext reaches a non-member.
 *    a. No text any member sent (markers included) occurs, as UTF-8, in any frame that crossed
 *       the relay, either way, on any connection, the attacker's included: the relay (and every
 *       link holder, which sees no more than the relay) only ever held ciphertext.
 *    b. A member removed (kicked, left, ghost) never shows a text whose sender had applied that
 *       removal (emitted `member-left`) before sending it (its echo).
 *    c. A member never shows a text sent (echoed) before any member had applied the commit that
 *       added it (its first `member-joined` anywhere).
 * 2. Nothing is shown twice: at each member, every message id and every text occurs at most once.
 * 3. Nothing from a non-member is shown: every message shown is a text of this room's log, with
 *    the sender name and fingerprint of the member that sent it (no splice from another room, no
 *    relabelled sender, no forgery); and none from a sender is shown later than
 *    `inFlightGraceMs` (+ scheduling slack) after the showing member applied that sender's removal.
 *    A direct message (`dm`) is shown by its recipient only (and echoed by its sender): no third
 *    member of the room the invitation went through ever shows it; its text crosses the relay
 *    encrypted like any (1a). (A direct room outlives its members' removal from the shared
 *    room, so 1b, 1c and 4 do not apply to it; a member removed from the shared room writes to
 *    its direct room, if it has one: its texts are then shown there, by that peer only.)
 * 4. A kick reported as done (`landed` true) means the kicked member reads nothing after it: 1b
 *    for it, and none of the markers of 5 (sent by members that all applied the kick) reaches it.
 * 5. Convergence (`converge`): once the adversary stopped, within 20 s every honest online member
 *    reports the same room code and epoch (`/code`) and the same members (`/users`, names and
 *    fingerprints), which include every online member and no member whose kick landed; the
 *    relay tells each of them that exactly the online members are subscribed with it (one
 *    cohort); and then a marker from each online member reaches every other one.
 */
import type { Ev, Honest } from './actors.js';
import { MODEL_TIMING, sleep, until } from './actors.js';
import type { Run } from './runner.js';

export type SentText = { text: string; from: string; fingerprint: string; echoAt: number | undefined };

/** Event-loop slack allowed on the in-flight grace (a message processed in time, emitted a little later). */
const GRACE_SLACK_MS = 150;
export const CONVERGE_MS = 20_000;
const MARKER_MS = 10_000;

type View = { code: string; epoch: number; users: string };

async function view(m: Honest): Promise<View | undefined> {
  const codes = m.of('room-code').length;
  const users = m.of('users').length;
  await m.client.command('/code');
  await m.client.command('/users');
  const c = m.of('room-code')[codes];
  const u = m.of('users')[users];
  if (!c || !u) return undefined;
  return {
    code: c.code,
    epoch: c.epoch,
    users: u.users
      .map((x) => `${x.name}:${x.fingerprint}`)
      .sort()
      .join(','),
  };
}

function disagreement(run: Run, online: Honest[], views: Array<View | undefined>): string | undefined {
  if (online.length === 0) return undefined;
  const first = views[0];
  for (const [i, v] of views.entries()) {
    const m = online[i]!;
    if (!v) return `${m.name} reports no room`;
    if (first && (v.code !== first.code || v.epoch !== first.epoch)) return `${m.name} at epoch ${v.epoch} (${v.code}), ${online[0]!.name} at ${first.epoch} (${first.code})`;
    if (first && v.users !== first.users) return `${m.name} sees members ${v.users}, ${online[0]!.name} sees ${first.users}`;
    for (const o of online) if (!v.users.includes(`${o.name}:${o.fingerprint ?? ''}`)) return `${m.name} does not list ${o.name}`;
    for (const k of run.kicked.keys()) if (v.users.split(',').some((u) => u.startsWith(`${k}:`))) return `${m.name} still lists ${k}, whose kick landed`;
    const count = m.line.presence.get(run.room);
    if (count !== online.length) return `the relay tells ${m.name} ${count ?? 'nothing'} subscribed, ${online.length} online`;
  }
  return undefined;
}

export async function converge(run: Run): Promise<{ violations: string[] }> {
  // Joiners still waiting get a moment to be admitted (or to give up, e.g. after a refusal).
  await until(() => run.members.every((m) => m.joined || m.gone), 3_000);
  const deadline = Date.now() + CONVERGE_MS;
  for (;;) {
    const online = run.online();
    const views = [];
    for (const m of online) views.push(await view(m));
    const problem = disagreement(run, run.online().length === online.length ? online : run.online(), views);
    if (problem === undefined && run.online().length === online.length) break;
    if (Date.now() > deadline) return { violations: [`5: no convergence within ${CONVERGE_MS} ms after the adversary stopped: ${problem ?? 'membership kept changing'}`] };
    await sleep(100);
  }
  const online = run.online();
  const markers = await Promise.all(online.map((m) => run.say(m, 'marker').then((text) => ({ from: m, text }))));
  const arrived = await until(() => markers.every(({ from, text }) => online.every((o) => o === from || o.events.some((e) => e.type === 'message' && e.text === text))), MARKER_MS);
  if (!arrived) {
    const missing = markers.flatMap(({ from, text }) => online.filter((o) => o !== from && !o.events.some((e) => e.type === 'message' && e.text === text)).map((o) => `${from.name}→${o.name}`));
    return { violations: [`5: markers not delivered within ${MARKER_MS} ms after convergence: ${missing.join(', ')}`] };
  }
  return { violations: [] };
}

export function checkInvariants(run: Run): string[] {
  const out: string[] = [];
  const byText = new Map(run.sent.map((s) => [s.text, s]));
  const direct = new Map(run.dms.map((s) => [s.text, s]));
  const byName = new Map(run.members.map((m) => [m.name, m]));
  // 1a: the relay only ever held ciphertext.
  for (const s of [...run.sent, ...run.dms]) if (run.log.contains(s.text)) out.push(`1a: the text "${s.text}" of ${s.from} crossed the relay in the clear`);
  for (const m of run.members) {
    const shown: Ev<'message'>[] = m.of('message');
    // 2: nothing shown twice.
    const ids = new Set<string>();
    const texts = new Set<string>();
    for (const e of shown) {
      if (ids.has(e.id)) out.push(`2: ${m.name} showed message id ${e.id} twice ("${e.text}")`);
      if (texts.has(e.text)) out.push(`2: ${m.name} showed "${e.text}" twice`);
      ids.add(e.id);
      texts.add(e.text);
    }
    // The room's creator was added by nobody.
    const addedAt = m === run.alice ? -Infinity : Math.min(...run.members.map((o) => o.sawJoin(m.name) ?? Infinity));
    for (const e of shown) {
      if (e.self === true) continue;
      const dm = direct.get(e.text);
      if (dm) {
        // 3: a direct message, shown by its recipient only, from its sender.
        if (dm.to !== m.name) out.push(`3: ${m.name} showed the direct message "${e.text}" from ${dm.from} to ${dm.to}`);
        if (dm.from !== e.from || dm.fingerprint !== e.fingerprint) out.push(`3: ${m.name} showed the direct message "${e.text}" as from ${e.from} (${e.fingerprint}); ${dm.from} (${dm.fingerprint}) sent it`);
        continue;
      }
      const s = byText.get(e.text);
      // A member's text after it lost the shared room goes to its direct room with the other,
      // if it has one (the client's current room falls back to it): shown there by that peer only.
      if (s && e.direct === true) {
        const pair = run.dms.some((d) => (d.from === s.from && d.to === m.name) || (d.from === m.name && d.to === s.from));
        if (!pair) out.push(`3: ${m.name} showed "${e.text}" from ${s.from} in a direct room, and no direct message ever went between them`);
        if (s.from !== e.from || s.fingerprint !== e.fingerprint) out.push(`3: ${m.name} showed "${e.text}" as from ${e.from} (${e.fingerprint}); ${s.from} (${s.fingerprint}) sent it`);
        continue;
      }
      // 3: only texts of this room, from the member that sent them.
      if (!s) {
        out.push(`3: ${m.name} showed "${e.text}" from ${e.from}, which no member of this room sent${run.fixture.foreignTexts.includes(e.text) ? ' (spliced from another room)' : ''}`);
        continue;
      }
      if (s.from !== e.from || s.fingerprint !== e.fingerprint) out.push(`3: ${m.name} showed "${e.text}" as from ${e.from} (${e.fingerprint}); ${s.from} (${s.fingerprint}) sent it`);
      const leftHere = m.sawLeave(s.from);
      if (leftHere !== undefined && e.at > leftHere + MODEL_TIMING.inFlightGraceMs + GRACE_SLACK_MS)
        out.push(`3: ${m.name} showed "${e.text}" from ${s.from} ${e.at - leftHere} ms after it applied ${s.from}'s removal`);
      const sender = byName.get(s.from);
      const removedAtSender = sender?.sawLeave(m.name);
      // 1b / 4: a removed member reads nothing its removers sent after the removal.
      if (s.echoAt !== undefined && removedAtSender !== undefined && removedAtSender < s.echoAt)
        out.push(`${run.kicked.has(m.name) ? '4' : '1b'}: ${m.name} read "${e.text}", which ${s.from} sent ${s.echoAt - removedAtSender} ms after it applied ${m.name}'s removal`);
      // 1c: a joiner reads nothing sent before it was added.
      if (s.echoAt !== undefined && s.echoAt < addedAt) out.push(`1c: ${m.name} read "${e.text}", sent ${addedAt - s.echoAt} ms before anyone added ${m.name}`);
    }
    // 4: the markers sent after convergence never reach a member whose kick landed.
    if (run.kicked.has(m.name)) for (const e of shown) if (e.text.startsWith('marker-')) out.push(`4: ${m.name}, whose kick landed, read the marker "${e.text}"`);
  }
  return out;
}
