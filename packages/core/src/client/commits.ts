/**
 * The commits a member makes for its room (docs/protocol.md "Joining a room", "Leaving"):
 *
 * - A join request is checked (invite proof under the room's secret; for a direct-message room,
 *   exactly the invited key; the name: NFKC, alphabet, no look-alike of a member) and becomes an
 *   intent, due after `rankDelayMs × rank` where rank is this member's place in leaf order: the
 *   lowest leaf acts at once, the others only if the joiner is still not in by then.
 * - A Remove proposal (someone leaving) becomes an intent likewise, ranked without the leavers.
 * - One commit at a time: `pub kind:commit`; on `ack` → `confirm`, then the Welcome goes to the
 *   joiner (`welcome` frame, envelope 0x01) and is remembered, so the same KeyPackage asking again gets the same Welcome; on `nack
 *   E_STALE_EPOCH` → `discard`: another commit won the epoch, and the intent is tried again if
 *   still needed once that commit is processed.
 * - A refused name gets envelope 0x02 + code instead of a commit.
 * - The room's message timer (`/ttl`) is set by a commit of its own (e2ee/timer.ts), tried again
 *   after a lost race until the room has the timer asked for.
 * All of it runs inside the room's queue.
 */
import type { JoinRequest, Member, PendingCommit } from '../e2ee/api.js';
import { SafehouseError, type ErrorCode } from '../protocol/errors.js';
import { BOUNDS } from './bounds.js';
import { pubHeader } from '../protocol/frames.js';
import { randomBytes, randomId, toBase64Url } from '../protocol/ids.js';
import { commitStatement } from '../protocol/relayAuth.js';
import type { TimerId } from './clock.js';
import { encodeWelcomeEnvelope, type WelcomeEnvelope } from './envelope.js';
import { checkNameAvailable, normalizeName } from './names.js';
import { bytesEqual } from '../protocol/bytes.js';
import { type Room } from './room.js';
import { openJoinRequest } from './joinRequests.js';

/** `secret`: the invite secret the request's proof is under (an old one only for a member's own re-admission). */
type AddIntent = { kind: 'add'; key: string; due: number; expires: number; joinId: string; request: JoinRequest; secret: Uint8Array };
/**
 * `ban`: the commit also changes the room's invite secret; `done`: told whether the removal
 * landed; `epoch`: a leave, proposed in that epoch (only there may a member who is not an admin
 * commit it: by reference to the proposal); `absent`: a removal for absence (docs/protocol.md
 * "Absent members"), dropped if the member is heard from meanwhile.
 */
type RemoveIntent = { kind: 'remove'; key: string; due: number; leaf: number; fingerprint: Uint8Array; ban?: boolean; keepLink?: boolean; absent?: boolean; done?: Array<(landed: boolean) => void>; epoch?: number };
type Intent = AddIntent | RemoveIntent;
const MAX_KEPT_WELCOMES = 64;
/** A Welcome sent, kept for its joiner asking again; `again`: the join id to answer once `WELCOME_RESEND_MS` passed. */
type KeptWelcome = { body: Uint8Array; sentAt: number; again?: string };
/** A kept Welcome is sent again for the same KeyPackage at most this often (later asks wait, coalesced). */
const WELCOME_RESEND_MS = 250;
/**
 * A member's re-admission under an invite secret the room used before must be made at most this
 * long before this device stopped using that secret (clock skew between devices; on the KeyPackage's clock).
 */
const OLD_SECRET_SKEW_MS = 2 * 60_000;
/** A commit waiting for the relay's verdict, the intents it serves, and the joiners it admits (`absent`: a removal for absence). */
type Pending = { commit: PendingCommit; keys: string[]; joins: Array<{ joinId: string; kp: string }>; absent?: boolean };
/** The key of the secret change that follows a kick or ban, among a commit's intents. */
const ROTATE = 'rotate';
/** The key of a timer change, among a commit's intents. */
const TIMER = 'timer';
/** Joiners admitted by one commit at most (the Welcome carries the tree and a proof each). */
const MAX_BATCH = 32;

