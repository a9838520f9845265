import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { DuckDBInstance } from './api.js';
import { DelegatedSharedState } from '../delegated-shared-state.js';
import type { LineIdScheme } from '../ids.js';
import { Mutex } from '../mutex.js';
import type { SiteGoals } from '../goals.js';
import type { EventRow } from '../row.js';
import type { EgressRecord } from '../egress.js';
import { UnreadableFile, type FileRows, type SqlParam, type Store } from '../store.js';
import { applyMigrations } from './migrations.js';
import { BulkSettings } from './bulk-settings.js';
import { connectDuckDB } from './connect.js';
import { purgeBefore } from './purge.js';
import { appendEgressRows, appendRow, readRows } from './rows.js';
import { DuckDBSharedState } from './shared-state.js';
import { finishVisits, planVisits, rebuildVisitDay, type VisitsRefresh, type Zones } from './visits.js';
import {
  FATAL,
  INSERT_CSV,
  INSERT_JSON_LINES,
  LOAD_JSON_LINES,
  markHours,
  MARK_ALL_DIRTY,
  MARK_DIRTY,
  MOVE_STAGED,
  REFRESH_ROLLUP,
  UNREADABLE,
} from './sql.js';

/** The embedded store: one DuckDB file, one connection, operations serialized. */
export class DuckDBStore extends DelegatedSharedState implements Store {
  readonly dialect = 'duckdb' as const;
  readonly keepsSummaries = true;
  /**
   * DuckDB's row group (122,880 rows): a transaction that appends whole row groups has them
   * compressed and written to the file once; rows short of one go through the WAL and are
   * compressed again with the next rows at each checkpoint (≈ 25 % more CPU per row, measured).
   */
  readonly bulkRows = 122_880;
  private readonly lock = new Mutex();
  protected readonly shared = new DuckDBSharedState((work) => this.locked(() => work(this.connection)));
  private closed = false;
  /** False once the rollup is known current; this process is the file's only writer. */
  private rollupMayBeStale = true;
  /** Writes so far (inserts, deletes, a reopened file): what a visits refresh is current for. */
  private writes = 0;
  /** The zones and the write count the visits table was last brought up to date for. */
  private visitsCurrent: { zones: string; writes: number } | null = null;
  private visitsRefresh: Promise<unknown> = Promise.resolve();
  // DuckDB's settings while imports run (bulkLoad); after one, its threads as opened.
  private readonly bulk: BulkSettings;

  private constructor(
    private readonly path: string,
    private instance: DuckDBInstance,
    private connection: DuckDBConnection,
    private readonly threads: number | undefined,
    private readonly checkpointMemoryMb: number | undefined,
  ) {
    super();
    this.bulk = new BulkSettings(
      (sql) => this.connection.run(sql),
      async (sql) => (await this.connection.runAndReadAll(sql)).getRows()[0]?.[0],
      threads,
      checkpointMemoryMb,
    );
  }

