import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows `limit` hits per window and key, then says how long to wait', () => {
    let now = 120_000;
    const limiter = new RateLimiter(2, 60_000, 100, () => now);
    expect([limiter.hit('a'), limiter.hit('a'), limiter.hit('b')]).toEqual([0, 0, 0]);
    now += 15_000;
    expect(limiter.hit('a')).toBe(45);
    now += 45_000;
    expect(limiter.hit('a')).toBe(0);
  });
  it('bounds memory: past maxKeys, new keys share one bucket', () => {
    const limiter = new RateLimiter(1, 60_000, 2, () => 0);
    expect([limiter.hit('a'), limiter.hit('b'), limiter.hit('c'), limiter.hit('d')]).toEqual([0, 0, 0, 60]);
  });
});
