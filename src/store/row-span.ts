import type { FileRows } from './store.js';

const HOUR_MS = 3_600_000;

/**
 * The time range and hours of the rows written to a file, gathered as they are written: what
 * its writer tells the store (`FileRows`) so that the store need not read the rows back for them.
 */
export class RowSpan {
  private minTs = Infinity;
  private maxTs = -Infinity;
  private readonly hours = new Set<number>();
  // Rows come nearly in time order: most share the hour of the row before.
  private lastHour = NaN;

  /** Counts a row at `ts` (epoch ms). */
  add(ts: number): void {
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    const hour = Math.floor(ts / HOUR_MS);
    if (hour !== this.lastHour) this.hours.add((this.lastHour = hour));
  }

  /** The rows' range and hours, or undefined when none was added. */
  rows(): FileRows | undefined {
    if (this.hours.size === 0) return undefined;
    return { minTs: this.minTs, maxTs: this.maxTs, hours: [...this.hours] };
  }
}
