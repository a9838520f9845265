import type { EventRow } from './row.js';
import { Spool, type Segment } from './spool.js';
import type { Store } from './store.js';

/** Settings of the durable writer (from `store` in the config). */
export interface WriterOptions {
  spoolDir: string;
  batchRows: number;
  flushMs: number;
  maxPendingRows: number;
  /** Called when the store refuses a batch (kept and retried); never with row contents. */
  onStoreError?: (error: unknown) => void;
}

/**
 * Accepts rows durably (spool, fsync) and moves them to the store one sealed segment at a time,
 * every `flushMs` milliseconds or as soon as `batchRows` rows wait. If the store is away, sealed
 * segments stay on disk and are retried with backoff; above `maxPendingRows` the writer reports
 * overload (collect answers 503).
 */
export class DurableWriter {
  private sealed: Segment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private closed = false;
  private failures = 0;

  private constructor(
    private readonly store: Store,
    private readonly spool: Spool,
    private readonly options: WriterOptions,
  ) {}

  /** Opens the spool, replays what a previous process left into the store, and starts the timer. */
  static async start(
    store: Store,
    options: WriterOptions,
  ): Promise<{ writer: DurableWriter; replayed: number }> {
    const { spool, leftovers } = Spool.open(options.spoolDir);
    const writer = new DurableWriter(store, spool, options);
    let replayed = 0;
    for (const path of leftovers) {
      replayed += (await store.appendJsonLines(path)).inserted;
      await spool.discard(path);
    }
    writer.schedule();
    return { writer, replayed };
  }

  /** Rows accepted but not yet in the store. */
  get pendingRows(): number {
    return this.spool.openRows + this.sealed.reduce((n, s) => n + s.rows, 0);
  }

  /** True when collect should answer 503 instead of accepting more. */
  get overloaded(): boolean {
    return this.pendingRows >= this.options.maxPendingRows;
  }

  /** Resolves once the rows are durable on disk; they reach the store with the next batch. */
  async write(rows: readonly EventRow[]): Promise<void> {
    if (this.closed) throw new Error('writer is closed');
    if (rows.length === 0) return;
    await this.spool.append(rows);
    if (this.spool.openRows >= this.options.batchRows)
      void this.flush().catch((e: unknown) => this.options.onStoreError?.(e));
  }

  private schedule(): void {
    if (this.closed) return;
    const delay =
      this.failures === 0
        ? this.options.flushMs
        : Math.min(30_000, this.options.flushMs * 2 ** this.failures);
    this.timer = setTimeout(() => {
      void this.flush()
        .catch((e: unknown) => this.options.onStoreError?.(e))
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  /**
   * Seals the open segment and writes every sealed segment to the store: rows written before the
   * call are in the store when it resolves (unless the store refused them). Safe to call
   * concurrently: a call made while a flush runs waits for it, then flushes once more (that
   * running flush sealed its segment before the call, so it may not hold the latest rows); calls
   * made meanwhile share that second flush.
   */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again ??= this.flushing
        .catch(() => undefined)
        .then(() => {
          this.again = undefined;
          return this.flush();
        });
      return this.again;
    }
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const segment = await this.spool.seal();
    if (segment) this.sealed.push(segment);
    while (this.sealed.length > 0) {
      const next = this.sealed[0]!;
      try {
        await this.store.appendJsonLines(next.path, next.span.rows());
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        this.options.onStoreError?.(error);
        return;
      }
      await this.spool.discard(next.path);
      this.sealed.shift();
    }
  }

  /** Stops the timer and writes everything accepted to the store (graceful shutdown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.flush();
    if (this.sealed.length > 0) {
      throw new Error(
        `${this.pendingRows} rows could not reach the store; they stay in the spool for the next start`,
      );
    }
  }
}
