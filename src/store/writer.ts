import { BaliseError } from '../errors.js';
import type { EventRow } from './row.js';
import { readFileSync } from 'node:fs';
import { RowSpan } from './row-span.js';
import { UnreadableFile, type EventSink } from './store.js';
import { repairSegment, rowCount, Spool, type Segment, type SpoolLines } from './spool.js';

/** Settings of the durable writer (from `store` in the config). */
export interface WriterOptions {
  spoolDir: string;
  batchRows: number;
  flushMs: number;
  maxPendingRows: number;
  /** Called when the store refuses a batch (kept and retried); never with row contents. */
  onStoreError?: (error: unknown) => void;
  /** Called when a segment the store could not read was rewritten (`repairSegment`), with its counts. */
  onRepair?: (path: string, kept: number, rejected: number) => void;
  /** Called when the spool cannot write (the rows are refused, never acknowledged); never with row contents. */
  onSpoolError?: (error: unknown) => void;
  /** How long appends are refused at once after the spool failed (a full disk is not retried per request). */
  spoolPauseMs?: number;
}

/** Seconds a client is told to wait (Retry-After) while the spool cannot write. */
export const STORAGE_RETRY_SECONDS = 5;

/** Where the writer stands, for healthz and metrics (the errors themselves go to the log). */
export interface WriterHealth {
  /** The spool cannot write: collect answers 503 `storage_unavailable`. */
  spoolFailing: boolean;
  /** The store refused the last batch (kept in the spool and retried). */
  storeFailing: boolean;
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
  /** When the spool last failed, while it fails (null once an append succeeds). */
  private spoolFailedAt: number | null = null;
  private storeFailing = false;
  /** Rows admitted and being written to the spool (not yet in `pendingRows`). */
  private appending = 0;

  private constructor(
    private readonly store: EventSink,
    private readonly spool: Spool,
    private readonly options: WriterOptions,
  ) {}

  /** Opens the spool, replays what a previous process left into the store, and starts the timer. */
  static async start(
    store: EventSink,
    options: WriterOptions,
  ): Promise<{ writer: DurableWriter; replayed: number }> {
    const { spool, leftovers } = Spool.open(options.spoolDir);
    const writer = new DurableWriter(store, spool, options);
    let replayed = 0;
    for (const path of leftovers) {
      if (writer.sealed.length === 0) {
        try {
          replayed += await writer.appendSegment({ path, rows: 0, span: new RowSpan() });
          await spool.discard(path);
          continue;
        } catch (error) {
          // Kept, said, and retried with the next flush: the gateway starts all the same.
          writer.failures = 1;
          writer.storeFailing = true;
          options.onStoreError?.(error);
        }
      }
      writer.sealed.push({ path, rows: countLines(path), span: new RowSpan() });
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
    return this.pendingRows + this.appending >= this.options.maxPendingRows;
  }

  /**
   * Throws the 503 collect answers when `rows` more cannot be taken now: the backlog (rows not
   * yet in the store, and rows being written) would pass `maxPendingRows` (`overloaded`), or the
   * spool failed less than `spoolPauseMs` ago (`storage_unavailable`). Synchronous, so that a
   * caller that admits then writes in the same turn never overshoots the bound.
   */
  admit(rows: number): void {
    if (this.spoolFailedAt !== null && Date.now() - this.spoolFailedAt < (this.options.spoolPauseMs ?? 1000))
      throw storageUnavailable();
    if (this.pendingRows + this.appending + rows > this.options.maxPendingRows)
      throw new BaliseError('overloaded', 'the gateway is catching up; retry later', undefined, 1);
  }

  /** The spool's and the store's state (healthz, metrics). */
  get health(): WriterHealth {
    return { spoolFailing: this.spoolFailedAt !== null, storeFailing: this.storeFailing };
  }

  /**
   * Resolves once the rows (or spool lines another thread made of rows) are durable on disk;
   * they reach the store with the next batch. Rejects with the 503 of `admit`, or a 503
   * `storage_unavailable` BaliseError (nothing of the rows kept) when the spool cannot write
   * them; for `spoolPauseMs` after such a failure, appends are refused at once, then tried again.
   */
  async write(rows: readonly EventRow[] | SpoolLines): Promise<void> {
    if (this.closed) throw new Error('writer is closed');
    const count = rowCount(rows);
    if (count === 0) return;
    this.admit(count);
    this.appending += count;
    try {
      await this.spool.append(rows);
    } catch (error) {
      const first = this.spoolFailedAt === null;
      this.spoolFailedAt = Date.now();
      if (first) this.options.onSpoolError?.(error);
      throw storageUnavailable();
    } finally {
      this.appending -= count;
    }
    this.spoolFailedAt = null;
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
        await this.appendSegment(next);
        this.failures = 0;
        this.storeFailing = false;
      } catch (error) {
        this.failures += 1;
        this.storeFailing = true;
        this.options.onStoreError?.(error);
        return;
      }
      await this.spool.discard(next.path);
      this.sealed.shift();
    }
  }

  /**
   * Inserts one segment. When the store cannot read it (a line it refuses: a segment from an
   * earlier version, or damaged), the segment is rewritten once (`repairSegment`) and tried again,
   * so one bad line never holds back the rows behind it.
   */
  private async appendSegment(segment: Segment): Promise<number> {
    try {
      return (await this.store.appendJsonLines(segment.path, segment.span.rows())).inserted;
    } catch (error) {
      if (!(error instanceof UnreadableFile)) throw error;
      const { kept, rejected } = repairSegment(segment.path);
      this.options.onRepair?.(segment.path, kept, rejected);
      return (await this.store.appendJsonLines(segment.path, segment.span.rows())).inserted;
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

/** The 503 collect answers while the disk cannot take what it acknowledges (spool or outbox). */
export function storageUnavailable(): BaliseError {
  return new BaliseError(
    'storage_unavailable',
    'the gateway cannot write to its disk; retry later',
    undefined,
    STORAGE_RETRY_SECONDS,
  );
}

/** Lines in a spool segment left by a previous process (its rows, for `pendingRows`). */
function countLines(path: string): number {
  let lines = 0;
  for (const byte of readFileSync(path)) if (byte === 0x0a) lines++;
  return lines;
}
