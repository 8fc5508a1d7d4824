/**
 * One error base with a stable `code`; subclasses by kind. Every code is listed in
 * docs/errors.md, and that list is checked against `ERROR_CODES` by a test.
 */

export const ERROR_CODES = {
  // protocol: bad bytes at a boundary
  E_FRAME_TOO_LARGE: 'protocol',
  E_FRAME_MALFORMED: 'protocol',
  E_HEADER_INVALID: 'protocol',
  E_UNSUPPORTED_VERSION: 'protocol',
  // relay answers (sent in `nack` / `error` frames)
  E_RATE_LIMITED: 'relay',
  E_ROOM_LIMIT: 'relay',
  E_NOT_SUBSCRIBED: 'relay',
  E_STALE_EPOCH: 'relay',
  E_NOT_MEMBER: 'relay',
  E_NO_SUCH_JOINER: 'relay',
  E_SERVER_CLOSING: 'relay',
  E_SLOW_CONSUMER: 'relay',
  E_EXPIRED: 'relay',
  E_FORBIDDEN: 'relay',
  E_KICKED: 'relay',
  E_TOO_MANY_CONNECTIONS: 'relay',
  E_UNAVAILABLE: 'relay',
  // crypto
  E_DECRYPT: 'crypto',
  E_INVITE_PROOF: 'crypto',
  E_KEY_CHANGED: 'crypto',
  E_CREDENTIAL_CHANGED: 'crypto',
  E_BAD_WELCOME: 'crypto',
  E_IDENTITY_LOCKED: 'crypto',
  E_CLOCK_SKEW: 'crypto',
  E_UNTIMED: 'crypto',
  // usage: the user asked for something that cannot be done
  E_USAGE: 'usage',
  E_UNKNOWN_COMMAND: 'usage',
  E_BAD_LINK: 'usage',
  E_NAME_INVALID: 'usage',
  E_NAME_TAKEN: 'usage',
  E_NO_ROOM: 'usage',
  E_UNKNOWN_MEMBER: 'usage',
  E_MEMBER_BLOCKED: 'usage',
  E_TEXT_TOO_LONG: 'usage',
  E_JOIN_TIMEOUT: 'usage',
  E_ADDRESS_REFUSED: 'usage',
  E_BASE_PATH_INVALID: 'usage',
  E_BANNED: 'usage',
  E_LINK_REVOKED: 'usage',
  E_TLS_CONFIG: 'usage',
  E_PASSWORD: 'usage',
  // transport
  E_CONNECT: 'transport',
  E_NOT_FOUND: 'transport',
  E_DISCONNECTED: 'transport',
  E_TIMEOUT: 'transport',
  E_PORT_IN_USE: 'transport',
  E_SSH_TUNNEL: 'transport',
  // roughtime: reply verification and multi-server measurement (docs/errors.md#roughtime)
  E_ROUGHTIME_FRAMING: 'protocol',
  E_ROUGHTIME_MALFORMED: 'protocol',
  E_ROUGHTIME_MISSING_TAG: 'protocol',
  E_ROUGHTIME_BAD_VALUE: 'protocol',
  E_ROUGHTIME_VERSION: 'protocol',
  E_ROUGHTIME_NONCE_MISMATCH: 'crypto',
  E_ROUGHTIME_MERKLE: 'crypto',
  E_ROUGHTIME_DELEGATION_SIGNATURE: 'crypto',
  E_ROUGHTIME_RESPONSE_SIGNATURE: 'crypto',
  E_ROUGHTIME_DELEGATION_WINDOW: 'crypto',
  E_ROUGHTIME_RADIUS_TOO_LARGE: 'protocol',
  E_ROUGHTIME_TIME_RANGE: 'protocol',
  E_ROUGHTIME_INCONSISTENT: 'crypto',
  E_ROUGHTIME_NO_QUORUM: 'transport',
  E_ROUGHTIME_STALE: 'usage',
  E_ROUGHTIME_UNREACHABLE: 'transport',
  E_TIME_UNPROVEN: 'usage',
  // a bound on the client's state was reached (client/README.md "Bounds")
  E_LIMIT: 'usage',
  // internal
  E_INTERNAL: 'internal',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorKind = (typeof ERROR_CODES)[ErrorCode];

export class SafehouseError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.kind = ERROR_CODES[code];
  }
}

export class ProtocolError extends SafehouseError {}
export class CryptoError extends SafehouseError {}
export class UsageError extends SafehouseError {}
export class TransportError extends SafehouseError {}
export class InternalError extends SafehouseError {}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, x);
}

/** For `switch` statements over unions: fails to compile when a case is missing. */
export function missingCaseError(x: never): Error {
  return new InternalError('E_INTERNAL', `unhandled case: ${String(x)}`);
}
