/**
 * Roughtime outcomes are values, not exceptions (STYLE.md: "Verification returns false; it does
 * not throw"). A rejection carries a stable code from `protocol/errors.ts` (listed in
 * docs/errors.md, section "Roughtime") and a short English detail for logs; the detail never
 * contains key material or message text, only tag names, lengths and numbers.
 */
import type { ErrorCode } from '../protocol/errors.js';

export type RoughtimeRejectCode = Extract<ErrorCode, `E_ROUGHTIME_${string}`> | 'E_USAGE';

export interface Rejected {
  readonly ok: false;
  readonly code: RoughtimeRejectCode;
  readonly detail: string;
}

export function reject(code: RoughtimeRejectCode, detail: string): Rejected {
  return { ok: false, code, detail };
}
