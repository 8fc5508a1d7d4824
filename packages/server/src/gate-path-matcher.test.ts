/**
 * THREATS B.13: the gate recognises its three routes by comparing HMACs of the raw request
 * target in constant time; anything else — a prefix, a query string, an escape, a case change —
 * is no route at all. After `wipe()` nothing matches.
 */
import { describe, expect, it } from 'vitest';
import { PathMatcher } from './gate.js';

describe('path matcher', () => {
  const base = '/k3Jx9_AbCdEfGhIjKlMnOp';
  it('knows exactly three targets', () => {
    const m = new PathMatcher(base);
    expect(m.match(base)).toBe('redirect');
    expect(m.match(`${base}/`)).toBe('page');
    expect(m.match(`${base}/ws`)).toBe('ws');
    for (const t of [
      undefined,
      '',
      '/',
      base.slice(0, -1),
      `${base}/ws/`,
      `${base}/?x`,
      `${base}/ws?x=1`,
      `${base}/WS`,
      base.toLowerCase(),
      `${base}%2F`,
      `${base}/%77s`,
      `//${base.slice(1)}/`,
      `http://127.0.0.1${base}/`,
      `${base}/ws\u0000`,
    ])
      expect(m.match(t), String(t)).toBe('none');
  });

  it('another process (another key) and a wiped matcher match nothing by accident', () => {
    const m = new PathMatcher(base);
    const other = new PathMatcher('/another');
    expect(other.match(base)).toBe('none');
    m.wipe();
    expect(m.match(`${base}/`)).toBe('none');
  });
});
