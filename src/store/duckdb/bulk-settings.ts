// DuckDB's refusal of an allocation past its memory limit (not fatal: the statement is rolled back).
const OUT_OF_MEMORY = /Out of Memory Error/i;
// A bulk load's memory bound doubled past this is dropped (DuckDB's own limit: 80 % of the RAM).
const MAX_BOUND_MB = 4096;

/**
 * DuckDB's settings while imports run (`DuckDBStore.bulkLoad`), set by the first and reset when
 * the last ends. One thread: the import's worker threads keep the other cores busy, and a
 * parallel insert costs more CPU per row for the same work; set once for the whole import, not
 * per batch — each change of the thread count made DuckDB hand its memory back to the system and
 * fault it in again (≈ 1 µs per row, BENCHMARKS.md). And, when asked, a memory bound: without
 * one DuckDB keeps every block of the table it writes in its cache, ≈ 4.5 MB per 122,880 rows,
 * for as long as the process lives.
 */
export class BulkSettings {
  private loads = 0;
  /** DuckDB's memory limit while a bounded bulk load runs (MB), else null (its default). */
  private boundMb: number | null = null;

  /**
   * `run` runs one statement on the store's connection, under its lock; `threads`: the store's
   * own (given back when the last load ends; none: DuckDB's default).
   */
  constructor(
    private readonly run: (sql: string) => Promise<unknown>,
    private readonly threads?: number,
  ) {}

  /** A bulk load begins; the first sets one thread, and the memory bound when given. */
  async enter(memoryMb: number | undefined): Promise<void> {
    if (++this.loads > 1) return;
    await this.run('SET threads = 1');
    if (memoryMb) await this.bound(memoryMb);
  }

  /** A bulk load ends; the last resets what the first set. */
  async leave(): Promise<void> {
    if (--this.loads > 0) return;
    await this.run(this.threads === undefined ? 'RESET threads' : `SET threads = ${this.threads}`);
    await this.bound(null);
  }

  /**
   * Runs a write; when it runs out of the memory bound (a batch whose time range overlaps many
   * stored rows has a large id check), doubles the bound — up to DuckDB's default — and runs it
   * again: the failed write was rolled back whole.
   */
  async withinBound<T>(write: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await write();
      } catch (error) {
        const bound = this.boundMb;
        if (bound === null || !OUT_OF_MEMORY.test(String((error as Error)?.message))) throw error;
        await this.bound(bound * 2);
      }
    }
  }

  /**
   * Sets DuckDB's memory limit to `mb` — or the first of its doublings that DuckDB can meet with
   * what it holds now, up to its default — or back to its default (null).
   */
  private async bound(mb: number | null): Promise<void> {
    for (let bound = mb; bound !== null && bound <= MAX_BOUND_MB; bound *= 2) {
      try {
        await this.run(`SET memory_limit = '${bound}MB'`);
        this.boundMb = bound;
        return;
      } catch (error) {
        if (!OUT_OF_MEMORY.test(String((error as Error)?.message))) throw error;
      }
    }
    if (this.boundMb !== null) await this.run('RESET memory_limit');
    this.boundMb = null;
  }
}
