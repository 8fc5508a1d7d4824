/**
 * `createE2ee()`: the `E2ee` interface on ts-mls. Each instance owns its state (the loaded
 * cipher suite, the join requests its `verifyJoinProof` accepted); nothing is module-global.
 */
import {
  type CiphersuiteImpl,
  createGroup as mlsCreateGroup,
  decodeMlsMessage,
  defaultCapabilities,
  emptyPskIndex,
  generateKeyPackageWithKey,
  joinGroupWithExtensions,
} from 'ts-mls';
import { isId } from '../protocol/ids.js';
import { UsageError } from '../protocol/errors.js';
import type { E2ee, Fingerprint, GroupSession, Identity, JoinOutcome, JoinRequest, PendingJoin } from './api.js';
import { bytesEqual, utf8, wipe } from './bytes.js';
import { basicCredential, isValidName } from './credential.js';
import { type DeviceIdentity, DeviceIdentity as Identities, asDeviceIdentity, identityHandle } from './identity.js';
import { PendingJoinImpl, pendingParts } from './pendingJoin.js';
import { decodeJoinRequest, encodeJoinRequest } from './joinRequest.js';
import { openJoinRequest, sealJoinRequest } from './joinSeal.js';
import { encodeKeyPackage } from './keyPackage.js';
import { MlsGroupSession } from './group.js';
import { POLICY_EXTENSION, directPair, encodePolicy } from './policy.js';
import { TIMER_EXTENSION, timerIn } from './timer.js';
import type { PinStore } from './pins.js';
import { INVITE_SECRET_BYTES, WELCOME_PROOF_EXTENSION, checkProof, checkProofIn, makeProof } from './proof.js';
import { clientConfig, loadSuite, suiteFor } from './suite.js';

export interface E2eeOptions {
  /**
   * The device's pins. When given, `joinFromWelcome` refuses (E_KEY_CHANGED) a group in which
   * a member that the user *verified* shows another key. It only reads the store; recording
   * what was seen (`observe`) stays with the caller.
   */
  readonly pins?: PinStore;
}

function checkRoom(room: unknown): asserts room is string {
  if (!isId(room)) throw new UsageError('E_USAGE', '"room" expected a 22-character room id');
}

function checkName(name: unknown): asserts name is string {
  if (!isValidName(name))
    throw new UsageError(
      'E_NAME_INVALID',
      '"name" expected 1-32 characters without control, zero-width or bidi characters',
    );
}

/**
 * RFC 9420 §7.2 lifetime of a KeyPackage: a join request is answered within minutes, so a
 * short window keeps a relay from replaying an old one much later (the committer checks it
 * against its clock; a day each side absorbs clock skew between devices).
 */
function keyPackageLifetime(): { notBefore: bigint; notAfter: bigint } {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const day = 86_400n;
  return { notBefore: now - day, notAfter: now + day };
}

/**
 * A direct room of exactly two leaves, this device's and the one inviter's, whose policy names the
 * same two. Whoever else knows the room's secret cannot make one: the GroupInfo's signer is a
 * member other than this device, so the inviter signed it.
 */
function isDirectWith(session: GroupSession, inviters: readonly Fingerprint[]): boolean {
  const pair = directPair(session.policy());
  const members = session.members();
  const me = members.find((m) => m.leaf === session.myLeaf());
  const other = members.find((m) => m.leaf !== session.myLeaf());
  return (
    inviters.length === 1 &&
    pair !== undefined &&
    members.length === 2 &&
    me !== undefined &&
    other !== undefined &&
    bytesEqual(other.fingerprint, inviters[0]!) &&
    bytesEqual(pair[0], other.fingerprint) &&
    bytesEqual(pair[1], me.fingerprint)
  );
}

function badWelcome(message: string): JoinOutcome {
  return { ok: false, code: 'E_BAD_WELCOME', message };
}

