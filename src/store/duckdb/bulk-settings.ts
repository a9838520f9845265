import { statSync } from 'node:fs';

// DuckDB's refusal of an allocation past its memory limit (not fatal: the statement is rolled back).
const OUT_OF_MEMORY = /Out of Memory Error/i;
// A bulk load's memory bound doubled past this is dropped (DuckDB's own limit: 80 % of the RAM).
const MAX_BOUND_MB = 4096;
/**
 * Rows written to `events` after which a store that checkpoints itself does. More than 3/4 of a
 * row group (122,880 rows): each checkpoint writes the rows since the last one as row groups of
 * their own, and DuckDB's vacuum merges up to four adjacent ones into one fewer when they fit —
 * groups of 80,000 rows were merged at every third checkpoint, rewriting 320,000 rows (≈ 2 s,
 * +30 MB at that moment; 3× the checkpoints' CPU). Groups of more than 92,160 never fit.
 */
export const CHECKPOINT_ROWS = 100_000;
/**
 * WAL bytes after which such a store checkpoints all the same (wide rows: the rows in DuckDB's
 * memory until a checkpoint take ≈ 2× the WAL's size). 100,000 rows of a pageview: ≈ 20 MiB.
 */
export const CHECKPOINT_WAL_BYTES = 32 * 2 ** 20;
/** DuckDB's own threshold in such a store: a net, never reached while the store's checks run. */
export const SAFETY_CHECKPOINT = '256MB';

/** The WAL's size; 0 without one (nothing written since the last checkpoint, or in memory). */
function walBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * DuckDB's settings while imports run (`DuckDBStore.bulkLoad`), set by the first and reset when
 * the last ends. One thread: the import's worker threads keep the other cores busy, and a
 * parallel insert costs more CPU per row for the same work; set once for the whole import, not
 * per batch — each change of the thread count made DuckDB hand its memory back to the system and
 * fault it in again (≈ 1 µs per row, BENCHMARKS.md). And, when asked, a memory bound: without
 * one DuckDB keeps every block of the table it writes in its cache, ≈ 4.5 MB per 122,880 rows,
 * for as long as the process lives. Also a gateway's checkpoints, each under a memory bound
 * (`checkpointIfDue`).
 */
export class BulkSettings {
  private loads = 0;
  /** DuckDB's memory limit while a bounded bulk load or checkpoint runs (MB), else null (its default). */
  private boundMb: number | null = null;

  /**
   * `run` runs one statement on the store's connection, under its lock; `threads`: the store's
   * own (given back when the last load ends; none: DuckDB's default); `checkpointBoundMb`: the
   * memory bound of checkpoints outside bulk loads (`checkpoint`), none: none.
   */
  constructor(
    private readonly run: (sql: string) => Promise<unknown>,
    private readonly read: (sql: string) => Promise<unknown>,
    private readonly threads?: number,
    private readonly checkpointBoundMb?: number,
  ) {
    this.checkpointBound = checkpointBoundMb ?? null;
  }

  /**
   * The bound of the next checkpoint (MB; null: DuckDB's default): `checkpointBoundMb`, doubled
   * after each checkpoint that failed under it.
   */
  private checkpointBound: number | null;

  /** DuckDB's memory limit before any bound, as it prints it (`18.8 GiB`); read at the first bound. */
  private defaultLimit: string | undefined;

  /** Rows written to `events` since the last checkpoint (or since the store was opened). */
  private rowsSinceCheckpoint = 0;

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
   * In a store that checkpoints itself (given `checkpointBoundMb`), after a write of `rows` rows:
   * a checkpoint once `CHECKPOINT_ROWS` were written since the last, or once the WAL at `walPath`
   * holds `CHECKPOINT_WAL_BYTES` (a stat of the file). One that fails throws as the write's
   * error: its rows are committed (in the WAL), and the writer's retry finds them stored.
   */
  async checkpointIfDue(walPath: string, rows: number): Promise<void> {
    if (this.checkpointBoundMb === undefined) return;
    // An import's batches (a row group each) are written to the file as they are inserted.
    if (this.loads === 0) this.rowsSinceCheckpoint += rows;
    if (this.rowsSinceCheckpoint >= CHECKPOINT_ROWS || walBytes(walPath) >= CHECKPOINT_WAL_BYTES)
      await this.checkpoint();
  }

  /**
   * Runs a checkpoint: outside bulk loads, in a store given `checkpointBoundMb`, under that bound
   * (or the first doubling of it DuckDB can meet with the rows it holds), then gives DuckDB its
   * default back, so that queries keep it. DuckDB's own checkpoint, unbounded, peaked higher as
   * the store grew (2.1M rows written live: 362 MB against 228; BENCHMARKS.md).
   *
   * A checkpoint that runs out of its bound is not refused like a statement: DuckDB invalidates
   * the database ("FATAL Error: Failed to create checkpoint … failed to pin block"), and the store
   * opens the file again, its rows safe in the WAL. The next checkpoint would need the same
   * memory and fail the same way, every write after it failing with it: so each checkpoint that
   * fails doubles the bound of the next, up to DuckDB's default.
   */
  async checkpoint(): Promise<void> {
    if (this.loads > 0 || this.checkpointBoundMb === undefined || this.checkpointBound === null) {
      await this.run('CHECKPOINT');
      this.rowsSinceCheckpoint = 0;
      return;
    }
    const bound = this.checkpointBound;
    try {
      await this.bound(bound);
      await this.withinBound(() => this.run('CHECKPOINT'));
      this.rowsSinceCheckpoint = 0;
    } catch (error) {
      const failed = Math.max(bound, this.boundMb ?? bound); // `bound` or a doubling of it
      this.checkpointBound = failed * 2 > MAX_BOUND_MB ? null : failed * 2;
      throw error;
    } finally {
      // Not over the checkpoint's own error: a store that failed is opened again by its caller.
      await this.bound(null).catch(() => (this.boundMb = null));
    }
  }

  /**
   * Sets DuckDB's memory limit to `mb` — or the first of its doublings that DuckDB can meet with
   * what it holds now, up to its default — or back to its default (null).
   */
  private async bound(mb: number | null): Promise<void> {
    this.defaultLimit ??= String(await this.read("SELECT current_setting('memory_limit')"));
    for (let bound = mb; bound !== null && bound <= MAX_BOUND_MB; bound *= 2) {
      try {
        await this.run(`SET memory_limit = '${bound}MB'`);
        this.boundMb = bound;
        return;
      } catch (error) {
        if (!OUT_OF_MEMORY.test(String((error as Error)?.message))) throw error;
      }
    }
    // Set back by value: DuckDB 1.5's `RESET memory_limit` resets the setting it shows but leaves
    // its buffer pool at the bound (checked by bulk-settings.test.ts).
    if (this.boundMb !== null) await this.run(`SET memory_limit = '${this.defaultLimit}'`);
    this.boundMb = null;
  }
}
