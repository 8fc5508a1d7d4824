/**
 * The e2ee interface the client uses. MLS (RFC 9420, ts-mls 1.6.4, cipher suite 1) stays behind
 * it: nothing outside `e2ee/` imports ts-mls. Implementations live beside this file.
 *
 * Ownership: byte arrays passed in are not kept or mutated; byte arrays returned belong to the
 * caller. Expected outcomes are return values (tagged unions); exceptions are for the unexpected.
 */

/** 32 bytes: SHA-256 of the member's Ed25519 public key (its MLS signature key). */
export type Fingerprint = Uint8Array;

export interface Identity {
  /** Ed25519 public key, raw 32 bytes. */
  readonly publicKey: Uint8Array;
  readonly fingerprint: Fingerprint;
}

/** A member as the MLS tree shows it (credential = display name, signature key = identity). */
export interface Member {
  readonly leaf: number;
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly fingerprint: Fingerprint;
}

/**
 * Data authenticated with every application message (MLS `authenticated_data`): a relay that
 * relabels the room, the message id or the expiry makes decryption fail. The sender's leaf is
 * authenticated by MLS itself.
 */
export interface AppAad {
  readonly room: string;
  /** The message id (22 base64url chars), used for dedup by receivers. */
  readonly id: string;
  /** Expiry in ms since the Unix epoch (Roughtime-judged), or undefined. */
  readonly expiresAt?: number;
}

/**
 * A join request once opened (the `join` frame body is sealed under the invite secret:
 * joinSeal.ts) and decoded, its shape checked.
 */
export interface JoinRequest {
  readonly room: string;
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly fingerprint: Fingerprint;
  /** Opaque: the encoded KeyPackage, for `GroupSession.add`. */
  readonly keyPackage: Uint8Array;
  /** MAC under the invite secret over (room, KeyPackage): see `verifyJoinProof`. */
  readonly proof: Uint8Array;
  /**
   * When the joiner made it (Unix ms), by its own clock: the middle of its KeyPackage's
   * lifetime, which the KeyPackage's signature covers (`checkJoin` verifies it).
   */
  readonly issuedAt: number;
}

/** The joiner's half of a join: kept until the Welcome comes. Holds private keys: wipe on drop. */
export interface PendingJoin {
  readonly room: string;
  /** The `join` frame body: the request sealed under the invite secret (joinSeal.ts), all the relay sees. */
  readonly body: Uint8Array;
  /** The encoded request inside `body` (joinRequest.ts), for `parseJoinRequest`; never sent as is. */
  readonly request: Uint8Array;
  /** The HPKE key of the leaf its KeyPackage makes: a commit adding that leaf is this join's. */
  readonly leafKey: Uint8Array;
  /** The join is done (a Welcome taken with `keep`): its one-time keys are wiped. */
  joined(): void;
  dispose(): void;
}

/** A commit made locally, waiting for the relay's verdict (ack → confirm, nack stale → discard). */
export interface PendingCommit {
  readonly epoch: number; // the epoch the commit was made in (the `pub` frame's epoch)
  readonly commit: Uint8Array; // MLS message for the room
  readonly welcome?: Uint8Array; // MLS Welcome for added members, if any
  readonly added: readonly Member[];
  readonly removed: readonly Member[];
  /** Those of `removed` who asked to leave (their own Remove proposal). */
  readonly left: readonly Member[];
  /** Whether it changes the room's policy (a ban's new invite secret). */
  readonly policyChanged: boolean;
  /** The room's message timer it sets (ms, 0 = off), if it changes it (timer.ts). */
  readonly timer?: number;
  /** The relay key (Ed25519 public key) of the epoch this commit opens: the relay learns it from the `pub`. */
  readonly nextRelayKey: Uint8Array;
}