export function createE2ee(options: E2eeOptions = {}): E2ee {
  let suite: Promise<CiphersuiteImpl> | undefined;
  const base = (): Promise<CiphersuiteImpl> => (suite ??= loadSuite());
  // Requests `verifyJoinProof` accepted, with a copy of their secret, for `add` (weakly held).
  const verified = new WeakMap<JoinRequest, Uint8Array>();
  const secrets = { secretFor: (r: JoinRequest) => verified.get(r) };

  async function keyPackageFor(identity: DeviceIdentity, name: string, cs: CiphersuiteImpl) {
    // RFC 9420 §10: a fresh KeyPackage (init and leaf HPKE keys) per group; the signature key
    // is the device identity, so the credential binds the name to it.
    return generateKeyPackageWithKey(
      basicCredential(name),
      // Every member supports the room-policy and timer extensions (RFC 9420 §12.1.7 requires it of all).
      { ...defaultCapabilities(), extensions: [...defaultCapabilities().extensions, POLICY_EXTENSION, TIMER_EXTENSION] },
      keyPackageLifetime(),
      [],
      { signKey: identityHandle(identity), publicKey: identity.publicKey },
      cs,
    );
  }

  async function verifyJoinProof(request: JoinRequest, secret: Uint8Array): Promise<boolean> {
    try {
      const ok = await checkProof('join', secret, request.room, request.keyPackage, request.proof);
      if (ok) verified.set(request, secret.slice());
      return ok;
    } catch {
      return false;
    }
  }

  return {
    createIdentity(options: { exportable?: boolean } = {}): Promise<Identity> {
      return Identities.generate(options);
    },

    async createGroup(identity: Identity, name: string, room: string, options: { secret?: Uint8Array; direct?: Fingerprint } = {}): Promise<GroupSession> {
      const id = asDeviceIdentity(identity);
      checkName(name);
      checkRoom(room);
      const { secret, direct } = options;
      if (direct !== undefined && (secret === undefined || !(direct instanceof Uint8Array) || direct.length !== 32 || bytesEqual(direct, identity.fingerprint)))
        throw new UsageError('E_USAGE', '"direct" expected the 32-byte fingerprint of another identity, with a "secret"');
      if (secret !== undefined && (!(secret instanceof Uint8Array) || secret.length !== INVITE_SECRET_BYTES))
        throw new UsageError('E_USAGE', `"secret" expected Uint8Array of length ${INVITE_SECRET_BYTES}`);
      const cs = suiteFor(await base(), id);
      const kp = await keyPackageFor(id, name, cs);
      wipe(kp.privatePackage.initPrivateKey); // a creator's KeyPackage is never used for a Welcome
      // The room's policy: the creator is its admin; the invite secret is the link's.
      const extensions = secret ? [{ extensionType: POLICY_EXTENSION, extensionData: encodePolicy({ secret, admins: [identity.fingerprint], ...(direct ? { direct: direct.slice() } : {}) }) }] : [];
      const state = await mlsCreateGroup(utf8(room), kp.publicPackage, kp.privatePackage, extensions, cs, clientConfig());
      return new MlsGroupSession(room, state, cs, secrets);
    },

    async createJoinRequest(identity: Identity, name: string, room: string, secret: Uint8Array): Promise<PendingJoin> {
      const id = asDeviceIdentity(identity);
      checkName(name);
      checkRoom(room);
      if (!(secret instanceof Uint8Array) || secret.length !== INVITE_SECRET_BYTES)
        throw new UsageError('E_USAGE', `"secret" expected Uint8Array of length ${INVITE_SECRET_BYTES}`);
      const cs = suiteFor(await base(), id);
      const kp = await keyPackageFor(id, name, cs);
      const kpBytes = encodeKeyPackage(kp.publicPackage);
      const proof = await makeProof('join', secret, room, kpBytes);
      const request = encodeJoinRequest(room, name, kpBytes, proof);
      const body = await sealJoinRequest(request, room, secret);
      return new PendingJoinImpl(room, body, request, {
        cs,
        keyPackage: kp.publicPackage,
        keyPackageBytes: kpBytes,
        privateKeys: kp.privatePackage,
        secret: secret.slice(),
      });
    },

    parseJoinRequest(request: Uint8Array): JoinRequest | undefined {
      return decodeJoinRequest(request);
    },

    async openJoinRequest(body: Uint8Array, room: string, secret: Uint8Array): Promise<JoinRequest | undefined> {
      const opened = await openJoinRequest(body, room, secret);
      const request = opened && decodeJoinRequest(opened);
      if (request?.room !== room) return undefined;
      return (await verifyJoinProof(request, secret)) ? request : undefined;
    },

    verifyJoinProof,

    async joinFromWelcome(
      pending: PendingJoin,
      welcome: Uint8Array,
      inviter: Fingerprint | readonly Fingerprint[],
      accept?: (session: GroupSession) => boolean,
      expect?: { direct?: boolean; keep?: boolean },
    ): Promise<JoinOutcome> {
      const inviters: readonly Fingerprint[] = inviter instanceof Uint8Array ? [inviter] : inviter;
      if (!(pending instanceof PendingJoinImpl))
        throw new UsageError('E_USAGE', '"pending" expected a PendingJoin made by createJoinRequest');
      const parts = pendingParts(pending);
      if (parts === undefined) throw new UsageError('E_USAGE', 'this join was already completed or disposed');
      const { cs, keyPackage, keyPackageBytes, privateKeys, secret } = parts;
      if (!(welcome instanceof Uint8Array) || !inviters.every((i) => i instanceof Uint8Array))
        return badWelcome('the Welcome could not be read');
      let session: MlsGroupSession;
      try {
        const decoded = decodeMlsMessage(welcome, 0);
        if (!decoded || decoded[1] !== welcome.length || decoded[0].wireformat !== 'mls_welcome')
          return badWelcome('the Welcome could not be read');
        // RFC 9420 §12.4.3.1: decrypt, verify the GroupInfo signature and tree, derive the epoch.
        const [state, extensions] = await joinGroupWithExtensions(
          decoded[0].welcome,
          keyPackage,
          privateKeys,
          emptyPskIndex,
          cs,
          undefined,
          undefined,
          clientConfig(),
        );
        if (!bytesEqual(state.groupContext.groupId, utf8(pending.room)))
          return badWelcome('the Welcome is for another room');
        // The room's timer is group state every member checks; one that does not decode is no room of ours.
        if (timerIn(state.groupContext.extensions) === undefined) return badWelcome('the Welcome carries a malformed message timer');
        // Only a member holding the invite secret could make this proof: a relay that built a
        // group of its own around our (public) KeyPackage cannot.
        const proof = extensions.find((e) => e.extensionType === WELCOME_PROOF_EXTENSION);
        if (
          proof === undefined ||
          !(await checkProofIn('welcome', secret, pending.room, keyPackageBytes, proof.extensionData))
        ) {
          return badWelcome('the Welcome does not prove knowledge of the invite secret');
        }
        session = new MlsGroupSession(pending.room, state, cs, secrets);
      } catch {
        return badWelcome('the Welcome could not be opened or verified');
      }
      const members = session.members();
      // On refusal the session is dropped, not disposed: its leaf key is the PendingJoin's, which
      // stays usable for the genuine Welcome if this one was a forgery.
      if (!members.some((m) => inviters.some((i) => bytesEqual(m.fingerprint, i)))) {
        return badWelcome('the inviter named in the link is not a member of this room');
      }
      if (expect?.direct === true && !isDirectWith(session, inviters)) {
        return { ok: false, code: 'E_FORBIDDEN', message: 'the Welcome is not into a direct room of exactly this device and the inviter' };
      }
      if (accept && !accept(session)) return badWelcome('the Welcome is for a group that does not continue this room (another policy)');
      const pins = options.pins;
      // Judged per (name, key): a key other than the verified pin of its name, however often
      // the verified key itself was seen since.
      const changed = pins ? members.find((m) => m.leaf !== session.myLeaf() && pins.isBlocked(m.name, m.fingerprint)) : undefined;
      if (changed !== undefined) {
        return { ok: false, code: 'E_KEY_CHANGED', message: `the verified key of "${changed.name}" changed` };
      }
      if (expect?.keep !== true) pending.joined();
      return { ok: true, session };
    },
  };
}
