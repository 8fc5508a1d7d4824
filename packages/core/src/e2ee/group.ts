/**
 * `GroupSession` over a ts-mls ClientState: one MLS group (RFC 9420) per room, group id =
 * UTF-8 of the room id.
 *
 * State is immutable in ts-mls (state in, new state out); this class holds the current state
 * and runs every operation that reads and replaces it one at a time (`#exclusive`), so two
 * concurrent `encrypt` calls can never use the same ratchet generation (nonce reuse).
 *
 * Commits (§12.4) we make stay pending until the relay has ordered them: `confirm` adopts the
 * state the commit leads to, `discard` drops it. Application messages and handshake messages
 * are all PrivateMessages (§6.3).
 */
import {
  type CiphersuiteImpl,
  type ClientState,
  type IncomingMessageCallback,
  type Proposal,
  type ProposalWithSender,
  createApplicationMessage,
  createCommit,
  createProposal,
  encodeMlsMessage,
  makePskIndex,
  processPrivateMessage,
} from 'ts-mls';
import { allSecretTreeValues } from 'ts-mls/secretTree.js';
import { verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { verifyLeafNodeSignatureKeyPackage } from 'ts-mls/leafNode.js';
import { CryptoError, InternalError, UsageError } from '../protocol/errors.js';
import { toBase64Url } from '../protocol/ids.js';
import { LIMITS } from '../protocol/limits.js';
import type { AppAad, GroupSession, JoinRequest, Member, PendingCommit, ReceiveResult, RelayKey, Sealed } from './api.js';
import { decodeAad, encodeAad } from './aad.js';
import { commitPathLeaf, credentialChangeIn, leafNodeAt, sameCredential } from './credentialChange.js';
import { bytesEqual, concat, utf8, wipe } from './bytes.js';
import { dedupKey, IdWindow } from './dedup.js';
import { decodePrivateMessage, inspect } from './inbound.js';
import { decodeKeyPackage } from './keyPackage.js';
import { diffMembers, memberAt, membersOf, removedLeaves } from './members.js';
import { MAX_PROOFS, WELCOME_PROOF_EXTENSION, checkProof, makeProof } from './proof.js';
import { relaySigner } from './relayKey.js';
import { paddingFor } from './padding.js';
import { LeafKeys, open, seal } from './seal.js';
import { ABSENT_MARK, absenceAllowed, allowedByPolicy, contextChanges, isLeave } from './rules.js';
import { POLICY_EXTENSION, decodePolicy, encodePolicy, type RoomPolicy } from './policy.js';
import { TIMER_EXTENSION, encodeTimer, timerIn } from './timer.js';

/** Where `add` finds the invite secret of a request that `verifyJoinProof` accepted. */
export interface VerifiedRequests {
  secretFor(request: JoinRequest): Uint8Array | undefined;
}

interface Pending {
  readonly state: ClientState;
  readonly consumed: Uint8Array[];
  readonly relayKey: RelayKey;
  readonly proposals: readonly Proposal[];
}

const RECENT_OWN_COMMITS = 4;

export class MlsGroupSession implements GroupSession {
  readonly room: string;
  readonly #groupId: Uint8Array;
  readonly #cs: CiphersuiteImpl;
  #state: ClientState | undefined;
  #members: { tree: ClientState['ratchetTree']; list: readonly Member[] } | undefined;
  readonly #pending = new Map<PendingCommit, Pending>();
  /** Our own commits, as sent: the relay may echo them back to us. */
  readonly #ownCommits: Uint8Array[] = [];
  /** Message ids accepted, each under its sender's identity (`dedupKey`): one member cannot
   *  squat another's id (issue 12, attack 6). */
  readonly #seen = new IdWindow();
  /** KeyPackages (by their leaf HPKE key) added to this group since this device is in it: a
   *  join request carrying one again is a replay, never a re-admission. Bounded. */
  readonly #addedKps = new IdWindow(1024);
  /** The current epoch's relay key, made at first use. */
  #relayKey: Promise<RelayKey> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #leafKeys = new LeafKeys();

  readonly #secrets: VerifiedRequests;

  constructor(room: string, state: ClientState, cs: CiphersuiteImpl, secrets: VerifiedRequests) {
    this.room = room;
    this.#secrets = secrets;
    this.#groupId = utf8(room);
    this.#adopt(state);
    this.#cs = cs;
  }

  #exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(f, f);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The new state; notes this device's leaf key, which sealed bytes (seal.ts) may be sealed to. */
  #adopt(state: ClientState): void {
    this.#state = state;
    const node = 2 * state.privatePath.leafIndex;
    const leaf = state.ratchetTree[node];
    this.#leafKeys.note(leaf?.nodeType === 'leaf' ? leaf.leaf.hpkePublicKey : undefined, state.privatePath.privateKeys[node]);
  }

  /** Seals `plaintext` to the member with this fingerprint (its current leaf key); undefined if it is not a member. */
  async sealFor(fingerprint: Uint8Array, context: Uint8Array, plaintext: Uint8Array): Promise<Sealed | undefined> {
    const m = this.members().find((x) => bytesEqual(x.fingerprint, fingerprint));
    const node = m && this.#current().ratchetTree[2 * m.leaf];
    if (node?.nodeType !== 'leaf') return undefined;
    return seal(this.#cs, node.leaf.hpkePublicKey, context, plaintext);
  }

  /** Opens bytes sealed to one of this device's recent leaf keys here; undefined if they do not open. */
  async openSealed(context: Uint8Array, sealed: Sealed): Promise<Uint8Array | undefined> {
    const priv = this.#leafKeys.privateFor(sealed.key);
    return priv === undefined ? undefined : open(this.#cs, priv, context, sealed);
  }

  #current(): ClientState {
    if (this.#state === undefined) throw new UsageError('E_USAGE', 'this group session was disposed');
    return this.#state;
  }

  #active(): ClientState {
    const s = this.#current();
    if (s.groupActiveState.kind !== 'active') throw new UsageError('E_USAGE', 'this member is no longer in the room');
    return s;
  }

  epoch(): number {
    return Number(this.#current().groupContext.epoch);
  }

  myLeaf(): number {
    return this.#current().privatePath.leafIndex;
  }

  members(): readonly Member[] {
    const s = this.#current();
    if (this.#members?.tree !== s.ratchetTree) this.#members = { tree: s.ratchetTree, list: membersOf(s.ratchetTree) };
    return this.#members.list;
  }

  #noteAdded(proposals: readonly Proposal[]): void {
    for (const p of proposals) if (p.proposalType === 'add') this.#addedKps.add(toBase64Url(p.add.keyPackage.leafNode.hpkePublicKey));
  }

  policy(): RoomPolicy | undefined {
    const ext = this.#current().groupContext.extensions.find((e) => e.extensionType === POLICY_EXTENSION);
    return ext ? decodePolicy(ext.extensionData) : undefined;
  }

  timer(): number {
    // A malformed timer never gets into the group state (`allowedByPolicy`); 0 if it did.
    return timerIn(this.#current().groupContext.extensions) ?? 0;
  }

  /** RFC 9420 §8.7: a secret all members of this epoch share, to compare out of band. */
  epochAuthenticator(): Uint8Array {
    return this.#current().keySchedule.epochAuthenticator.slice();
  }

  pendingProposals(): number {
    return Object.keys(this.#current().unappliedProposals).length;
  }

  relayKey(): Promise<RelayKey> {
    const s = this.#current();
    const epoch = Number(s.groupContext.epoch);
    const cached = this.#relayKey;
    if (cached !== undefined) {
      // The cache follows the epoch: a key made for another epoch is made again.
      return cached.then((k) => (k.epoch === epoch ? k : this.#makeRelayKey(s)));
    }
    return this.#makeRelayKey(s);
  }

  #makeRelayKey(s: ClientState): Promise<RelayKey> {
    const made = relaySigner(s.keySchedule.exporterSecret, this.room, Number(s.groupContext.epoch), this.#cs);
    if (this.#state === s) this.#relayKey = made;
    return made;
  }

  encrypt(plaintext: Uint8Array, aad: AppAad): Promise<Uint8Array> {
    return this.#exclusive(async () => {
      if (!(plaintext instanceof Uint8Array)) throw new TypeError('"plaintext" expected Uint8Array');
      if (aad?.room !== this.room) throw new UsageError('E_USAGE', '"aad.room" must be this session\'s room');
      const authenticatedData = encodeAad(aad);
      const s = this.#active();
      // RFC 9420 §6.3.1 padding: zero bytes after the content, inside the AEAD.
      const padded = {
        ...s,
        clientConfig: {
          ...s.clientConfig,
          paddingConfig: { kind: 'alwaysPad' as const, paddingLength: paddingFor(plaintext.length) },
        },
      };
      const r = await createApplicationMessage(padded, plaintext, this.#cs, authenticatedData);
      this.#adopt({ ...r.newState, clientConfig: s.clientConfig });
      r.consumed.forEach(wipe);
      const me = memberAt(s.ratchetTree, s.privatePath.leafIndex);
      if (me !== undefined) this.#seen.add(dedupKey(me.fingerprint, aad.id));
      return encodeMlsMessage({
        version: 'mls10',
        wireformat: 'mls_private_message',
        privateMessage: r.privateMessage,
      });
    });
  }

  receive(body: Uint8Array, options: { applicationOnly?: boolean } = {}): Promise<ReceiveResult> {
    return this.#exclusive(async () => {
      try {
        return await this.#receive(body, options.applicationOnly === true);
      } catch {
        // Never which check failed: one opaque result.
        return { kind: 'rejected' } as const;
      }
    });
  }

  async #receive(body: Uint8Array, applicationOnly: boolean): Promise<ReceiveResult> {
    const s = this.#state;
    if (s === undefined || s.groupActiveState.kind !== 'active') return { kind: 'rejected' };
    const pm = decodePrivateMessage(body);
    if (pm === undefined || (applicationOnly && pm.contentType !== 'application')) return { kind: 'rejected' };
    if (
      this.#ownCommits.some((c) => bytesEqual(c, body)) ||
      [...this.#pending.keys()].some((p) => bytesEqual(p.commit, body))
    )
      return { kind: 'duplicate' };
    let aad: AppAad | undefined;
    if (pm.contentType === 'application') {
      aad = decodeAad(pm.authenticatedData);
      // The room inside the authenticated data must be ours: a message relabelled for another
      // room fails here or in the AEAD (the aad is part of its associated data).
      if (aad === undefined || aad.room !== this.room) return { kind: 'rejected' };
    } else if (pm.authenticatedData.length !== 0 && !(pm.contentType === 'commit' && bytesEqual(pm.authenticatedData, ABSENT_MARK))) return { kind: 'rejected' };
    const absent = pm.contentType === 'commit' && pm.authenticatedData.length !== 0;
    const checked = await inspect(s, this.#groupId, pm, this.#cs);
    if (checked.kind !== 'ok') return checked;
    // ts-mls shows the policy callback a commit's proposals, not its UpdatePath: read its leaf first.
    const pathLeaf = pm.contentType === 'commit' ? await commitPathLeaf(s, pm, this.#cs) : undefined;

    let proposals: ProposalWithSender[] = [];
    let refused = false;
    /** The leaf whose name or signature key the commit would change (credentialChange.ts). */
    let renamed: number | undefined;
    const policy = this.policy();
    const capture: IncomingMessageCallback = (incoming) => {
      proposals = incoming.kind === 'commit' ? incoming.proposals : [incoming.proposal];
      // The room's policy: a commit (or proposal) that breaks it is not applied, by anyone. A
      // proposal on its own is only ever a leave (a Remove of its sender's own leaf): anything
      // else would sit pending, and no application message can be sent while one does. A leaf
      // keeps the name and signature key it was admitted with (credentialChange.ts).
      if (incoming.kind === 'proposal') refused = !isLeave(incoming.proposal);
      else {
        renamed = credentialChangeIn(checked.tree, proposals, incoming.senderLeafIndex, pathLeaf);
        refused = renamed !== undefined || !allowedByPolicy(policy, proposals, checked.tree, absent, s.groupContext.extensions);
      }
      return refused ? 'reject' : 'accept';
    };
    const before = this.members();
    const extensionsBefore = s.groupContext.extensions;
    const me = before.find((m) => m.leaf === this.myLeaf());
    // This device's removal; `replaced`: the same commit added a leaf of this device's own key in
    // its place, from a KeyPackage this session did not make (a re-admission, or a replay).
    const removal = (by: Member | undefined): ReceiveResult => {
      const add = proposals.find((p) => p.proposal.proposalType === 'add' && me !== undefined && bytesEqual(p.proposal.add.keyPackage.leafNode.signaturePublicKey, me.publicKey));
      const replaced = add?.proposal.proposalType === 'add' ? { replaced: add.proposal.add.keyPackage.leafNode.hpkePublicKey } : {};
      return { kind: 'removed', by, ...(absent ? { absent: true as const } : {}), ...replaced };
    };
    let r: Awaited<ReturnType<typeof processPrivateMessage>>;
    try {
      r = await processPrivateMessage(s, pm, makePskIndex(s, {}), this.#cs, capture);
    } catch (cause) {
      // A commit the room's policy allows (authenticated: its proposals were shown to `capture`)
      // that removes this device, and puts a new leaf in its place: ts-mls then takes this device
      // for that leaf and fails at the path secret. It is a removal like any other.
      const removesMe = !refused && me !== undefined && removedLeaves(proposals).has(me.leaf);
      if (pm.contentType !== 'commit' || !removesMe) throw cause;
      this.#dropPending();
      this.#adopt({ ...s, groupActiveState: { kind: 'removedFromGroup' } });
      return removal(memberAt(checked.tree, checked.senderLeaf));
    }

    if (r.kind === 'applicationMessage') {
      if (aad === undefined) return { kind: 'rejected' };
      const sender = memberAt(checked.tree, checked.senderLeaf);
      if (sender === undefined) return { kind: 'rejected' };
      this.#adopt(r.newState);
      r.consumed.forEach(wipe);
      // A replay is normally caught above as a consumed generation; ids are the backstop (and
      // are checked only once the message proved genuine, so garbage is never a 'duplicate').
      // Keyed by the sender's identity (never its leaf: a re-admitted member resends under a
      // new leaf), so another member reusing this id is a message of its own, not a duplicate.
      const key = dedupKey(sender.fingerprint, aad.id);
      if (this.#seen.has(key)) return { kind: 'duplicate' };
      this.#seen.add(key);
      return { kind: 'message', sender, aad, plaintext: r.message, epoch: Number(pm.epoch) };
    }
    if (pm.contentType === 'proposal') {
      this.#adopt(r.newState);
      r.consumed.forEach(wipe);
      if (refused) return { kind: 'rejected' };
      const removes = removedLeaves(proposals.filter(isLeave));
      return { kind: 'proposal', removes: before.filter((m) => removes.has(m.leaf)) };
    }
    const by = memberAt(checked.tree, checked.senderLeaf);
    if (refused) {
      // Not applied: the state stays in this epoch (the ratchet that decrypted it moved on, so
      // the same bytes again are a duplicate). Pending commits of ours are still candidates.
      this.#adopt(r.newState);
      const of = renamed === undefined ? undefined : memberAt(checked.tree, renamed);
      return { kind: 'refused', epoch: this.epoch(), by, ...(of ? { credentialOf: of } : {}) };
    }
    // A commit: every commit we had pending for this epoch lost the race (the relay accepts one).
    this.#dropPending();
    this.#adopt(r.newState);
    r.consumed.forEach(wipe);
    if (r.newState.groupActiveState.kind === 'removedFromGroup') return removal(by);
    const changes = diffMembers(before, this.members(), removedLeaves(proposals));
    this.#noteAdded(proposals.map((p) => p.proposal));
    const { policyChanged, timer } = contextChanges(extensionsBefore, r.newState.groupContext.extensions);
    const leavers = removedLeaves(proposals.filter(isLeave));
    return { kind: 'commit', epoch: this.epoch(), ...changes, by, policyChanged, ...(timer === undefined ? {} : { timer }), left: changes.removed.filter((m) => leavers.has(m.leaf)), ...(absent ? { absent: true as const } : {}) };
  }

  /**
   * Our commits carry only the leave proposals others sent — a Remove of the proposer's own
   * leaf (RFC 9420 §12.2 lets a committer leave out proposals it judges invalid): an Add must
   * come with an invite proof, which only `add` checks; we never send Update proposals; and a
   * member who wants someone out commits the Remove itself, under its own name.
   */
  #withLeaveProposalsOnly(s: ClientState): ClientState {
    // Our own leave is for another member to commit (a member cannot commit its own removal).
    const me = s.privatePath.leafIndex;
    const kept = Object.fromEntries(
      Object.entries(s.unappliedProposals).filter(([, p]) => isLeave(p) && p.senderLeafIndex !== me),
    );
    return { ...s, unappliedProposals: kept };
  }

  async #commit(extraProposals: Proposal[], welcomeProof?: Uint8Array, authenticatedData?: Uint8Array): Promise<PendingCommit> {
    const s = this.#withLeaveProposalsOnly(this.#active());
    const r = await createCommit(
      { state: s, cipherSuite: this.#cs, pskIndex: makePskIndex(s, {}) },
      {
        extraProposals,
        // RFC 9420 §12.4.3.3: the tree travels in the Welcome, so a joiner needs nothing else.
        ratchetTreeExtension: true,
        groupInfoExtensions: welcomeProof
          ? [{ extensionType: WELCOME_PROOF_EXTENSION, extensionData: welcomeProof }]
          : [],
        ...(authenticatedData ? { authenticatedData } : {}),
      },
    );
    // Never a commit that changes our own name or key: every member would refuse it.
    const me = s.privatePath.leafIndex;
    const mine = leafNodeAt(s.ratchetTree, me);
    const next = leafNodeAt(r.newState.ratchetTree, me);
    if (mine === undefined || next === undefined || !sameCredential(mine, next))
      throw new InternalError('E_INTERNAL', 'a commit of ours would change our own name or signature key');
    const all: ProposalWithSender[] = [
      ...Object.values(s.unappliedProposals),
      ...extraProposals.map((proposal) => ({ proposal, senderLeafIndex: s.privatePath.leafIndex })),
    ];
    const changes = diffMembers(this.members(), membersOf(r.newState.ratchetTree), removedLeaves(all));
    const leavers = removedLeaves(all.filter(isLeave));
    const relayKey = await relaySigner(r.newState.keySchedule.exporterSecret, this.room, Number(r.newState.groupContext.epoch), this.#cs);
    const pending: PendingCommit = {
      epoch: Number(s.groupContext.epoch),
      commit: encodeMlsMessage(r.commit),
      ...(r.welcome
        ? { welcome: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: r.welcome }) }
        : {}),
      added: changes.added,
      removed: changes.removed,
      left: changes.removed.filter((m) => leavers.has(m.leaf)),
      ...contextChanges(s.groupContext.extensions, r.newState.groupContext.extensions),
      nextRelayKey: relayKey.publicKey,
    };
    this.#pending.set(pending, { state: r.newState, consumed: r.consumed, relayKey, proposals: extraProposals });
    return pending;
  }

  /**
   * The reasons a joiner cannot be admitted now, checked before any commit. The invite secret
   * comes from `secret`, or else from the `verifyJoinProof` call of the same E2ee instance that
   * accepted this very request object; the join proof is checked again here either way.
   */
  async #refusal(request: JoinRequest, secret: Uint8Array | undefined): Promise<{ code: 'E_USAGE' | 'E_INVITE_PROOF' | 'E_NAME_TAKEN' | 'E_CLOCK_SKEW'; message: string } | { kp: NonNullable<ReturnType<typeof decodeKeyPackage>>; key: Uint8Array; replaces?: number }> {
    const key = secret ?? this.#secrets.secretFor(request);
    if (key === undefined) return { code: 'E_INVITE_PROOF', message: 'add needs a join request accepted by verifyJoinProof (or its invite secret)' };
    const kp = decodeKeyPackage(request.keyPackage);
    if (request.room !== this.room || kp === undefined) return { code: 'E_USAGE', message: 'the join request is not for this room or its KeyPackage is malformed' };
    if (!(await checkProof('join', key, this.room, request.keyPackage, request.proof))) return { code: 'E_INVITE_PROOF', message: 'the join request has no valid invite proof' };
    // The KeyPackage must be signed by the key it names (else anyone can claim a member's key).
    const leafOk = kp.keyPackage.leafNode.leafNodeSource === 'key_package' && (await verifyLeafNodeSignatureKeyPackage(kp.keyPackage.leafNode, this.#cs.signature));
    if (!leafOk || !(await verifyKeyPackage(kp.keyPackage, this.#cs.signature))) return { code: 'E_INVITE_PROOF', message: "the join request's KeyPackage is not signed by its key" };
    // The same identity asking again (it fell behind): re-admitted in place of its old leaf,
    // unless this is the very KeyPackage that leaf came from (a replay of its join request).
    if (this.#addedKps.has(toBase64Url(kp.keyPackage.leafNode.hpkePublicKey)))
      return { code: 'E_INVITE_PROOF', message: 'this KeyPackage was added to the room before (a replayed join request)' };
    const same = this.members().find((m) => bytesEqual(m.publicKey, request.publicKey));
    if (same !== undefined) {
      const leafNode = this.#current().ratchetTree[same.leaf * 2];
      if (leafNode?.nodeType === 'leaf' && bytesEqual(leafNode.leaf.hpkePublicKey, kp.keyPackage.leafNode.hpkePublicKey))
        return { code: 'E_INVITE_PROOF', message: 'this KeyPackage is already in the room (a replayed join request)' };
    }
    if (this.members().some((m) => m.name === kp.name && m.leaf !== same?.leaf)) return { code: 'E_NAME_TAKEN', message: 'a member of this room already has that name' };
    // RFC 9420 §7.2: a KeyPackage outside its lifetime is refused. Said apart from the other
    // refusals because the usual cause is an honest joiner whose clock is a day or more off
    // (KeyPackages live ±1 day around the joiner's clock, to bound replays of join requests).
    const leaf = kp.keyPackage.leafNode;
    const nowS = BigInt(Math.floor(Date.now() / 1000));
    if ('lifetime' in leaf && (nowS < leaf.lifetime.notBefore || nowS > leaf.lifetime.notAfter))
      return {
        code: 'E_CLOCK_SKEW',
        message: "the joiner's KeyPackage is outside its lifetime on this member's clock: one of the two clocks is off by more than a day",
      };
    return { kp, key, ...(same ? { replaces: same.leaf } : {}) };
  }

  async checkJoin(request: JoinRequest, secret?: Uint8Array): Promise<'E_INVITE_PROOF' | 'E_NAME_TAKEN' | 'E_CLOCK_SKEW' | undefined> {
    try {
      const r = await this.#refusal(request, secret);
      if (!('code' in r)) return undefined;
      return r.code === 'E_USAGE' ? 'E_INVITE_PROOF' : r.code;
    } catch {
      return 'E_INVITE_PROOF';
    }
  }

  add(requests: JoinRequest | readonly JoinRequest[], secret?: Uint8Array | readonly Uint8Array[]): Promise<PendingCommit> {
    return this.#exclusive(async () => {
      const batch: readonly JoinRequest[] = Array.isArray(requests) ? requests : [requests as JoinRequest];
      if (batch.length === 0 || batch.length > MAX_PROOFS) throw new UsageError('E_USAGE', `add expected 1 to ${MAX_PROOFS} join requests`);
      if (Array.isArray(secret) && secret.length !== batch.length) throw new UsageError('E_USAGE', 'add expected one secret per join request');
      const proposals: Proposal[] = [];
      const proofs: Uint8Array[] = [];
      const names = new Set<string>();
      for (const [i, request] of batch.entries()) {
        const r = await this.#refusal(request, secret instanceof Uint8Array || secret === undefined ? secret : secret[i]);
        if ('code' in r) throw r.code === 'E_NAME_TAKEN' || r.code === 'E_USAGE' ? new UsageError(r.code, r.message) : new CryptoError(r.code, r.message);
        if (names.has(r.kp.name)) throw new UsageError('E_NAME_TAKEN', 'two joiners of one batch have the same name');
        names.add(r.kp.name);
        if (r.replaces !== undefined) proposals.push({ proposalType: 'remove', remove: { removed: r.replaces } });
        proposals.push({ proposalType: 'add', add: { keyPackage: r.kp.keyPackage } });
        proofs.push(await makeProof('welcome', r.key, this.room, request.keyPackage));
      }
      try {
        return await this.#commit(proposals, concat(...proofs));
      } catch (cause) {
        // ts-mls validates the KeyPackages (signature, keys, lifetime, RFC 9420 §10.1) here.
        throw new CryptoError('E_INVITE_PROOF', 'a KeyPackage in the join requests is not valid', { cause });
      }
    });
  }

  remove(leaves: readonly number[], options: { absent?: boolean } = {}): Promise<PendingCommit> {
    return this.#exclusive(async () => {
      const s = this.#active();
      const me = s.privatePath.leafIndex;
      const members = new Set(this.members().map((m) => m.leaf));
      for (const leaf of leaves) {
        if (!members.has(leaf)) throw new UsageError('E_UNKNOWN_MEMBER', `no member at leaf ${String(leaf)}`);
        if (leaf === me) throw new UsageError('E_USAGE', 'a member cannot commit its own removal; use proposeLeave');
      }
      // Leaves someone already proposed to remove go in by reference (RFC 9420 §12.4).
      const proposed = removedLeaves(Object.values(this.#withLeaveProposalsOnly(s).unappliedProposals));
      const extra: Proposal[] = [...new Set(leaves)]
        .filter((l) => !proposed.has(l))
        .map((removed) => ({ proposalType: 'remove', remove: { removed } }));
      if (options.absent === true) {
        // Checked as every receiver will (the leaves proposed meanwhile count too): a commit they
        // refuse would leave this member alone in its epoch.
        const all = [...Object.values(this.#withLeaveProposalsOnly(s).unappliedProposals), ...extra.map((proposal) => ({ proposal, senderLeafIndex: me }))];
        if (!absenceAllowed(this.members().length, all)) throw new UsageError('E_USAGE', 'a removal for absence may remove at most as many members as remain, and not leave its committer alone');
      }
      return this.#commit(extra, undefined, options.absent === true ? ABSENT_MARK : undefined);
    });
  }

  changeSecret(newSecret: Uint8Array): Promise<PendingCommit> {
    return this.#exclusive(async () => {
      const s = this.#active();
      const policy = this.policy();
      if (!policy || !(newSecret instanceof Uint8Array) || newSecret.length !== 32)
        throw new UsageError('E_USAGE', 'a new invite secret needs a room with a policy, and 32 bytes');
      const others = s.groupContext.extensions.filter((e) => e.extensionType !== POLICY_EXTENSION);
      const extensions = [...others, { extensionType: POLICY_EXTENSION, extensionData: encodePolicy({ ...policy, secret: newSecret }) }];
      // RFC 9420 §12.4: a GroupContextExtensions commit carries an UpdatePath.
      return this.#commit([{ proposalType: 'group_context_extensions', groupContextExtensions: { extensions } }]);
    });
  }

  setTimer(ms: number): Promise<PendingCommit> {
    return this.#exclusive(async () => {
      const s = this.#active();
      if (!Number.isInteger(ms) || ms < 0 || ms > LIMITS.maxTtlMs) throw new UsageError('E_USAGE', `a message timer is 0 to ${LIMITS.maxTtlMs} ms`);
      // The proposal replaces the whole list (RFC 9420 §12.1.7): everything else stays as it is.
      const others = s.groupContext.extensions.filter((e) => e.extensionType !== TIMER_EXTENSION);
      const extensions = [...others, { extensionType: TIMER_EXTENSION, extensionData: encodeTimer(ms) }];
      return this.#commit([{ proposalType: 'group_context_extensions', groupContextExtensions: { extensions } }]);
    });
  }

  update(): Promise<PendingCommit> {
    // An empty commit always carries an UpdatePath (RFC 9420 §12.4).
    return this.#exclusive(() => this.#commit([]));
  }

  proposeLeave(): Promise<Uint8Array> {
    return this.#exclusive(async () => {
      const s = this.#active();
      const r = await createProposal(
        s,
        false,
        { proposalType: 'remove', remove: { removed: s.privatePath.leafIndex } },
        this.#cs,
      );
      this.#adopt(r.newState);
      r.consumed.forEach(wipe);
      return encodeMlsMessage(r.message);
    });
  }

  confirm(pending: PendingCommit): Promise<void> {
    return this.#exclusive(() => {
      const p = this.#pending.get(pending);
      const s = this.#current();
      if (p === undefined || Number(s.groupContext.epoch) !== pending.epoch)
        throw new UsageError('E_USAGE', 'this commit is unknown, already settled, or for another epoch');
      this.#pending.delete(pending);
      this.#dropPending();
      // The commit was made from an earlier snapshot of this epoch; messages received since
      // advanced this epoch's secret tree and older epochs' ones. Keep those ratchets (§14):
      // the snapshot's may hold keys that were used and wiped since.
      const history = new Map(p.state.historicalReceiverData);
      for (const [epoch, data] of s.historicalReceiverData) if (history.has(epoch)) history.set(epoch, data);
      const old = history.get(s.groupContext.epoch);
      if (old !== undefined) history.set(s.groupContext.epoch, { ...old, secretTree: s.secretTree });
      this.#adopt({ ...p.state, historicalReceiverData: history });
      this.#relayKey = Promise.resolve(p.relayKey);
      this.#noteAdded(p.proposals);
      p.consumed.forEach(wipe);
      this.#ownCommits.push(pending.commit.slice());
      if (this.#ownCommits.length > RECENT_OWN_COMMITS) this.#ownCommits.shift();
      return Promise.resolve();
    });
  }

  discard(pending: PendingCommit): void {
    // Nothing is wiped: a discarded commit's `consumed` list names secrets the current state
    // still uses (its init secret, its oldest epochs). Dropping the reference is enough.
    this.#pending.delete(pending);
  }

  #dropPending(): void {
    this.#pending.clear();
  }

  dispose(): void {
    const s = this.#state;
    this.#state = undefined;
    this.#pending.clear();
    this.#members = undefined;
    this.#relayKey = undefined;
    this.#leafKeys.wipe();
    if (s === undefined) return;
    wipe(s.signaturePrivateKey);
    for (const k of Object.values(s.privatePath.privateKeys)) wipe(k);
    const ks = s.keySchedule;
    for (const v of [
      ks.senderDataSecret,
      ks.exporterSecret,
      ks.externalSecret,
      ks.confirmationKey,
      ks.membershipKey,
      ks.resumptionPsk,
      ks.epochAuthenticator,
      ks.initSecret,
    ])
      wipe(v);
    allSecretTreeValues(s.secretTree).forEach(wipe);
    for (const d of s.historicalReceiverData.values()) {
      wipe(d.senderDataSecret);
      allSecretTreeValues(d.secretTree).forEach(wipe);
    }
  }
}
