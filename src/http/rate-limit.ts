/**
 * Fixed-window request counters per key (per IP, per site). Per node by design: with N gateways
 * the effective limit is N times higher (docs/scale.md: global limits go through a shared service later).
 * Memory is bounded: at most `maxKeys` keys per window; past that, new keys share one bucket.
 */
export class RateLimiter {
  private counts = new Map<string, number>();
  private windowStart = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one hit for `key`; returns 0 when allowed, else the seconds until the window ends. */
  hit(key: string): number {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now - (now % this.windowMs);
      this.counts = new Map();
    }
    const bucket = this.counts.has(key) || this.counts.size < this.maxKeys ? key : '\u0000overflow';
    const count = (this.counts.get(bucket) ?? 0) + 1;
    this.counts.set(bucket, count);
    if (count <= this.limit) return 0;
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - now) / 1000));
  }
}
