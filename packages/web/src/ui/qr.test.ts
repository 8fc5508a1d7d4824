/** The QR path (ui/qr.ts) draws exactly uqr's dark modules: the SVG is built from the matrix. */
import { describe, expect, it } from 'vitest';
import { encode } from 'uqr';
import { qrPath } from './qr.js';

describe('qrPath', () => {
  it('covers every dark module and no light one', () => {
    const text = 'http://127.0.0.1:8090/abc/#r=AAAAAAAAAAAAAAAAAAAAAA&k=x';
    const { size, d } = qrPath(text);
    const { data } = encode(text, { ecc: 'M', border: 2 });
    const painted = data.map((row) => row.map(() => false));
    for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
      const [x, y, w] = [Number(m[1]), Number(m[2]), Number(m[3])];
      for (let i = x; i < x + w; i++) painted[y]![i] = true;
    }
    expect(size).toBe(data.length);
    expect(painted).toEqual(data);
    expect(d).toMatch(/^[Mhvz\d -]+$/);
  });
});
