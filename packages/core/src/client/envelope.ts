/**
 * Byte formats the client puts inside frames (docs/protocol.md):
 *   - the Welcome envelope, body of a `welcome` frame: tag 0x01 + MLS Welcome; or 0x02 + UTF-8
 *     refusal code (`E_NAME_TAKEN`, `E_NAME_INVALID`, `E_BANNED`, `E_CLOCK_SKEW`,
 *     `E_LINK_REVOKED`). (0x03, a Welcome with a note carrying the room's timer, is gone: the
 *     timer is group state now, e2ee/timer.ts.)
 *   - the application plaintext inside MLS: JSON `{t:"text",text}`, `{t:"me",text}`,
 *     `{t:"dm",to,room,key,enc,ct}`, `{t:"alive"}`.
 * Decoders return undefined for anything else: a peer's bytes are validated here, once.
 */
import * as v from 'valibot';
import { isErrorCode } from '../protocol/errors.js';
import { LIMITS } from '../protocol/limits.js';

export const WELCOME_TAG = 0x01;
export const REFUSAL_TAG = 0x02;

export type RefusalCode = 'E_NAME_TAKEN' | 'E_NAME_INVALID' | 'E_BANNED' | 'E_CLOCK_SKEW' | 'E_LINK_REVOKED';
export type WelcomeEnvelope = { kind: 'welcome'; welcome: Uint8Array } | { kind: 'refused'; code: RefusalCode };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeWelcomeEnvelope(e: WelcomeEnvelope): Uint8Array {
  const data = e.kind === 'welcome' ? e.welcome : utf8.encode(e.code);
  const out = new Uint8Array(1 + data.length);
  out[0] = e.kind === 'welcome' ? WELCOME_TAG : REFUSAL_TAG;
  out.set(data, 1);
  return out;
}

export function decodeWelcomeEnvelope(body: Uint8Array): WelcomeEnvelope | undefined {
  if (!(body instanceof Uint8Array) || body.length < 2) return undefined;
  const data = body.subarray(1);
  if (body[0] === WELCOME_TAG) return { kind: 'welcome', welcome: data.slice() };
  if (body[0] !== REFUSAL_TAG || data.length > 64) return undefined;
  let code: string;
  try {
    code = strictUtf8.decode(data);
  } catch {
    return undefined;
  }
  return isErrorCode(code) && (code === 'E_NAME_TAKEN' || code === 'E_NAME_INVALID' || code === 'E_BANNED' || code === 'E_CLOCK_SKEW' || code === 'E_LINK_REVOKED') ? { kind: 'refused', code } : undefined;
}

const Text = v.pipe(
  v.string(),
  v.check((s) => s.length > 0 && utf8.encode(s).length <= LIMITS.maxTextBytes, 'text expected 1 to 16 KiB'),
);
const Counter = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
const B64Id = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/));
const B64Key = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/));

/** Unknown keys are dropped (later versions may add some); unknown kinds are refused. */
const AppPayload = v.variant('t', [
  /** `n`: the sender's counter in this room, for gap detection (gaps.ts); optional. */
  v.object({ t: v.literal('text'), text: Text, n: v.optional(Counter) }),
  v.object({ t: v.literal('me'), text: Text, n: v.optional(Counter) }),
  /**
   * An invitation to a direct-message room: `to` is the invitee's fingerprint; the room's invite
   * secret is sealed to the invitee's leaf key `key` (e2ee/seal.ts: `enc`, then 32 + 16 bytes `ct`).
   */
  v.object({ t: v.literal('dm'), to: B64Key, room: B64Id, key: B64Key, enc: B64Key, ct: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{64}$/)) }),
  /** A sign of life from a member that has sent nothing else for a while (`pub kind:alive`; docs/protocol.md "Absent members"). */
  v.object({ t: v.literal('alive') }),
]);
export type AppPayload = v.InferOutput<typeof AppPayload>;

export function encodeAppPayload(p: AppPayload): Uint8Array {
  return utf8.encode(JSON.stringify(p));
}

export function decodeAppPayload(bytes: Uint8Array): AppPayload | undefined {
  let json: unknown;
  try {
    json = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return undefined;
  }
  const r = v.safeParse(AppPayload, json);
  return r.success ? r.output : undefined;
}
