/** The key the per-address caps count under (THREATS A.7): IPv4 as is, IPv6 by /64. */
import { describe, expect, it } from 'vitest';
import { normaliseIp } from './gate.js';

describe('source address key', () => {
  it('counts IPv4 and IPv4-mapped IPv6 as one source', () => {
    expect(normaliseIp('127.0.0.2')).toBe('127.0.0.2');
    expect(normaliseIp('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(normaliseIp('::FFFF:10.1.2.3')).toBe('10.1.2.3');
  });

  it('counts every address of an IPv6 /64 as one source', () => {
    const key = normaliseIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
    expect(key).toBe('2001:db8:1:2::/64');
    expect(normaliseIp('2001:db8:1:2::1')).toBe(key);
    expect(normaliseIp('2001:0db8:0001:0002:0:0:0:ffff')).toBe(key);
    expect(normaliseIp('2001:db8:1:3::1')).not.toBe(key);
    expect(normaliseIp('::1')).toBe('0:0:0:0::/64');
    expect(normaliseIp('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  it('has a key for a missing address', () => {
    expect(normaliseIp(undefined)).toBe('unknown');
  });
});
