import { describe, expect, it } from 'vitest';
import { HookTimeout, withTimeout } from './timeout.js';

const never = () => new Promise<never>(() => undefined);

describe('withTimeout', () => {
  it('answers with the work’s value or error, and no timeout fires afterwards', async () => {
    await expect(withTimeout(() => 7, 30)).resolves.toBe(7);
    await expect(withTimeout(() => Promise.resolve('x'), 30)).resolves.toBe('x');
    await expect(
      withTimeout(() => {
        throw new Error('boom');
      }, 30),
    ).rejects.toThrow('boom');
    await new Promise((r) => setTimeout(r, 60));
  });

  it('rejects a hanging hook after its own limit, whatever longer limits run beside it', async () => {
    const long = withTimeout(never, 10_000);
    long.catch(() => undefined);
    const started = performance.now();
    const short = await withTimeout(never, 50).catch((error: unknown) => error);
    const took = performance.now() - started;
    expect(short).toBeInstanceOf(HookTimeout);
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(1000);
  });

  it('times out each of many hooks sharing a limit, in order, and only those that hang', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        withTimeout(() => (i % 3 === 0 ? never() : i), 40).then(
          (value) => value,
          (error: unknown) => (error instanceof HookTimeout ? 'timeout' : 'other'),
        ),
      ),
    );
    outcomes.forEach((outcome, i) => expect(outcome).toBe(i % 3 === 0 ? 'timeout' : i));
  });
});
