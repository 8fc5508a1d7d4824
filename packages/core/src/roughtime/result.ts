/**
 * Roughtime outcomes are values, not exceptions (STYLE.md: "Verification returns false; it does
 * not throw"). A rejection carries a stable code from `protocol/errors.ts` (listed in
 * docs/errors.md, section "Roughtime") and a short English detail for logs; the detail never
 * contains key material or message text, only tag names, lengths and numbers.
 */
import {
  CryptoError,
  ERROR_CODES,
  ProtocolError,
  TransportError,
  UsageError,
  type ErrorCode,
  type SafehouseError,
} from '../protocol/errors.js';

export type RoughtimeRejectCode = Extract<ErrorCode, `E_ROUGHTIME_${string}`> | 'E_USAGE';

export interface Rejected {
  readonly ok: false;
  readonly code: RoughtimeRejectCode;
  readonly detail: string;
}

export function reject(code: RoughtimeRejectCode, detail: string): Rejected {
  return { ok: false, code, detail };
}

/**
 * For callers that decide to throw (e.g. "no proven time, cannot send a timed message"): the
 * rejection as the SafehouseError subclass of its code's kind, with the code kept.
 */
export function toError(r: { readonly code: RoughtimeRejectCode; readonly detail: string }): SafehouseError {
  const message = `Roughtime: ${r.detail}`;
  switch (ERROR_CODES[r.code]) {
    case 'crypto':
      return new CryptoError(r.code, message);
    case 'transport':
      return new TransportError(r.code, message);
    case 'usage':
      return new UsageError(r.code, message);
    case 'protocol':
      return new ProtocolError(r.code, message);
  }
}