export class Committer {
  readonly #room: Room;
  readonly #intents = new Map<string, Intent>();
  readonly #timers = new Set<TimerId>();
  /** Welcome envelopes (encoded) this member sent, by KeyPackage: a joiner that lost its Welcome gets it again. */
  readonly #welcomes = new Map<string, KeptWelcome>();
  #pending: Pending | undefined;
  #stopped = false;
  /** Join requests that opened under no invite secret of the room (no link, or garbage): dropped. */
  unopenedJoins = 0;
  /** After a batch was refused as a whole: admit one joiner per commit until one succeeds. */
  #solo = false;
  /** A kick or ban landed: the invite secret is to change in a commit of its own. */
  #rotate = false;
  /**
   * After an Add, the next commit waits until the joiner has subscribed (presence grew) or
   * `joinerSubscribeMs` passed: a commit made before the joiner subscribes never reaches it, and
   * it would be stuck in the old epoch.
   */
  #hold: { presence: number; until: number } | undefined;
  /** The message timer this member asked for (`/ttl`), and who waits to hear that it landed. */
  #timer: { ms: number; done: Array<(landed: boolean) => void> } | undefined;
  /**
   * Our commits refused at one epoch while no commit for it came: the relay or someone is
   * interfering (or we fell behind). We back off instead of re-committing at once, and say so.
   */
  #stale = { epoch: -1, count: 0, until: 0 };
  /** Wakes `pump` when the backoff ends (a timer may fire a little early: it is set again then). */
  #staleTimer: TimerId | undefined;
  /**
   * Members this admin kicked or banned, by fingerprint, until the invite secret changed: one
   * re-admitted meanwhile (after another member removed it as absent, with the old link) is
   * removed again before the secret changes.
   */
  readonly #evicted = new Set<string>();
  /** Told whether the secret change landed (a kick or ban of a member already gone). */
  #rotateWaiters: Array<(landed: boolean) => void> = [];

  constructor(room: Room) {
    this.#room = room;
  }

  stop(): void {
    this.#stopped = true;
    for (const f of this.#rotateWaiters.splice(0)) f(false);
    for (const f of this.#timer?.done ?? []) f(false);
    this.#timer = undefined;
    for (const i of this.#intents.values()) if (i.kind === 'remove') this.#settleRemoval(i, false);
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    this.#intents.clear();
    this.#welcomes.clear();
    this.#pending = undefined;
  }

  /** Join requests waiting to be admitted (bounded: BOUNDS.joinIntents). */
  get waitingJoins(): number {
    let n = 0;
    for (const i of this.#intents.values()) if (i.kind === 'add') n++;
    return n;
  }

  /** Rank of this member among `members` in leaf order, ignoring `except`. */
  #rank(except: ReadonlySet<number> = new Set()): number {
    const session = this.#room.session;
    if (!session) return 0;
    const me = session.myLeaf();
    return session
      .members()
      .map((m) => m.leaf)
      .filter((l) => !except.has(l))
      .sort((a, b) => a - b)
      .indexOf(me);
  }

  #wakeAt(at: number): void {
    this.#staleTimer?.cancel();
    const t = this.#room.ctx.clock.setTimeout(() => {
      this.#timers.delete(t);
      if (this.#staleTimer === t) this.#staleTimer = undefined;
      void this.#room.enqueue(() => this.pump());
    }, Math.max(1, at - this.#room.ctx.clock.now()));
    this.#staleTimer = t;
    this.#timers.add(t);
  }

  /** Runs `pump` in the room's queue after `ms`. */
  #later(ms: number): void {
    const t = this.#room.ctx.clock.setTimeout(() => {
      this.#timers.delete(t);
      void this.#room.enqueue(() => this.pump());
    }, ms);
    this.#timers.add(t);
  }

  #schedule(intent: Intent): void {
    if (this.#intents.has(intent.key)) return;
    this.#intents.set(intent.key, intent);
    this.#later(Math.max(0, intent.due - this.#room.ctx.clock.now()));
  }