  /**
   * Opens (and creates) the database file; `:memory:` for a throw-away store. `threads`: how many
   * DuckDB may use (default: one per core); `checkpointMemoryMb`: the store checkpoints itself,
   * after the write that brings its rows since the last to `CHECKPOINT_ROWS` or its WAL to
   * `CHECKPOINT_WAL_BYTES` (bulk-settings.ts), with DuckDB's memory bounded to that (a gateway's,
   * `LIVE_CHECKPOINT_MEMORY_MB`; default: DuckDB's own checkpoints).
   */
  static async open(
    path: string,
    options: { threads?: number; checkpointMemoryMb?: number } = {},
  ): Promise<DuckDBStore> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const own = options.checkpointMemoryMb !== undefined;
    const { instance, connection } = await connectDuckDB(path, options.threads, own);
    return new DuckDBStore(path, instance, connection, options.threads, options.checkpointMemoryMb);
  }

  /**
   * Runs `work` under the store's lock. After a fatal error (DuckDB invalidates the database when
   * a write or checkpoint fails, e.g. on a full disk, and refuses every query until it is opened
   * again), the database is opened again at once, so that the next call — the writer retries its
   * batch — finds a usable store without a restart; the error itself is passed on.
   */
  private locked<T>(work: () => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      try {
        return await work();
      } catch (error) {
        if (!this.closed && this.path !== ':memory:' && FATAL.test(String((error as Error)?.message)))
          await this.reopen().catch(() => undefined);
        throw error;
      }
    });
  }

  /** Replaces an invalidated instance with a fresh one on the same file (DuckDB replays its WAL). */
  private async reopen(): Promise<void> {
    try {
      this.connection.closeSync();
      this.instance.closeSync();
    } catch {
      // an invalidated instance may refuse to close cleanly; it is dropped all the same
    }
    const { instance, connection } = await connectDuckDB(
      this.path,
      this.threads,
      this.checkpointMemoryMb !== undefined,
    );
    this.instance = instance;
    this.connection = connection;
    this.rollupMayBeStale = true;
    this.writes++;
  }

  migrate(): Promise<void> {
    return this.locked(() => applyMigrations(this.connection, (work) => this.transaction(work)));
  }

  append(rows: readonly EventRow[]): Promise<{ inserted: number }> {
    if (rows.length === 0) return Promise.resolve({ inserted: 0 });
    return this.write(() => this.appendStaged(rows));
  }

  /**
   * Runs a write of rows under the store's lock (`withinBound`), then the checkpoint it made due
   * in a store that checkpoints itself.
   */
  private write(rows: () => Promise<{ inserted: number }>): Promise<{ inserted: number }> {
    return this.locked(async () => {
      const result = await this.bulk.withinBound(rows);
      await this.bulk.checkpointIfDue(`${this.path}.wal`, result.inserted);
      return result;
    });
  }

  /** Rows through the staging table into `events` (those not stored yet). */
  private async appendStaged(rows: readonly EventRow[]): Promise<{ inserted: number }> {
    await this.connection.run('DELETE FROM events_staging');
    const appender = await this.connection.createAppender('events_staging', 'main', 'temp');
    const seen = new Set<string>();
    for (const row of rows) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      appendRow(appender, row);
    }
    appender.closeSync();
    return this.moveStaged();
  }

  async appendJsonLines(path: string, rows?: FileRows): Promise<{ inserted: number }> {
    try {
      // Straight into `events`, read once with its stored types (a third less CPU than through
      // staging); a segment left by a crash has no FileRows and goes through staging for its range.
      if (rows) return await this.insertFile(INSERT_JSON_LINES, path, rows);
      return await this.write(async () => {
        await this.connection.run('DELETE FROM events_staging');
        await this.connection.run(LOAD_JSON_LINES, [path]);
        return this.moveStaged();
      });
    } catch (error) {
      if (error instanceof Error && UNREADABLE.test(error.message)) throw new UnreadableFile(path, error);
      throw error;
    }
  }

  appendCsv(path: string, rows: FileRows): Promise<{ inserted: number }> {
    return this.insertFile(INSERT_CSV, path, rows);
  }

  /** Inserts a file told its rows (`insertFrom`) and marks their hours, under the store's lock. */
  private insertFile(insert: string, path: string, rows: FileRows): Promise<{ inserted: number }> {
    const params = [path, Math.trunc(rows.minTs), Math.trunc(rows.maxTs)];
    return this.write(async () => ({
      inserted: await this.insertAndMark([insert, params], markHours(rows)),
    }));
  }

  /**
   * Runs `work` (an import) with DuckDB set for bulk inserts meanwhile (`BulkSettings`: one
   * thread; with `memoryMb`, a memory bound — see `BulkLoad.bulkLoad`).
   */
  async bulkLoad<T>(work: () => Promise<T>, options: { memoryMb?: number } = {}): Promise<T> {
    await this.locked(() => this.bulk.enter(options.memoryMb));
    try {
      return await work();
    } finally {
      await this.locked(() => this.bulk.leave());
    }
  }

  /** Moves staged rows absent from `events` (by id, within the batch's time range) into it. */
  private async moveStaged(): Promise<{ inserted: number }> {
    const bounds = await this.connection.runAndReadAll('SELECT min(ts), max(ts) FROM events_staging');
    const [min, max] = bounds.getRows()[0] ?? [];
    if (typeof min !== 'bigint' || typeof max !== 'bigint') return { inserted: 0 };
    const inserted = await this.insertAndMark([MOVE_STAGED, [min, max]], [MARK_DIRTY, []]);
    await this.connection.run('DELETE FROM events_staging');
    return { inserted };
  }

  /**
   * Runs an insert into `events` and, in the same transaction when it inserted rows, marks the
   * hours it touched dirty for the rollup; returns how many rows it inserted.
   */
  private insertAndMark(
    insert: [string, DuckDBValue[]],
    mark: [string, DuckDBValue[], DuckDBType[]?],
  ): Promise<number> {
    return this.transaction(async () => {
      const result = await this.connection.run(...insert);
      if (result.rowsChanged > 0) {
        await this.connection.run(...mark);
        this.rollupMayBeStale = true;
        this.writes++;
      }
      return result.rowsChanged;
    });
  }

  private async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.connection.run('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.connection.run('COMMIT');
      return result;
    } catch (error) {
      // DuckDB may have aborted the transaction itself (a failed write): the rollback then has
      // nothing to do and its own error would hide the one that matters.
      await this.connection.run('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  refreshRollups(): Promise<{ hours: number }> {
    return this.locked(() => this.refreshRollup());
  }

  private async refreshRollup(): Promise<{ hours: number }> {
    if (!this.rollupMayBeStale) return { hours: 0 };
    const dirty = await this.connection.runAndReadAll('SELECT count(*) FROM rollup_dirty');
    const hours = Number(dirty.getRows()[0]?.[0] ?? 0);
    if (hours > 0) {
      // The hours also go to visits_dirty, for the next visits refresh.
      await this.transaction(async () => {
        for (const statement of REFRESH_ROLLUP) await this.connection.run(statement);
      });
    }
    this.rollupMayBeStale = false;
    return { hours };
  }

  /**
   * Brings the visits table up to date with every write so far (the rollup first: its refresh
   * hands the hours written over), for the sites of `zones` (site → time zone).
   */
  refreshVisits(zones: Zones, goals?: SiteGoals): Promise<VisitsRefresh> {
    // One refresh at a time: a caller during one waits for it, then finds the table current.
    const next = this.visitsRefresh.then(() => this.refreshVisitsNow(zones, goals));
    this.visitsRefresh = next.catch(() => undefined);
    return next;
  }

  private async refreshVisitsNow(zones: Zones, goals?: SiteGoals): Promise<VisitsRefresh> {
    const key = JSON.stringify([[...zones].sort(), goals ? [...goals].sort() : null]);
    // Writes are counted under the lock: the plan covers every write counted here.
    let writes = 0;
    const plan = await this.locked(async () => {
      writes = this.writes;
      await this.refreshRollup();
      if (this.visitsCurrent?.zones === key && this.visitsCurrent.writes === writes) return null;
      return this.transaction(() => planVisits(this.connection, zones, goals));
    });
    if (!plan) return { days: 0 };
    // A day at a time, each under the lock on its own: events keep being written meanwhile.
    for (const day of plan.days)
      await this.locked(() => this.transaction(() => rebuildVisitDay(this.connection, day, plan.goals)));
    // A large rebuild is written to the file now, not by the first small write after it.
    await this.locked(() => finishVisits(this.connection, plan, plan.days.length > 7));
    // Current as of the writes before the refresh: one made during it makes the next refresh plan.
    this.visitsCurrent = { zones: key, writes };
    return { days: plan.days.length };
  }

  appendEgress(records: readonly EgressRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.locked(() => appendEgressRows(this.connection, records));
  }

  importLineIds(): Promise<LineIdScheme> {
    return this.locked(async () => {
      const fact = await this.connection.runAndReadAll(
        "SELECT value FROM store_facts WHERE key = 'import_line_ids'",
      );
      return fact.getRows()[0]?.[0] === 'sha256' ? 'sha256' : 'xxh64';
    });
  }

  purgeBefore(beforeTs: number): Promise<{ events: number; hourly: number; egress: number }> {
    return this.locked(() =>
      this.transaction(async () => {
        const purged = await purgeBefore(this.connection, beforeTs);
        if (purged.events > 0) {
          this.rollupMayBeStale = true;
          this.writes++;
        }
        return purged;
      }),
    );
  }

  markAllDirty(): Promise<void> {
    return this.locked(async () => {
      await this.connection.run(MARK_ALL_DIRTY);
      this.rollupMayBeStale = true;
      this.writes++;
    });
  }

  query<T = Record<string, unknown>>(
    sql: string,
    params: readonly SqlParam[] = [],
    options: { timeoutMs?: number } = {},
  ): Promise<T[]> {
    return this.locked(() => readRows<T>(this.connection, sql, params, options.timeoutMs));
  }

  close(): Promise<void> {
    return this.locked(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        await this.connection.run('CHECKPOINT');
      } finally {
        // Closed even when the checkpoint fails (a full disk): the WAL keeps what it could not write.
        this.connection.closeSync();
        this.instance.closeSync();
      }
    });
  }
}
