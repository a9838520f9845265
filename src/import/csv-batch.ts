/**
 * Row CSV lines (store/csv.ts) gathered in one reusable buffer: an import fills it, hands its
 * bytes to the store, and refills it once the store has read them — no per-line objects stay
 * alive between flushes, so the garbage collector has nothing to promote.
 */
export class CsvBatch {
  private readonly buffer: Buffer;
  private offset = 0;
  /** Rows in the batch, and the smallest and largest `ts` among them. */
  rows = 0;
  minTs = Infinity;
  maxTs = -Infinity;

  constructor(capacityBytes: number) {
    this.buffer = Buffer.allocUnsafe(capacityBytes);
  }

  /** True when `line` (UTF-8: at most 3 bytes per UTF-16 unit) may not fit any more. */
  full(line: string): boolean {
    return this.offset + line.length * 3 > this.buffer.length;
  }

  /** Appends one line (newline included) of a row at time `ts`; call `full` first. */
  add(line: string, ts: number): void {
    this.offset += this.buffer.write(line, this.offset, 'utf8');
    this.rows++;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
  }

  /** The bytes written so far (a view: valid until `reset`). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }

  /** Empties the batch for reuse. */
  reset(): void {
    this.offset = 0;
    this.rows = 0;
    this.minTs = Infinity;
    this.maxTs = -Infinity;
  }
}