  async onJoinRequest(joinId: string, body: Uint8Array): Promise<void> {
    const room = this.#room;
    const { e2ee, clock, timing } = room.ctx;
    if (!room.isMember() || this.#stopped) return;
    // Sealed under an invite secret (joinRequests.ts): one that opens under none the room knew is
    // not for us (no link, or garbage): counted, dropped in silence.
    const opened = await openJoinRequest(e2ee, room.id, body, room.secret, () => room.oldSecrets());
    if (!opened) {
      this.unopenedJoins++;
      return;
    }
    const { request } = opened;
    if (room.direct && !bytesEqual(request.fingerprint, room.direct.fingerprint)) return;
    // A member of the room asking under its own identity (a re-admission), if any.
    const member = room.members().find((m) => bytesEqual(m.fingerprint, request.fingerprint));
    let secret: Uint8Array;
    if (opened.kind === 'old') {
      // A link from before a ban: the joiner learns the link changed.
      // A member of the room asking to be re-admitted (it fell behind, and missed the commit
      // that changed the secret, so it cannot know the new one) proves itself by its identity:
      // the join request is signed by the key of a member who is in the room (`checkJoin`), made
      // after the secret changed (give or take clock skew), by a member not heard from since
      // (one that was has the new secret): a request of that member's captured before, which a
      // banned member could replay, is no use.
      const { old } = opened;
      if (member?.name !== request.name || request.issuedAt < old.retiredAt - OLD_SECRET_SKEW_MS || room.heardSince(request.fingerprint, old.retiredEpoch)) return this.#sendEnvelope(joinId, { kind: 'refused', code: 'E_LINK_REVOKED' });
      secret = old.secret;
    } else secret = opened.secret;
    // Only a genuine re-admission (a KeyPackage signed by a member's key, never in the room)
    // makes this device drop its own: a claim of a member's key is anyone's to make.
    if (member && room.session && (await room.session.checkJoin(request, secret)) === undefined) room.othersReadmission(request.fingerprint);
    const refusal = room.ctx.admit?.({ room: room.id, joinId, name: request.name, fingerprint: request.fingerprint });
    if (refusal) return this.#sendEnvelope(joinId, { kind: 'refused', code: refusal });
    const kp = toBase64Url(request.keyPackage);
    const welcome = this.#welcomes.get(kp);
    if (welcome) return this.#welcomeAgain(welcome, joinId);
    const now = clock.now();
    // Bounded (bounds.ts): one more joiner waits its turn with the relay (it asks again).
    if (!this.#intents.has(`add:${kp}`) && this.waitingJoins >= BOUNDS.joinIntents)
      return room.ctx.limit('joinIntents', `${BOUNDS.joinIntents} join requests already wait to be admitted to this room; another was not taken now (the joiner asks again)`, room.id);
    const due = now + timing.batchWindowMs + timing.rankDelayMs * this.#rank();
    this.#schedule({ kind: 'add', key: `add:${kp}`, due, expires: now + timing.joinRequestTtlMs, joinId, request, secret });
    // A newer request for the same KeyPackage (the joiner reconnected) replaces the join id.
    const existing = this.#intents.get(`add:${kp}`);
    if (existing?.kind === 'add') existing.joinId = joinId;
  }

  onRemoveProposal(removes: readonly Member[]): void {
    const room = this.#room;
    if (!room.isMember() || this.#stopped || removes.length === 0) return;
    const leaving = new Set(removes.map((m) => m.leaf));
    const due = room.ctx.clock.now() + room.ctx.timing.rankDelayMs * Math.max(0, this.#rank(leaving));
    const epoch = room.session?.epoch();
    for (const m of removes) {
      this.#schedule({ kind: 'remove', key: `remove:${m.leaf}`, due, leaf: m.leaf, fingerprint: m.fingerprint, epoch });
      // The same leave proposed again in a later epoch (the first was not committed in time).
      const existing = this.#intents.get(`remove:${m.leaf}`);
      if (existing?.kind === 'remove' && existing.epoch !== undefined) existing.epoch = epoch;
    }
  }

  /**
   * Removes `m` from the room at once (an admin's kick): a commit with an UpdatePath, like a
   * leave; with `ban`, the same commit changes the room's invite secret. Resolves true once the
   * relay accepted the commit and it was applied here (or `m` is gone already), false if it
   * could not be done (this device left the room meanwhile).
   */
  removeNow(m: Member, options: { ban?: boolean; keepLink?: boolean } = {}): Promise<boolean> {
    const room = this.#room;
    if (!room.isMember() || this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const key = `remove:${m.leaf}`;
      const existing = this.#intents.get(key);
      if (existing?.kind === 'remove' && bytesEqual(existing.fingerprint, m.fingerprint)) {
        existing.due = Math.min(existing.due, room.ctx.clock.now());
        existing.ban = existing.ban === true || options.ban === true;
        delete existing.absent; // now a kick
        if (options.keepLink !== true) delete existing.keepLink;
        (existing.done ??= []).push(resolve);
        this.#later(0);
        return;
      }
      this.#intents.delete(key);
      this.#schedule({ kind: 'remove', key, due: room.ctx.clock.now(), leaf: m.leaf, fingerprint: m.fingerprint, ...(options.ban ? { ban: true } : {}), ...(options.keepLink ? { keepLink: true } : {}), done: [resolve] });
    });
  }

  /**
   * An admin's kick or ban of a member no longer in the room (another member removed it as
   * absent): the invite secret changes all the same, so the link it kept admits nobody. Resolves
   * once that landed (true) or at once with `keepLink` (nothing to change).
   */
  revoke(fingerprint: Uint8Array, options: { keepLink?: boolean } = {}): Promise<boolean> {
    if (options.keepLink === true || this.#stopped || !this.#room.isMember()) return Promise.resolve(options.keepLink === true);
    return new Promise((resolve) => {
      this.#rotateFor(fingerprint, [resolve]);
      this.#later(0);
    });
  }

  /**
   * This device is a member again under a new leaf (re-admitted): what was pending is moot, and
   * the kicks and bans still wanted are aimed at the same members in the new tree (a member gone
   * meanwhile: the invite secret still changes, as for a ban that lost a race). Leaves and
   * removals for absence are left to the new tree's own signs of life and proposals.
   */
  rebase(members: readonly Member[]): void {
    const room = this.#room;
    this.#pending = undefined;
    this.#hold = undefined;
    this.#solo = false;
    this.#stale = { epoch: -1, count: 0, until: 0 };
    const now = room.ctx.clock.now();
    for (const i of [...this.#intents.values()]) {
      if (i.kind !== 'remove') continue;
      this.#intents.delete(i.key);
      if (!i.done || i.done.length === 0) continue;
      const m = members.find((x) => bytesEqual(x.fingerprint, i.fingerprint));
      if (m) this.#intents.set(`remove:${m.leaf}`, { ...i, key: `remove:${m.leaf}`, leaf: m.leaf, due: now });
      else if (i.keepLink !== true && room.isAdmin()) this.#rotateFor(i.fingerprint, i.done);
      else this.#settleRemoval(i, true);
    }
    this.#later(0);
  }

  /**
   * A kick or ban of a member out already: the invite secret changes, `done` is told once that
   * landed, and the member is removed again first if it is back meanwhile.
   */
  #rotateFor(fingerprint: Uint8Array, done: ReadonlyArray<(landed: boolean) => void>): void {
    this.#evicted.add(toBase64Url(fingerprint));
    this.#rotate = true;
    this.#rotateWaiters.push(...done);
  }

  /** Members absent for the whole grace (liveness.ts): removed in one commit, marked as for absence. */
  removeAbsent(members: readonly Member[]): void {
    const room = this.#room;
    if (!room.isMember() || this.#stopped) return;
    const now = room.ctx.clock.now();
    for (const m of members) {
      const key = `remove:${m.leaf}`;
      if (this.#intents.has(key)) continue;
      this.#schedule({ kind: 'remove', key, due: now, leaf: m.leaf, fingerprint: m.fingerprint, absent: true });
    }
  }

  /** Messages wait for the pending proposals (leaves): commit them now, whatever our rank. */
  commitProposalsNow(): void {
    const now = this.#room.ctx.clock.now();
    for (const i of this.#intents.values()) if (i.kind === 'remove' && i.due > now && !i.done) i.due = now;
    this.#later(0);
  }

  /**
   * Sets the room's message timer by a commit (`/ttl`); the latest ask wins. Resolves true once
   * the room has that timer (our commit, or another member's that set the same), false if this
   * room ends first.
   */
  setTimer(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.#stopped) return resolve(false);
      const waiting = this.#timer?.done ?? [];
      this.#timer = { ms, done: [...waiting, resolve] };
      void this.#room.enqueue(() => this.pump());
    });
  }

  #timerSettled(landed: boolean): void {
    for (const f of this.#timer?.done ?? []) f(landed);
    this.#timer = undefined;
  }

  #settleRemoval(intent: RemoveIntent, landed: boolean): void {
    for (const f of intent.done ?? []) f(landed);
    intent.done = undefined;
  }

  /** Acts on the intents that are due and still needed; one commit at a time. */
  async pump(): Promise<void> {
    const room = this.#room;
    const session = room.session;
    if (!session || !room.isMember() || this.#stopped || this.#pending) return;
    const now = room.ctx.clock.now();
    if (this.#stale.epoch !== session.epoch()) this.#stale = { epoch: session.epoch(), count: 0, until: 0 };
    if (now < this.#stale.until) return this.#wakeAt(this.#stale.until);
    // After an Add, the next commit waits (at most `joinerSubscribeMs`) until the newcomers have
    // subscribed: one whose epoch the room left must catch up from the relay's log, which is
    // slower and, for a crowd, many more round trips.
    if (this.#hold && room.presence < this.#hold.presence && now < this.#hold.until) return this.#wakeAt(this.#hold.until);
    this.#hold = undefined;
    const members = session.members();
    // A member this admin kicked or banned, back before the invite secret changed: out again first.
    if (this.#evicted.size > 0 && room.isAdmin())
      for (const m of members)
        if (this.#evicted.has(toBase64Url(m.fingerprint)) && !this.#intents.has(`remove:${m.leaf}`))
          this.#intents.set(`remove:${m.leaf}`, { kind: 'remove', key: `remove:${m.leaf}`, due: now, leaf: m.leaf, fingerprint: m.fingerprint, keepLink: true, done: [] });
    const removes: RemoveIntent[] = [];
    const adds: AddIntent[] = [];
    const names = members.map((m) => m.name);
    for (const intent of [...this.#intents.values()].sort((a, b) => a.due - b.due)) {
      if (intent.kind === 'remove') {
        const member = members.find((m) => m.leaf === intent.leaf && bytesEqual(m.fingerprint, intent.fingerprint));
        const still = member !== undefined;
        // Absent no more (heard from since): not removed.
        if (!still || intent.leaf === session.myLeaf() || (intent.absent === true && !room.isAbsent(member))) {
          this.#intents.delete(intent.key);
          // A kick or ban whose member another commit removed (as absent, say): the invite
          // secret still changes, and the removal is reported once that landed.
          if (!still && intent.done && intent.done.length > 0 && intent.keepLink !== true && room.isAdmin()) {
            this.#rotateFor(intent.fingerprint, intent.done);
            intent.done = undefined;
          } else this.#settleRemoval(intent, !still); // gone already (another commit removed it): done
        }
        // A leave whose proposal an earlier commit left out: the proposal died with its epoch.
        // Committed now, the removal would be ours, by value, which the room's policy lets only
        // an admin do: every other member would refuse it and the room would split.
        else if (intent.epoch !== undefined && intent.epoch !== session.epoch() && !intent.done && !room.isAdmin()) this.#intents.delete(intent.key);
        else if (intent.due <= now) removes.push(intent);
        continue;
      }
      // An identity already in the room asking again (it fell behind) is re-admitted in place of
      // its old leaf; `checkJoin` refuses a KeyPackage that was added before (a replay).
      if (intent.expires <= now) {
        this.#intents.delete(intent.key);
        continue;
      }
      if (intent.due > now || adds.length >= (this.#solo ? 1 : MAX_BATCH)) continue;
      // The name against the members and the joiners already in this batch. A re-admission keeps
      // its name: a member's, or one removed as absent lately coming back under the same name
      // (whoever took a look-alike of it meanwhile is the one flagged); the names of those are
      // reserved against other keys.
      const own = members.find((m) => bytesEqual(m.fingerprint, intent.request.fingerprint))?.name;
      if (own !== undefined && own !== intent.request.name) {
        // A member's own identity asking again under another name: a re-admission keeps its name.
        this.#intents.delete(intent.key);
        this.#sendEnvelope(intent.joinId, { kind: 'refused', code: 'E_NAME_TAKEN' });
        continue;
      }
      const lately = room.absentRemoved();
      const returning = own === undefined && lately.some((m) => bytesEqual(m.fingerprint, intent.request.fingerprint) && m.name === intent.request.name);
      const reserved = room.reservedNames().filter((m) => !bytesEqual(m.fingerprint, intent.request.fingerprint)).map((m) => m.name);
      const taken = own !== undefined ? names.filter((n) => n !== own) : returning ? [] : [...names, ...reserved];
      // A proof under an old secret admits only a member's own identity (see onJoinRequest).
      if (own === undefined && !bytesEqual(intent.secret, room.secret)) {
        this.#intents.delete(intent.key);
        this.#sendEnvelope(intent.joinId, { kind: 'refused', code: 'E_LINK_REVOKED' });
        continue;
      }
      const refusal = this.#checkName(intent.request.name, taken) ?? (await session.checkJoin(intent.request, intent.secret));
      if (refusal) {
        this.#intents.delete(intent.key);
        if (refusal !== 'E_INVITE_PROOF') this.#sendEnvelope(intent.joinId, { kind: 'refused', code: refusal });
        continue;
      }
      adds.push(intent);
      names.push(intent.request.name);
    }
    // Nothing due yet: wake up when the first intent is (a timer may have fired a little early,
    // before the clock reached the intent's due time; without this it would never be acted on).
    if (removes.length === 0 && adds.length === 0) {
      let next = Infinity;
      for (const i of this.#intents.values()) if (i.due > now) next = Math.min(next, i.due);
      if (next !== Infinity) this.#wakeAt(next);
    }
    // Removals first (a kick or a leave must not wait behind a crowd of joiners); then every
    // joiner that is due, in one commit (RFC 9420 §12.4: a commit may carry many Adds).
    // A kick or a leave goes alone; removals for absence go together, marked as such.
    const kicks = removes.filter((r) => r.absent !== true);
    // Removals for absence: at most as many as remain, never leaving this device alone (group.ts `absenceAllowed`).
    // Leaves proposed meanwhile go in by reference and count too.
    const most = Math.max(0, Math.min(Math.floor(members.length / 2), members.length - 2) - session.pendingProposals());
    const batch = kicks.length > 0 ? kicks : removes.slice(0, most);
    const absent = kicks.length === 0 && batch.length > 0;
    if (batch.length > 0)
      return this.#commit(
        () => session.remove(batch.map((r) => r.leaf), { absent }),
        batch.map((r) => r.key),
        [],
        absent,
      );
    // After a kick or ban, the invite secret changes in the next epoch, which the removed
    // member never enters (in the removal's own commit it could read the new one).
    if (this.#rotate && room.isAdmin())
      return this.#commit(() => session.changeSecret(randomBytes(32)), [ROTATE], []);
    const timer = this.#timer;
    if (timer && session.timer() === timer.ms) this.#timerSettled(true); // someone set the same meanwhile
    else if (timer) return this.#commit(() => session.setTimer(timer.ms), [TIMER], []);
    if (adds.length > 0)
      return this.#commit(
        () => session.add(adds.map((a) => a.request), adds.map((a) => a.secret)),
        adds.map((a) => a.key),
        adds.map((a) => ({ joinId: a.joinId, kp: a.key.slice(4) })),
      );
  }

  /**
   * Refused at our epoch, and no commit for it came: we fell behind (the relay's log brings us
   * up when we subscribe again), or the relay or someone is interfering. Back off (doubling,
   * jittered), ask to catch up, and after a few tries say so: never re-commit in a tight loop.
   */
  #refusedWithoutCommit(code: 'E_STALE_EPOCH' | 'E_NOT_MEMBER'): void {
    const room = this.#room;
    const { clock, timing } = room.ctx;
    const st = this.#stale;
    st.count += 1;
    const delay = Math.min(timing.staleBackoffCapMs, timing.staleBackoffMs * 2 ** (st.count - 1)) * (0.5 + room.ctx.random() / 2);
    st.until = clock.now() + delay;
    this.#wakeAt(st.until);
    void room.subscribe();
    if (st.count === 3)
      room.ctx.emit({
        type: 'error',
        code,
        message: `the relay keeps refusing this device's changes to ${room.roomName} (${code}) and no other change arrived: it may be interfering, or this device fell behind; retrying with backoff`,
        room: room.id,
      });
  }

  #checkName(name: string, taken: readonly string[]): 'E_NAME_INVALID' | 'E_NAME_TAKEN' | undefined {
    const n = normalizeName(name);
    if (!n.ok || n.name !== name) return 'E_NAME_INVALID';
    return checkNameAvailable(name, taken).ok ? undefined : 'E_NAME_TAKEN';
  }

  async #commit(make: () => Promise<PendingCommit>, keys: string[], joins: Pending['joins'], absent = false): Promise<void> {
    const room = this.#room;
    let commit: PendingCommit;
    try {
      commit = await make();
    } catch (e) {
      if (!(e instanceof SafehouseError)) throw e;
      // A batch the session refused as a whole (ts-mls found a KeyPackage invalid): try the
      // joiners one by one, to find which. A single request refused: drop it and go on.
      if (keys.includes(TIMER)) this.#timerSettled(false);
      else if (joins.length > 1) this.#solo = true;
      else {
        for (const k of keys) {
          const intent = this.#intents.get(k);
          if (intent?.kind === 'remove') this.#settleRemoval(intent, false);
          this.#intents.delete(k);
        }
        const only = joins[0];
        if (only && (e.code === 'E_NAME_TAKEN' || e.code === 'E_CLOCK_SKEW')) this.#sendEnvelope(only.joinId, { kind: 'refused', code: e.code });
      }
      return this.pump();
    }
    const pending: Pending = { commit, keys, joins, ...(absent ? { absent } : {}) };
    this.#pending = pending;
    const id = randomId();
    // The proof of membership the relay checks (docs/protocol.md "Membership authority"): signed
    // by this epoch's relay key, over the commit and the relay key of the epoch it opens.
    const key = await room.session!.relayKey();
    const next = toBase64Url(commit.nextRelayKey);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', commit.commit));
    const sig = toBase64Url(await key.sign(commitStatement(room.id, commit.epoch, digest, next)));
    if (this.#pending !== pending) return; // stopped meanwhile
    room.ctx.outbox.add({
      header: pubHeader({ room: room.id, id, kind: 'commit', epoch: commit.epoch, next, sig }),
      body: commit.commit,
      onAck: () => void room.enqueue(() => this.#settle(pending, true)),
      onNack: (code) => void room.enqueue(() => this.#settle(pending, false, code)),
    });
  }

  async #settle(p: Pending, accepted: boolean, code?: ErrorCode): Promise<void> {
    const room = this.#room;
    const session = room.session;
    if (this.#pending !== p) return;
    this.#pending = undefined;
    // Removed as absent meanwhile (no session until re-admitted): the verdict is moot; `rebase` follows.
    if (!session) return;
    if (!accepted) {
      session.discard(p.commit);
      // E_STALE_EPOCH: another commit won the epoch; it reaches us as a `msg` (already did, as
      // the relay sent it first), and `pump` tries again the intents still needed.
      if (code === 'E_STALE_EPOCH' || code === 'E_NOT_MEMBER') {
        if (session.epoch() !== p.commit.epoch) return this.pump();
        return this.#refusedWithoutCommit(code);
      }
      // Any other refusal (rate limit, not subscribed): try again later, not in a tight loop.
      const due = room.ctx.clock.now() + room.ctx.timing.rankDelayMs;
      for (const k of p.keys) {
        const intent = this.#intents.get(k);
        if (intent) intent.due = due;
      }
      this.#later(room.ctx.timing.rankDelayMs);
      return;
    }
    try {
      await session.confirm(p.commit);
    } catch {
      // The epoch moved on under the commit (we processed another one first): it is void.
      return this.pump();
    }
    for (const k of p.keys) {
      const intent = this.#intents.get(k);
      if (intent?.kind === 'remove') {
        // An admin's removal (not a leave committed for its author) changes the invite secret next.
        if (intent.done && intent.keepLink !== true) this.#rotate = true;
        this.#settleRemoval(intent, true);
      }
      this.#intents.delete(k);
    }
    if (p.keys.includes(TIMER) && this.#timer?.ms === session.timer()) this.#timerSettled(true);
    if (p.keys.includes(ROTATE)) {
      this.#rotate = false;
      this.#evicted.clear();
      for (const f of this.#rotateWaiters.splice(0)) f(true);
    }
    this.#solo = false;
    // One Welcome admits the whole batch: each joiner gets the same envelope. The room's timer
    // is in the group state it opens (e2ee/timer.ts).
    const welcome = p.joins.length > 0 ? p.commit.welcome : undefined;
    const body = welcome ? encodeWelcomeEnvelope({ kind: 'welcome', welcome }) : undefined;
    if (p.commit.added.length > 0) {
      const until = room.ctx.clock.now() + room.ctx.timing.joinerSubscribeMs;
      this.#hold = { presence: room.presence + p.commit.added.length, until };
      this.#later(room.ctx.timing.joinerSubscribeMs);
    }
    if (body)
      for (const j of p.joins) {
        this.#welcomes.set(j.kp, { body, sentAt: room.ctx.clock.now() });
        // A Welcome carries the ratchet tree (up to ~60 KiB): keep the latest few only. A joiner
        // asks again within the relay's 120 s join lifetime, long before 64 others joined (a batch shares one body).
        for (const k of this.#welcomes.keys()) if (this.#welcomes.size > MAX_KEPT_WELCOMES) this.#welcomes.delete(k);
        this.#sendBody(j.joinId, body);
      }
    await room.subscribe(); // the proof first: the events below may take a while
    await room.onOwnCommit(p.commit.added, p.commit.removed, p.commit.left, p.commit.policyChanged, p.absent === true, p.commit.timer);
    await room.afterEpochChange({ subscribed: true });
  }

  /**
   * The joiner of a kept Welcome asks again (it lost the Welcome, or reconnected). A relay
   * replaying its request must not make this device upload a Welcome (up to ~60 KiB) per replay:
   * at most one every `WELCOME_RESEND_MS`; asks meanwhile are answered once, after it, to the
   * latest join id.
   */
  #welcomeAgain(welcome: KeptWelcome, joinId: string): void {
    const { clock } = this.#room.ctx;
    const wait = welcome.sentAt + WELCOME_RESEND_MS - clock.now();
    if (wait <= 0) {
      welcome.sentAt = clock.now();
      return this.#sendBody(joinId, welcome.body);
    }
    const scheduled = welcome.again !== undefined;
    welcome.again = joinId;
    if (scheduled) return;
    const t = clock.setTimeout(() => {
      this.#timers.delete(t);
      const to = welcome.again;
      welcome.again = undefined;
      if (to === undefined || this.#stopped) return;
      welcome.sentAt = clock.now();
      this.#sendBody(to, welcome.body);
    }, wait);
    this.#timers.add(t);
  }

  #sendEnvelope(joinId: string, envelope: WelcomeEnvelope): void {
    this.#sendBody(joinId, encodeWelcomeEnvelope(envelope));
  }

  #sendBody(joinId: string, body: Uint8Array): void {
    const room = this.#room;
    room.ctx.outbox.add({
      header: { v: 1, t: 'welcome', room: room.id, id: randomId(), to: joinId },
      body,
    });
  }
}
