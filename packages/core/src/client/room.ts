/**
 * One room around its MLS `GroupSession`:
 *   joining (waiting for a Welcome, see joiner.ts) → member → left
 *
 * Every MLS operation for the room runs through one queue (`enqueue`), so frames are processed
 * in arrival order and never concurrently (MLS state is sequential). Messages for an epoch not
 * reached yet are kept (bounded) and retried after each commit. Duplicates (a relay replay, a
 * resend after a relay restart) are recognised by the session (message id, consumed
 * generation) and dropped silently. Commits this member makes (admitting joiners, committing
 * leave proposals) are in commits.ts.
 */
import type { GroupSession, Member } from '../e2ee/api.js';
import { bytesEqual } from '../protocol/bytes.js';
import { roomCode } from '../e2ee/fingerprint.js';
import { pubHeader, type RelayHeader } from '../protocol/frames.js';
import { missingCaseError, SafehouseError } from '../protocol/errors.js';
import { randomId, toBase64Url } from '../protocol/ids.js';
import type { ErrorCode } from '../protocol/errors.js';
import { Committer } from './commits.js';
import { GapTracker } from './gaps.js';
import type { RoomContext } from './context.js';
import { decodeAppPayload, type AppPayload } from './envelope.js';
import { Joiner, type JoinTicket } from './joiner.js';
import { Absence } from './absence.js';
import { Readmission } from './readmission.js';
import { MembershipProof } from './proof.js';
import { refusedCommitEvent } from './refusal.js';
import { Roster } from './roster.js';
import { SecretHistory, type OldSecret } from './secrets.js';
import { RoomTimer } from './timer.js';
import { sendMessage, type SendHost } from './send.js';

type MsgHeader = Extract<RelayHeader, { t: 'msg' }>;
export type RoomState = 'joining' | 'member' | 'left';
export type SendResult = { ok: true; id: string } | { ok: false; code: 'E_MEMBER_BLOCKED' | 'E_TEXT_TOO_LONG' | 'E_NO_ROOM' | 'E_TIME_UNPROVEN' | 'E_LIMIT'; message: string };

/** For a direct-message room: the one peer it is for. */
export type DirectPeer = { fingerprint: Uint8Array; name: string };

/** Re-exported for joiner.ts; the helper itself is protocol/bytes.ts's. */

