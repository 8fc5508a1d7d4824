/**
 * A QR code as an SVG path, built from uqr's module matrix: the SVG itself is made of DOM
 * elements by Preact (ui/Qr.tsx), never parsed from a string (CSP and THREATS D.24).
 */
import { encode } from 'uqr';

export type QrPath = { size: number; d: string };

/** One `M x y h1 v1 h-1 z` square per dark module, runs of dark modules merged on each row. */
export function qrPath(text: string): QrPath {
  const { data, size } = encode(text, { ecc: 'M', border: 2 });
  let d = '';
  data.forEach((row, y) => {
    let x = 0;
    while (x < size) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && row[x]) x++;
      d += `M${start} ${y}h${x - start}v1h${start - x}z`;
    }
  });
  return { size, d };
}
