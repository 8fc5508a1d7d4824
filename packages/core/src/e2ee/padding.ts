/**
 * Padding of application messages (RFC 9420 §6.3.1): every plaintext fills a size bucket, so a
 * message's length tells the relay only its bucket (THREATS: padding to size buckets is in scope).
 */
/** Plaintext sizes are padded up to a bucket (THREATS: padding to size buckets is in scope). */
export function paddedSize(n: number): number {
  if (n <= 256) return 256;
  if (n <= 16384) return 2 ** Math.ceil(Math.log2(n));
  return Math.ceil(n / 16384) * 16384;
}

/**
 * Zero bytes to add after the content (RFC 9420 §6.3.1) so that `application_data` with its
 * variable-length prefix (§2.1.2: 1, 2 or 4 bytes) always fills its bucket exactly.
 */
export function paddingFor(n: number): number {
  const prefix = n < 64 ? 1 : n < 16384 ? 2 : 4;
  return paddedSize(n) + 4 - (n + prefix);
}
