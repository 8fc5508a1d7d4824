/**
 * How peer text is prepared for display. Preact puts strings into text nodes, so markup in them
 * is inert; `safeText` also makes invisible and reordering characters visible (bidi overrides,
 * zero-width characters: THREATS D.22), as the terminal does.
 */
import { safeText } from '@safehouse/core/client';

export const shown = (s: string): string => safeText(s, { maxChars: 64 });
export const shownMessage = (s: string): string => safeText(s, { multiline: true });

export function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** One of eight name colours, from the sender's fingerprint (not the name, which look-alikes share). */
export function colourClass(fingerprint: string): string {
  let h = 0;
  for (const c of fingerprint) h = (h * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return `c${h % 8}`;
}
