/**
 * QR codes as text (`uqr`): two modules per character cell with the half-block characters, so a
 * code is as wide as it has modules and half as tall. Scanners read them off a screen as long as
 * the whole code is visible: callers check `size` against the space they have.
 */
import { renderUnicodeCompact } from 'uqr';
import { width } from './wrap.js';

export type QrText = { lines: string[]; cols: number; rows: number };

/** The QR code of `data` (a link, or the digits of a fingerprint), with a one-module quiet border. */
export function qrText(data: string): QrText {
  // 'L' (7 % recovery) keeps an invite link's code small enough for a 80×24 terminal's height
  // budget as far as it goes; a screen is not a crumpled sticker.
  const lines = renderUnicodeCompact(data, { ecc: 'L', border: 1 })
    .split('\n')
    .filter((l) => l !== '');
  return { lines, cols: Math.max(0, ...lines.map(width)), rows: lines.length };
}
