import { describe, expect, it } from 'vitest';
import { clientPrefix, Protection } from './protect.js';

describe('L7 protection', () => {
  it('limits by client network: IPv4 /24, IPv6 /48 (written in any form)', () => {
    expect(clientPrefix('203.0.113.77')).toBe('203.0.113.0/24');
    expect(clientPrefix('::ffff:203.0.113.9')).toBe('203.0.113.0/24');
    expect(clientPrefix('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(clientPrefix('2001:0db8:abcd:0012:0000:0000:0000:0001')).toBe('2001:db8:abcd::/48');
    expect(clientPrefix('2001:db8::1')).toBe('2001:db8:0::/48');
  });

  it('refills each bucket over time, says how long to wait, and never limits allow-listed networks', () => {
    const protection = new Protection({
      perPrefix: { rate: 1, burst: 2 },
      underAttack: { rate: 1, burst: 1 },
      allow: ['198.51.100.0/24'],
    });
    const t = 1_000_000;
    expect(protection.decide('203.0.113.1', '/', t)).toEqual({ ok: true });
    expect(protection.decide('203.0.113.2', '/', t)).toEqual({ ok: true });
    expect(protection.decide('203.0.113.3', '/', t)).toEqual({ ok: false, retryAfter: 1, reason: 'prefix' });
    // Another network has its own bucket; a second later there is a token again.
    expect(protection.decide('192.0.2.1', '/', t)).toEqual({ ok: true });
    expect(protection.decide('203.0.113.3', '/', t + 1000)).toEqual({ ok: true });
    for (let i = 0; i < 50; i++) expect(protection.decide('198.51.100.7', '/', t).ok).toBe(true);
    expect(protection.counts).toEqual({ forwarded: 54, prefix: 1, path: 0, under_attack: 0 });
  });

  it('under attack, gives each network the small bucket, whatever else is set', () => {
    const protection = new Protection({ underAttack: { rate: 0.5, burst: 1 }, allow: [] });
    expect(protection.decide('203.0.113.1', '/a').ok).toBe(true);
    protection.underAttack = true;
    const t = 5_000_000;
    expect(protection.decide('203.0.113.1', '/a', t)).toEqual({ ok: true });
    expect(protection.decide('203.0.113.1', '/b', t)).toEqual({
      ok: false,
      retryAfter: 2,
      reason: 'under_attack',
    });
  });

  it('limits a path for all clients together when perPath is set', () => {
    const protection = new Protection({
      perPath: { rate: 1, burst: 1 },
      underAttack: { rate: 1, burst: 1 },
      allow: [],
    });
    expect(protection.decide('203.0.113.1', '/search?q=a', 0).ok).toBe(true);
    expect(protection.decide('192.0.2.1', '/search?q=b', 0)).toMatchObject({ ok: false, reason: 'path' });
    expect(protection.decide('192.0.2.1', '/other', 0).ok).toBe(true);
  });
});