export class Room {
  readonly id: string;
  readonly ctx: RoomContext;
  /** The invite secret of the link this device was given or made (the room's policy may have moved on: `secret`). */
  readonly #linkSecret: Uint8Array;
  readonly direct: DirectPeer | undefined;
  roomName: string;
  state: RoomState;
  session: GroupSession | undefined;
  /** Subscribers the relay last reported. */
  presence = 0;
  /** Frames from the relay that MLS rejected (THREATS C.21: counted, dropped). */
  rejected = 0;
  /** The room's message timer (`/ttl`) as group state, and judging messages against it (timer.ts). */
  readonly #timer: RoomTimer;
  readonly #commits: Committer;
  readonly #joiner: Joiner | undefined;
  #queue: Promise<void> = Promise.resolve();
  #future: Array<{ header: MsgHeader; body: Uint8Array; epoch: number }> = [];
  readonly #gaps = new GapTracker();
  /** A commit for our epoch that could not be processed once (a second time: we go on without it). */
  #unprocessed: string | undefined;
  /** Proving each epoch to the relay, and the fork this device is in, if any (proof.ts). */
  readonly #proof: MembershipProof;
  /** Member events, names and key pins (roster.ts). */
  readonly #roster: Roster;
  /** Asking to be admitted again under this device's identity (readmission.ts). */
  readonly #readmission: Readmission;
  /** Messages written while a proposal waited to be committed (sent once it is). */
  readonly #held: Array<() => Promise<void>> = [];
  /** What a send needs of this room beyond its public face (send.ts). */
  readonly #sendHost: SendHost = {
    room: this,
    held: this.#held,
    away: () => this.#readmission.away,
    nextCounter: () => this.#gaps.next(),
    commitProposalsNow: () => this.#commits.commitProposalsNow(),
  };
  /** The invite secrets this room used, and the epoch each member was last heard from in (secrets.ts). */
  readonly #secrets = new SecretHistory();
  /** Signs of life, and removing the absent (absence.ts). */
  readonly #absence: Absence;
  /** This device asked to leave (a removal that comes now is that leave, whoever commits it). */
  #leaving = false;

  private constructor(ctx: RoomContext, id: string, roomName: string, secret: Uint8Array, direct: DirectPeer | undefined, ticket?: JoinTicket) {
    this.ctx = ctx;
    this.id = id;
    this.roomName = roomName;
    this.#linkSecret = secret;
    this.direct = direct;
    this.state = ticket ? 'joining' : 'member';
    this.#timer = new RoomTimer(this);
    this.#commits = new Committer(this);
    this.#joiner = ticket ? new Joiner(this, ticket) : undefined;
    this.#readmission = new Readmission(this);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the host reads the room's current fields
    const room = this;
    this.#absence = new Absence({
      ctx,
      id,
      get roomName() {
        return room.roomName;
      },
      get session() {
        return room.session;
      },
      active: () => this.isMember() && !this.#readmission.away,
      others: () => this.others(),
      enqueue: (job) => this.enqueue(job),
      removeAbsent: (members) => this.#commits.removeAbsent(members),
    });
    this.#proof = new MembershipProof(this);
    this.#roster = new Roster(this, this.#absence);
  }

  /** Creates a new room with this device as its only member. */
  static async create(ctx: RoomContext, id: string, roomName: string, secret: Uint8Array, direct?: DirectPeer): Promise<Room> {
    const room = new Room(ctx, id, roomName, secret, direct);
    room.session = await ctx.e2ee.createGroup(ctx.identity, ctx.name, id, { secret, ...(direct ? { direct: direct.fingerprint } : {}) });
    room.#noteSecret();
    room.#timer.note();
    await room.subscribe();
    room.#absence.start();
    return room;
  }

  /** Starts joining a room from its invite (a link, or a direct-message invitation). */
  static join(ctx: RoomContext, ticket: JoinTicket, roomName: string, direct?: DirectPeer): Room {
    const room = new Room(ctx, ticket.room, roomName, ticket.secret, direct, ticket);
    void room.enqueue(() => room.#joiner?.start() ?? Promise.resolve());
    return room;
  }

  /** Runs `job` after every job queued before it; a job that throws is reported, not fatal. */
  enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(job).catch((cause: unknown) => {
      // Our own errors carry a code and a sentence without secrets; anything else is a bug.
      const known = cause instanceof SafehouseError;
      const message = known ? cause.message : 'an internal error happened in this room';
      this.ctx.emit({ type: 'error', code: known ? cause.code : 'E_INTERNAL', message, room: this.id });
    });
    this.#queue = run;
    return run;
  }

  /** The invite secret join proofs are checked against: the room policy's (a ban changes it), else the link's. */
  get secret(): Uint8Array {
    return this.session?.policy()?.secret ?? this.#linkSecret;
  }

  /** Secrets this room used before (a ban changed them): a proof under one is from an old link (secrets.ts). */
  oldSecrets(): OldSecret[] {
    return this.#secrets.old(this.secret, this.session?.epoch() ?? 0);
  }

  /** Whether the member with this fingerprint was heard from in `epoch` or later (it has that epoch's state). */
  heardSince(fingerprint: Uint8Array, epoch: number): boolean {
    return this.#secrets.heardSince(fingerprint, epoch);
  }

  #heard(m: Member, epoch: number): void {
    this.#absence.heard(m);
    this.#secrets.heard(m.fingerprint, epoch);
  }

  /** The room's secret now, if it is new to this device. */
  #noteSecret(): void {
    this.#secrets.note(this.secret, this.session?.epoch() ?? 0);
  }

  /** Whether this device may remove others here (the room's policy names it an admin; a room without one: yes). */
  isAdmin(): boolean {
    const policy = this.session?.policy();
    return policy === undefined || policy.admins.some((a) => bytesEqual(a, this.ctx.identity.fingerprint));
  }

  isMember(): boolean {
    return this.state === 'member' && this.session !== undefined;
  }

  /** Removed as absent while online, and asking to be re-admitted: messages written now wait for it. */
  readmitting(): boolean {
    return this.state === 'member' && this.#readmission.away;
  }

  members(): readonly Member[] {
    return this.session?.members() ?? [];
  }

  /** Others in the room (without this device). */
  others(): Member[] {
    const s = this.session;
    if (!s) return [];
    const me = s.myLeaf();
    return s.members().filter((m) => m.leaf !== me);
  }

  /**
   * Removes another member by a commit (a server admin's `/kick`; `ban` also changes the
   * invite secret). Resolves true once the removal landed (accepted by the relay, applied here).
   */
  removeMember(m: Member, options: { ban?: boolean; keepLink?: boolean } = {}): Promise<boolean> {
    if (m.leaf === this.session?.myLeaf()) return Promise.resolve(false);
    return this.#commits.removeNow(m, options);
  }

  /** Members removed as absent lately (not back since). */
  absentRemoved(): readonly Member[] {
    return this.#absence.removedLately();
  }

  /** Names held for members removed as absent in the last minutes, against other keys. */
  reservedNames(): readonly Member[] {
    return this.#absence.reservedNames();
  }

  /**
   * An admin's kick or ban of a member removed as absent: it is no longer in the room, but the
   * link it kept would re-admit it; the invite secret changes (resolves true once that landed).
   */
  revokeAbsent(m: Member, options: { keepLink?: boolean } = {}): Promise<boolean> {
    return this.#commits.revoke(m.fingerprint, options);
  }

  /** How much this room keeps of what others sent, and of what was written meanwhile (bounds.ts; tests check it). */
  keptSizes(): { future: number; held: number; joins: number } {
    return { future: this.#future.length, held: this.#held.length, joins: this.#commits.waitingJoins };
  }

  // ---- relay → room ------------------------------------------------------------------------

  /** After a (re)connect, once the outbox resent its frames: a joiner asks again. */
  rejoin(): void {
    if (this.state === 'joining') this.#joiner?.resend();
    this.#readmission.resend();
    this.#absence.listening();
  }

  /** Whether `m` is (still) absent (the committer drops a removal for absence otherwise). */
  isAbsent(m: Member): boolean {
    return this.#absence.isAbsent(m);
  }

  /** This device published something the others will hear (no sign of life needed for a while). */
  noteSent(): void {
    this.#absence.sent();
  }

  /**
   * Another member removed this device as absent, while it is online (its signs of life did not
   * reach them: a network fault, or a relay dropping them): ask to be re-admitted under its own
   * identity, at once; messages written meanwhile wait and go after.
   */
  async #rejoinAfterAbsence(session: GroupSession, by: Member | undefined, why: 'absent' | 'replaced' = 'absent'): Promise<void> {
    const readmission = this.#readmission.afterAbsence(session, by, () => this.#held.splice(0).length, why);
    this.#leaveSession(session);
    await readmission;
  }

  /** Out of the group until re-admitted: what was written meanwhile waits in `#held`. */
  #leaveSession(session: GroupSession): void {
    this.session = undefined;
    this.#future = [];
    this.#proof.fork = undefined;
    session.dispose();
  }

  /** This device answers the re-admission of `fingerprint`, a member of its group: its own attempt while alone may give way (readmission.ts). */
  othersReadmission(fingerprint: Uint8Array): void {
    this.#readmission.yieldTo(fingerprint);
  }

  /** Proves the current epoch to the relay (proof.ts); `afresh`: the relay sends the commits since it again. */
  subscribe(options: { afresh?: boolean } = {}): Promise<void> {
    return this.#proof.subscribe(options);
  }

  /** The relay refused our `sub` (proof.ts): subscribe again, backing off. */
  onSubRefused(code: ErrorCode, epoch: number | undefined): void {
    this.#proof.refused(code, epoch);
  }

  /** The relay says how many connections are subscribed (a joiner that subscribed shows here). */
  onPresence(count: number, others = 0): void {
    this.presence = count;
    this.#proof.onPresence();
    this.#absence.othersElsewhere(others);
    if (!this.isMember()) return;
    void this.enqueue(() => this.#commits.pump());
    this.ctx.onMembersChanged(this.id);
    this.#readmission.onPresence(count, others);
  }

  /** The re-admission's Welcome came: this device is a member again, in the room's current epoch. */
  async readmitted(session: GroupSession): Promise<void> {
    const old = this.session;
    const away = this.#readmission.done();
    this.session = session;
    // Back under a new leaf: the committer's pending work is aimed anew; members removed while
    // this device was out (as absent, say) may still be kicked or banned by an admin.
    this.#commits.rebase(session.members());
    this.#noteSecret(); // an admin's ban this device missed may have changed it
    this.#timer.joined(true); // and a timer set meanwhile is told
    if (away) this.#absence.membersChanged([], away.before.filter((m) => !session.members().some((x) => bytesEqual(x.fingerprint, m.fingerprint))), { reserve: false });
    this.#future = [];
    this.#proof.fork = undefined;
    old?.dispose();
    for (const m of session.members()) await this.observe(m);
    this.#absence.start();
    await this.subscribe();
    for (const publish of this.#held.splice(0)) await publish();
    this.ctx.emit({ type: 'info', message: `re-admitted to ${this.roomName}: this device is up to date again`, room: this.id });
    this.ctx.onMembersChanged(this.id);
  }

  onMsg(header: MsgHeader, body: Uint8Array): void {
    const copy = body.slice(); // the frame buffer is not ours to keep
    void this.enqueue(() => this.#receive(header, copy));
  }

  onJoinRequest(joinId: string, body: Uint8Array): void {
    const copy = body.slice();
    void this.enqueue(() => this.#commits.onJoinRequest(joinId, copy));
  }

  onWelcome(body: Uint8Array): void {
    const copy = body.slice();
    void this.enqueue(() => (this.#readmission.joiner ?? this.#joiner)?.onWelcome(copy) ?? Promise.resolve());
  }

  async #receive(header: MsgHeader, body: Uint8Array, retry = false): Promise<void> {
    const session = this.session;
    if (!session || this.state !== 'member') return;
    const r = await session.receive(body);
    switch (r.kind) {
      case 'message':
        if (r.epoch < session.epoch() && !this.#roster.stillSending(r.sender)) {
          this.rejected++; // a removed member writing on in an epoch it was removed from
          return;
        }
        this.#heard(r.sender, r.epoch);
        return this.#onMessage(r.aad.id, r.sender, r.plaintext, r.aad.expiresAt, header.kind, r.epoch);
      case 'commit':
        if (r.by) this.#heard(r.by, r.epoch);
        // The proof of the new epoch first: the events below may take a while (a fingerprint
        // for each member added), and the relay and the next commit wait for it.
        await this.subscribe();
        if (r.absent) this.#absence.disputed(r.removed.filter((m) => !r.left.some((l) => l.leaf === m.leaf)), r.by?.name);
        await this.#roster.changed(r.added, r.removed, r.updated, { left: r.left, by: r.by?.name, ...(r.absent ? { absent: true } : {}) });
        if (r.policyChanged) this.#onPolicyChanged(r.by?.name);
        if (r.timer !== undefined) this.#timer.changed(r.timer, r.by?.name ?? 'a member', false);
        await this.afterEpochChange({ subscribed: true });
        return;
      case 'refused':
        if (r.by) this.#heard(r.by, r.epoch);
        // Every member refuses it alike; the relay took it, so together we go on from the epoch
        // before it, in a fork of the room that only members of that epoch can open.
        this.ctx.emit(refusedCommitEvent(this, r.by, r.credentialOf));
        this.#proof.fork = { epoch: r.epoch, commit: header.id };
        await this.subscribe();
        return;
      case 'proposal':
        this.#commits.onRemoveProposal(r.removes);
        return;
      case 'removed':
        if (r.replaced && !this.#leaving) {
          // Our own re-admission landing (its Welcome follows), or a replay of a join request
          // of ours that someone kept: then this device holds no keys for its leaf; ask again.
          if (this.#readmission.joiner?.owns(r.replaced)) {
            this.#readmission.nowAway(session, r.by, () => this.#held.splice(0).length);
            this.#leaveSession(session);
            return;
          }
          return this.#rejoinAfterAbsence(session, r.by, 'replaced');
        }
        if (r.absent && !this.#leaving) return this.#rejoinAfterAbsence(session, r.by);
        this.close('removed', r.by?.name);
        return;
      case 'duplicate':
        return;
      case 'future-epoch':
        // The same bytes again only: the frame id is the sender's choice (another member may reuse it).
        if (!retry && this.#future.some((f) => bytesEqual(f.body, body))) return;
        this.#future.push({ header, body, epoch: r.epoch });
        if (this.#future.length > this.ctx.timing.maxFutureMessages) this.#future.shift();
        return;
      case 'rejected':
        this.rejected++;
        // The relay took this commit for our epoch, and it cannot be processed (garbage signed by a
        // member): the room would be frozen behind it. Go on without it, like a refused commit.
        if (header.kind === 'commit' && header.epoch === session.epoch() && this.#proof.fork?.epoch !== session.epoch()) {
          // First, we may lack what it refers to (a proposal the relay did not give us): subscribe
          // afresh, and the relay's log brings the commit again, after the proposals of its epoch.
          if (this.#unprocessed !== header.id) {
            this.#unprocessed = header.id;
            await this.subscribe({ afresh: true });
            return;
          }
          this.ctx.emit({ type: 'error', code: 'E_FORBIDDEN', message: `a member sent ${this.roomName} a change that cannot be processed; the room goes on without it`, room: this.id });
          this.#proof.fork = { epoch: session.epoch(), commit: header.id };
          await this.subscribe();
        }
        return;
      default:
        throw missingCaseError(r);
    }
  }

  /** `id` is the message id from the authenticated data (the frame's id is the relay's word). */
  async #onMessage(id: string, sender: Member, plaintext: Uint8Array, expiresAt: number | undefined, kind: string, epoch: number): Promise<void> {
    const payload = decodeAppPayload(plaintext);
    // A room policy (`serve --disable-all`) refuses `app` and passes `dm` (direct-message
    // invitations), commits and proposals: a message under any label but `app` (an invitation:
    // `dm`) is someone dodging the policy.
    if (!payload || (kind !== 'app' && kind !== 'dm' && kind !== 'alive') || (kind === 'dm') !== (payload.t === 'dm') || (kind === 'alive') !== (payload.t === 'alive')) {
      this.rejected++;
      return;
    }
    switch (payload.t) {
      case 'alive':
        return; // counted as heard from, by `#receive`
      case 'text':
      case 'me': {
        const gap = this.#gaps.seen(toBase64Url(sender.fingerprint), payload.n);
        // In a timed room, a message without a valid expiry is flagged, never shown as permanent silently.
        const judged = this.#timer.judge(sender, epoch, expiresAt);
        this.ctx.emit({
          type: 'message',
          id,
          room: this.id,
          roomName: this.roomName,
          from: sender.name,
          fingerprint: await this.ctx.fingerprint(sender.fingerprint),
          text: payload.text,
          ts: this.ctx.clock.now(),
          direct: this.direct !== undefined,
          ...(payload.t === 'me' ? { action: true } : {}),
          ...(gap > 0 ? { gap } : {}),
          ...judged,
        });
        return;
      }
      case 'dm':
        await this.ctx.onDirectInvite(this, sender, payload);
        return;
      default:
        throw missingCaseError(payload);
    }
  }

  /** After our commit was confirmed or another member's commit processed (`subscribed`: the new epoch is proven already). */
  async afterEpochChange(options: { subscribed?: boolean } = {}): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.#timer.note();
    this.ctx.onRoomChanged(this.id);
    if (options.subscribed !== true) await this.subscribe();
    // Messages held while a proposal waited go now, in the order they were written.
    if (session.pendingProposals() === 0) for (const publish of this.#held.splice(0)) await publish();
    // Retry what waited for this epoch, in arrival order; the rest keeps waiting.
    const epoch = session.epoch();
    const ready = this.#future.filter((f) => f.epoch <= epoch);
    this.#future = this.#future.filter((f) => f.epoch > epoch);
    for (const f of ready) await this.#receive(f.header, f.body, true);
    await this.#commits.pump();
  }

  /** A ban changed the room's invite secret: old links admit nobody; ours is new. */
  #onPolicyChanged(by: string | undefined): void {
    this.#noteSecret();
    this.ctx.onInviteChanged(this.id);
    this.ctx.emit({ type: 'info', message: `the invite link of ${this.roomName} changed${by ? ` (${by} removed someone)` : ''}: old links no longer admit anyone; /invite shows the new one`, room: this.id });
  }

  /** Called by the committer once our own commit is confirmed; `left`: the removed who asked to leave. */
  async onOwnCommit(added: readonly Member[], removed: readonly Member[], left: readonly Member[], policyChanged: boolean, absent = false, timer?: number): Promise<void> {
    this.noteSent();
    await this.#roster.changed(added, removed, [], { left, by: this.ctx.name, absent });
    if (policyChanged) this.#onPolicyChanged(this.ctx.name);
    if (timer !== undefined) this.#timer.changed(timer, this.ctx.name, true);
  }

  /** The room's message timer now (ms; 0: messages do not expire). */
  get ttlMs(): number {
    return this.#timer.ms;
  }

  /**
   * Sets the room's message timer (`/ttl`) by a commit (docs/protocol.md "Timed messages");
   * resolves true once it landed (the `ttl` event is emitted then, here and at every member).
   */
  setTimer(ms: number): Promise<boolean> {
    if (!this.isMember()) return Promise.resolve(false);
    return this.#commits.setTimer(ms);
  }

  /** Records a member's key (TOFU); a changed key is announced loudly. */
  observe(m: Member): Promise<void> {
    return this.#roster.observe(m);
  }

  // ---- room → relay ------------------------------------------------------------------------

  /** Members whose verified key changed: sending is refused until the user acts. */
  blockedMembers(): string[] {
    return this.#roster.blocked();
  }

  /**
   * Encrypts and publishes an application message; echoes text messages to the UI unless
   * `echo` is false (a queued direct message, echoed when it was queued under the same `id`).
   */
  send(payload: AppPayload, options: { id?: string; echo?: boolean } = {}): Promise<SendResult> {
    return sendMessage(this.#sendHost, payload, options);
  }

  /** Shows our own message to our UI (`self: true`). */
  async echo(id: string, text: string, action: boolean, expiresAt?: number): Promise<void> {
    this.ctx.emit({
      type: 'message',
      id,
      room: this.id,
      roomName: this.roomName,
      from: this.ctx.name,
      fingerprint: await this.ctx.fingerprint(this.ctx.identity.fingerprint),
      text,
      ts: this.ctx.clock.now(),
      direct: this.direct !== undefined,
      ...(action ? { action: true } : {}),
      self: true,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
  }

  /**
   * Leaves: publishes a self-Remove proposal (an online member commits it, with an UpdatePath,
   * so nothing after it can be read here), waits for the relay to take it, then unsubscribes.
   */
  async leave(): Promise<void> {
    if (this.state === 'left') return;
    if (this.state === 'joining') {
      this.close('left');
      return;
    }
    let sent: Promise<void> = Promise.resolve();
    await this.enqueue(async () => {
      const session = this.session;
      if (!session || this.state !== 'member' || this.others().length === 0) return;
      this.#leaving = true;
      const proposal = await session.proposeLeave();
      const id = randomId();
      sent = new Promise<void>((resolve) => {
        const timer = this.ctx.clock.setTimeout(resolve, this.ctx.timing.leaveTimeoutMs);
        const done = () => {
          timer.cancel();
          resolve();
        };
        this.ctx.outbox.add({ header: pubHeader({ room: this.id, id, kind: 'proposal', epoch: session.epoch() }), body: proposal, onAck: done, onNack: done });
      });
    });
    await sent;
    this.close('left');
  }

  /** Ends the room here: unsubscribes, wipes its secrets, tells the client. Idempotent. `code`: why a join ended. */
  close(reason: 'left' | 'removed' | 'refused' | 'timeout', by?: string, code?: ErrorCode): void {
    if (this.state === 'left') return;
    const wasMember = this.state === 'member';
    this.state = 'left';
    this.#proof.stop();
    this.#absence.stop();
    this.#readmission.stop();
    this.#commits.stop();
    this.#joiner?.stop();
    if (wasMember) this.ctx.send({ v: 1, t: 'unsub', room: this.id });
    this.ctx.outbox.forgetRoom(this.id);
    this.session?.dispose();
    this.session = undefined;
    this.#future = [];
    this.ctx.emit({ type: 'left', room: this.id, roomName: this.roomName, reason, ...(by === undefined ? {} : { by }), ...(code === undefined ? {} : { code }) });
    this.ctx.onRoomGone(this.id, reason, code);
  }

  /**
   * Called by the joiner once the Welcome made this device a member. The room's timer is in the
   * group state the Welcome opened (timer.ts): in force before anything can be sent, shown once
   * `joined` is.
   */
  async becameMember(session: GroupSession): Promise<void> {
    this.session = session;
    this.state = 'member';
    this.#noteSecret();
    this.#absence.start();
    for (const m of session.members()) await this.observe(m);
    this.ctx.emit({
      type: 'joined',
      room: this.id,
      roomName: this.roomName,
      name: this.ctx.name,
      fingerprint: await this.ctx.fingerprint(this.ctx.identity.fingerprint),
      direct: this.direct !== undefined,
      // To compare with a member's `/code`: a group someone forked around us shows another.
      code: await roomCode(session.epochAuthenticator()),
      epoch: session.epoch(),
    });
    this.#timer.joined();
    this.ctx.onMembersChanged(this.id);
    this.ctx.onRoomChanged(this.id);
  }

  /** A first join's group, checked with the relay before it is taken (proof.ts `admit`). */
  onLine(session: GroupSession): Promise<boolean> {
    return this.#proof.admit(session);
  }

}
