const FAILURES = 5;
const OPEN_MS = 30_000;

/**
 * A circuit breaker per tool: after 5 failures in a row (no answer, 408, 429, 5xx) the tool's
 * sends wait 30 s; a success closes it.
 */
export class Breakers {
  private readonly byTool = new Map<string, { failures: number; openUntil: number }>();

  /** The time until which `tool` waits, or 0 when its breaker is closed at `now`. */
  openUntil(tool: string, now: number): number {
    const breaker = this.byTool.get(tool);
    return breaker && breaker.openUntil > now ? breaker.openUntil : 0;
  }

  /** A retryable failure of `tool` at `now`. */
  failed(tool: string, now: number): void {
    const breaker = this.byTool.get(tool) ?? { failures: 0, openUntil: 0 };
    breaker.failures++;
    if (breaker.failures >= FAILURES) breaker.openUntil = now + OPEN_MS;
    this.byTool.set(tool, breaker);
  }

  /** A success of `tool`: its breaker closes. */
  succeeded(tool: string): void {
    this.byTool.delete(tool);
  }
}