/** The relay key of one epoch (relayKey.ts): proves membership of that epoch to the relay. */
export interface RelayKey {
  readonly epoch: number;
  /** Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  sign(statement: Uint8Array): Promise<Uint8Array>;
}

export type ReceiveResult =
  /** `epoch`: the epoch it was sent in (older than the current one for a message in flight). */
  | { kind: 'message'; sender: Member; aad: AppAad; plaintext: Uint8Array; epoch: number }
  /** `removed` includes `left`: those who asked to leave; the others were removed by `by`. */
  /** `absent`: `by` removed the others for absence (docs/protocol.md "Absent members"), not as an admin's kick. */
  | { kind: 'commit'; epoch: number; added: readonly Member[]; removed: readonly Member[]; left: readonly Member[]; updated: readonly Member[]; by: Member | undefined; policyChanged: boolean; timer?: number; absent?: true }
  /** A Remove proposal (e.g. a member leaving); an online member should commit it. */
  | { kind: 'proposal'; removes: readonly Member[] }
  /**
   * This member was removed by the commit: the session can no longer send or read. `by`: the
   * committer. `replaced`: the same commit added this device's own identity in its place, with a
   * KeyPackage this session did not make (a re-admission of this device's, or a replayed join
   * request of its): the HPKE key of that new leaf (`PendingJoin.leafKey` tells whose it is).
   */
  | { kind: 'removed'; by: Member | undefined; absent?: true; replaced?: Uint8Array }
  /**
   * A commit the room's policy forbids (a member who is not an admin removing another, or
   * changing the policy), or one that changes a member's name or signature key: not applied.
   * Every member refuses it alike; `by` is its committer; `credentialOf`, when present, is the
   * member (as it is now) whose credential it would change: a leaf keeps the name and key it
   * was admitted with (credentialChange.ts).
   */
  | { kind: 'refused'; epoch: number; by: Member | undefined; credentialOf?: Member }
  /** Already seen (by message id, or an MLS generation already consumed). */
  | { kind: 'duplicate' }
  /** For an epoch we have not reached yet: keep and retry after the next commit. */
  | { kind: 'future-epoch'; epoch: number }
  /** Could not be authenticated or decrypted; one opaque reason (never which check failed). */
  | { kind: 'rejected' };

export interface GroupSession {
  readonly room: string;
  epoch(): number;
  myLeaf(): number;
  members(): readonly Member[];
  /** RFC 9420 §8.7 epoch_authenticator, for the room code all members compare. */
  epochAuthenticator(): Uint8Array;
  /** Proposals received (or made) and not yet committed; no application message is sent meanwhile. */
  pendingProposals(): number;
  /** The relay key of the current epoch (docs/protocol.md "Membership authority"). */
  relayKey(): Promise<RelayKey>;
  encrypt(plaintext: Uint8Array, aad: AppAad): Promise<Uint8Array>;
  /**
   * Processes one MLS message from the relay (`msg` frame body). Never throws on bad input.
   * `applicationOnly`: anything but an application message is rejected before it is processed
   * (it changes nothing), for bytes that can only be one (the note in a Welcome envelope).
   */
  receive(body: Uint8Array, options?: { applicationOnly?: boolean }): Promise<ReceiveResult>;
  /**
   * Whether `add` would admit this joiner now: undefined, or the refusal (E_INVITE_PROOF for a
   * request without a valid proof under `secret` (or the secret `verifyJoinProof` accepted it
   * with) or a malformed KeyPackage, E_NAME_TAKEN when a member has that name, E_CLOCK_SKEW when
   * the KeyPackage is outside its lifetime on this device's clock). Never throws.
   */
  checkJoin(request: JoinRequest, secret?: Uint8Array): Promise<'E_INVITE_PROOF' | 'E_NAME_TAKEN' | 'E_CLOCK_SKEW' | undefined>;
  /**
   * Commit adding one or several joiners (each checked as `checkJoin` does; the first refusal
   * throws with its code, and nothing is committed). The Welcome carries a proof under the
   * invite secret for each joiner, which each checks. Two joiners of one batch may not share a
   * name. (ts-mls 1.6.4 sends an add-only commit without UpdatePath, as RFC 9420 §12.4 allows.)
   * `secret`: one for all, or one per request (a member re-admitted under a link from before a
   * ban proves it with the secret it knew).
   */
  add(requests: JoinRequest | readonly JoinRequest[], secret?: Uint8Array | readonly Uint8Array[]): Promise<PendingCommit>;
  /**
   * Commit removing members (kick, or committing a leave proposal). With UpdatePath. `absent`:
   * a removal for absence, which any member may make (it says so in the commit's authenticated data).
   */
  remove(leaves: readonly number[], options?: { absent?: boolean }): Promise<PendingCommit>;
  /**
   * Commit changing the room's invite secret (policy.ts; an admin's, after a kick or ban). Never
   * in the removal's own commit: a removed member can read the commit that removes it.
   */
  changeSecret(newSecret: Uint8Array): Promise<PendingCommit>;
  /**
   * Commit setting the room's message timer (ms, 0 = off; timer.ts): a GroupContext extension,
   * so every member of the next epoch has the same timer. Any member may; the policy is kept.
   */
  setTimer(ms: number): Promise<PendingCommit>;
  /** The room's message timer in this epoch (ms; 0: messages do not expire). */
  timer(): number;
  /** The room's policy (admins, invite secret, a direct room's invitee), if the group has one. */
  policy(): { readonly secret: Uint8Array; readonly admins: readonly Fingerprint[]; readonly direct?: Fingerprint } | undefined;
  /**
   * Seals a few bytes to the member with this fingerprint, to its leaf's HPKE key (seal.ts): only
   * that member can open them. Undefined if it is not a member.
   */
  sealFor(fingerprint: Fingerprint, context: Uint8Array, plaintext: Uint8Array): Promise<Sealed | undefined>;
  /** Opens bytes sealed to this device here (to one of its last few leaf keys); undefined if they do not open. */
  openSealed(context: Uint8Array, sealed: Sealed): Promise<Uint8Array | undefined>;
  /** Commit that only refreshes this member's keys (post-compromise security). */
  update(): Promise<PendingCommit>;
  /** A proposal that removes this member, for leaving (a member cannot commit its own removal). */
  proposeLeave(): Promise<Uint8Array>;
  /** Applies a commit the relay accepted. */
  confirm(pending: PendingCommit): Promise<void>;
  /** Drops a commit the relay refused (another commit won the epoch). */
  discard(pending: PendingCommit): void;
  /** Wipes the group's secrets. */
  dispose(): void;
}

export type JoinOutcome =
  | { ok: true; session: GroupSession }
  /** E_FORBIDDEN: a verified Welcome into a group that is not the direct room asked for (someone who knows its secret tried to listen in). */
  | { ok: false; code: 'E_BAD_WELCOME' | 'E_KEY_CHANGED' | 'E_FORBIDDEN'; message: string };

/** Bytes sealed to one member (seal.ts): the recipient's leaf HPKE key, the encapsulated key, the ciphertext. */
export interface Sealed {
  readonly key: Uint8Array;
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

export interface E2ee {
  /**
   * A new device identity; its private key is a non-extractable CryptoKey unless `exportable`
   * (needed for `exportIdentity`, the passphrase-encrypted identity file).
   */
  createIdentity(options?: { exportable?: boolean }): Promise<Identity>;
  /**
   * Creates a one-member group for `room` with this identity and display name. With `secret`
   * (the room's invite secret) the group carries the room's policy (policy.ts): this identity
   * is its admin, the only one who may remove others. With `direct` as well (the invitee's
   * fingerprint), a direct room: it holds this identity and the invitee, never anyone else.
   */
  createGroup(identity: Identity, name: string, room: string, options?: { secret?: Uint8Array; direct?: Fingerprint }): Promise<GroupSession>;
  /** Makes a KeyPackage and the invite proof under `secret` (from the link fragment). */
  createJoinRequest(identity: Identity, name: string, room: string, secret: Uint8Array): Promise<PendingJoin>;
  /** Decodes an encoded join request (`PendingJoin.request`, not sealed); undefined for anything malformed. */
  parseJoinRequest(request: Uint8Array): JoinRequest | undefined;
  /**
   * Opens a `join` frame body for `room` under one of its invite secrets: the request, if it
   * opens under `secret`, is well formed, is for `room`, and its proof checks out under `secret`
   * (as `verifyJoinProof`, so `add` finds the secret); else undefined, one opaque result for
   * every failure. Never throws.
   */
  openJoinRequest(body: Uint8Array, room: string, secret: Uint8Array): Promise<JoinRequest | undefined>;
  /** Constant-time check of the proof under the invite secret. Returns false, never throws. */
  verifyJoinProof(request: JoinRequest, secret: Uint8Array): Promise<boolean>;
  /**
   * Joins from a Welcome; refuses a group in which `inviter` (the link's fingerprint; for a
   * re-admission, any of several) is not a member, or that `accept` refuses (a re-admission: the group must continue the room). A
   * refused Welcome leaves `pending` usable for the genuine one. `direct`: the Welcome must be
   * into a direct room of exactly two members, this device and the (one) inviter, whose policy
   * names the two of them; the GroupInfo is then signed by the inviter (RFC 9420 §12.4.3.1: its
   * signer is a member, and the only other one). `keep`: the PendingJoin stays usable (its keys
   * are not wiped) until `pending.joined()`: the caller checks the group further (with the relay)
   * and may still take another Welcome for the same KeyPackage.
   */
  joinFromWelcome(
    pending: PendingJoin,
    welcome: Uint8Array,
    inviter: Fingerprint | readonly Fingerprint[],
    accept?: (session: GroupSession) => boolean,
    options?: { direct?: boolean; keep?: boolean },
  ): Promise<JoinOutcome>;
}
