import { BaliseError } from '../errors.js';
import { RateLimiter } from '../http/rate-limit.js';

/** Login attempts per client address per minute. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;
/** Password checks per minute from all addresses together. */
export const LOGINS_PER_MINUTE = 30;
/** Wrong passwords in a row before each further one makes the next attempt wait. */
export const FREE_FAILURES = 5;
/** The longest wait after wrong passwords (the wait doubles with each: 1 s, 2 s, 4 s … 60 s). */
export const MAX_BACKOFF_MS = 60_000;

const tooMany = (message: string, seconds: number) =>
  new BaliseError('rate_limited', message, undefined, Math.max(1, Math.ceil(seconds)));

/**
 * Slows password guessing on the dashboard's one account: per address (10 a minute), for all
 * addresses together (30 a minute), one password check at a time, and after 5 wrong passwords in
 * a row an exponential wait before the next attempt from anywhere (1 s doubling up to 60 s),
 * cleared by a right one. Many addresses together thus get about one guess a minute, not 400.
 */
export class LoginGuard {
  private readonly perAddress = new RateLimiter(LOGIN_ATTEMPTS_PER_MINUTE);
  private readonly global = new RateLimiter(LOGINS_PER_MINUTE);
  private failures = 0;
  private lockedUntil = 0;
  private checking = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Runs `check` (the password check) if an attempt from `address` may be made now, else throws 429. */
  async attempt(address: string, check: () => Promise<boolean>): Promise<boolean> {
    const wait = this.perAddress.hit(address);
    if (wait > 0) throw tooMany('too many login attempts; retry later', wait);
    const now = this.now();
    if (now < this.lockedUntil)
      throw tooMany(
        'too many wrong passwords; wait before the next attempt',
        (this.lockedUntil - now) / 1000,
      );
    if (this.checking) throw tooMany('another login is being checked; retry in a moment', 1);
    const globalWait = this.global.hit('all');
    if (globalWait > 0) throw tooMany('too many login attempts; retry later', globalWait);
    this.checking = true;
    let ok: boolean;
    try {
      ok = await check();
    } finally {
      this.checking = false;
    }
    if (ok) {
      this.failures = 0;
      this.lockedUntil = 0;
    } else if (++this.failures >= FREE_FAILURES) {
      this.lockedUntil = this.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - FREE_FAILURES));
    }
    return ok;
  }
}
