import { describe, expect, it } from 'vitest';
import { BaliseError } from '../errors.js';
import { LoginGuard } from './login-guard.js';

function outcome(promise: Promise<boolean>): Promise<string> {
  return promise.then(
    (ok) => (ok ? 'ok' : 'wrong'),
    (error: unknown) =>
      error instanceof BaliseError ? `${error.status} ${error.retryAfterSeconds}` : 'other',
  );
}

describe('LoginGuard', () => {
  it('makes wrong passwords from many addresses wait longer and longer, and a right one clears the wait', async () => {
    let now = 1_000_000;
    const guard = new LoginGuard(() => now);
    const wrong = () => Promise.resolve(false);
    const results: string[] = [];
    // 40 addresses, one guess each: the first five are checked, then each waits.
    for (let i = 0; i < 40; i++) results.push(await outcome(guard.attempt(`198.51.100.${i}`, wrong)));
    expect(results.slice(0, 5)).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wrong']);
    expect(results.slice(5).every((r) => r === '429 1')).toBe(true);
    now += 1000;
    expect(await outcome(guard.attempt('198.51.100.200', wrong))).toBe('wrong');
    expect(await outcome(guard.attempt('198.51.100.201', wrong))).toBe('429 2');
    now += 2000;
    expect(await outcome(guard.attempt('198.51.100.202', () => Promise.resolve(true)))).toBe('ok');
    expect(await outcome(guard.attempt('198.51.100.203', wrong))).toBe('wrong');
  });

  it('checks one password at a time and counts 10 attempts per address per minute', async () => {
    const guard = new LoginGuard();
    let release: (ok: boolean) => void = () => undefined;
    const first = guard.attempt('203.0.113.1', () => new Promise<boolean>((resolve) => (release = resolve)));
    expect(await outcome(guard.attempt('203.0.113.2', () => Promise.resolve(true)))).toBe('429 1');
    release(true);
    expect(await first).toBe(true);
    const results: string[] = [];
    for (let i = 0; i < 11; i++)
      results.push(await outcome(guard.attempt('203.0.113.3', () => Promise.resolve(true))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    expect(results[10]).toMatch(/^429 /);
  });
});
