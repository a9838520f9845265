import type { SiteGoals } from './goals.js';
import { errorLine } from '../errors.js';
import type { LineIdScheme } from './ids.js';
import type { EventRow } from './row.js';
import type { EgressRecord } from './egress.js';

/** A value bound to a query parameter. Queries never concatenate user text into SQL. */
export type SqlParam = string | number | boolean | null | bigint;

/** SQL dialects a Store speaks; dialect-specific SQL lives beside each store. */
export type Dialect = 'duckdb' | 'clickhouse';

/** What the writer of a file of rows (`Store.appendCsv`, `Store.appendJsonLines`) knows of them. */
export interface FileRows {
  /** The smallest `ts` of the rows (epoch ms). */
  minTs: number;
  /** The largest `ts` of the rows (epoch ms). */
  maxTs: number;
  /** Every hour holding a row, each once, as whole hours since the epoch (`Math.floor(ts / 3_600_000)`). */
  hours: readonly number[];
}

/**
 * Where accepted events land (the durable writer): batches, and spool segments read by the store
 * itself. Idempotent on `EventRow.id`, so a spool replay never counts twice; never assumes it is
 * the only writer.
 */
export interface EventSink {
  append(rows: readonly EventRow[]): Promise<{ inserted: number }>;
  /**
   * Inserts the rows of a JSON-lines file of EventRow objects (a spool segment), with the same
   * idempotency as `append`. Every line must be a whole row: a line the store cannot read fails
   * the call (nothing inserted) instead of being skipped (the spool cuts a torn last line first). The store parses the
   * file itself, so no per-row work runs on the event loop. With `rows` (the spool that wrote the
   * file tells its rows' time range and hours), the store reads it straight into its table instead
   * of through a staging table to find them.
   */
  appendJsonLines(path: string, rows?: FileRows): Promise<{ inserted: number }>;
}

/** The bulk path of imports: row CSV files, cut to the size the store inserts most cheaply. */
export interface BulkLoad {
  /**
   * Rows per `appendCsv` call the store inserts most cheaply (DuckDB: one row group, written
   * straight to its file), if any; the importer cuts its batches to that size.
   */
  readonly bulkRows?: number;
  /**
   * Runs `work` (an import: many `appendCsv` calls) with the store set for bulk inserts meanwhile,
   * if it has such a setting (DuckDB: one thread); other queries share that setting until it ends.
   * `memoryMb` bounds the store's own memory meanwhile (DuckDB: its memory limit, raised for an
   * insert that needs more) — for a process that owns the store, not a gateway whose queries
   * share it.
   */
  bulkLoad?<T>(work: () => Promise<T>, options?: { memoryMb?: number }): Promise<T>;
  /**
   * Inserts the rows of a row CSV file (`store/csv.ts`: an import batch written by this process,
   * complete, each id in it once), with the same idempotency as `append`. `rows` says what the
   * file's writer knows of its rows: their time range (the id check looks only within it) and
   * the hours they fall in.
   */
  appendCsv(path: string, rows: FileRows): Promise<{ inserted: number }>;
  /** How this store's imported lines get their ids (see `LineIdScheme`). */
  importLineIds(): Promise<LineIdScheme>;
}

/** Reads: the insights queries, detectors, reports, the audit and the egress log's reader. */
export interface StoreReader {
  readonly dialect: Dialect;
  /**
   * Runs a query (`SqlWriter` writes its placeholders: `$n` in DuckDB, `{pn:Type}` in ClickHouse,
   * both bound to `params[n-1]`) and returns plain objects. With `timeoutMs`, a query still running
   * then is interrupted and rejects with QueryTimeout.
   */
  query<T = Record<string, unknown>>(
    sql: string,
    params?: readonly SqlParam[],
    options?: { timeoutMs?: number },
  ): Promise<T[]>;
  /**
   * Brings the hourly rollup (`events_hourly`) up to date with every write so far: the insights
   * planner calls it before reading the rollup. A store whose rollups are maintained on insert
   * (ClickHouse materialized views) returns `{ hours: 0 }`.
   */
  refreshRollups(): Promise<{ hours: number }>;
  /**
   * Brings the visits table (`visits`, one row per visit: store/visits.ts) up to date with every
   * write so far, for the sites of `zones` (site → the zone of its salt days): the insights
   * planner calls it before reading the table. Absent on a store without a visits table
   * (ClickHouse: visits are computed from the events at each query). With `goals` (site → its
   * goals), each visit keeps the goals it reached, in order (a site absent keeps those its
   * visits were built with; a change rebuilds the site's visits).
   */
  refreshVisits?(zones: ReadonlyMap<string, string>, goals?: SiteGoals): Promise<{ days: number }>;
  /**
   * True when the store keeps, beside its rollup and visits table, the summaries the planner may
   * read instead (`pages_hourly` with the rollup; `visits_hourly` and `visitors_daily` with the
   * visits): docs/insights.md, "Query plans".
   */
  readonly keepsSummaries?: boolean;
}

/**
 * What the gateways on one store share besides events: the day's salt of the visitor hash, the
 * dashboard's session key and logouts, and the sites a dashboard saved.
 */
export interface SharedState {
  /**
   * Returns the salt for `day` (YYYY-MM-DD), creating a random one if none exists; the first
   * writer wins when several gateways race. Salts of days before `keepFrom` are deleted.
   */
  ensureSalt(day: string, keepFrom: string): Promise<Buffer>;
  /**
   * Returns the shared secret `name` (32 random bytes), creating it if none exists; the first
   * writer wins when several gateways race (the dashboard's session key).
   */
  ensureSecret(name: string): Promise<Buffer>;
  /** Records that the dashboard session `nonce` ended (a logout), for every gateway on the store. */
  revokeSession(nonce: string, expires: number): Promise<void>;
  /** Sessions ended by a logout and not yet expired: nonce → expiry (epoch ms). */
  revokedSessions(now: number): Promise<Map<string, number>>;
  /**
   * Publishes the sites a dashboard saved (JSON, with the time and the gateway that saved them),
   * for the other gateways on the store to adopt.
   */
  publishSettings(value: string): Promise<void>;
  /** Every published settings value not yet replaced (the newest is the one with the latest time). */
  publishedSettings(): Promise<string[]>;
}

/** The egress log's writer (what left for the tools, or was stopped). */
export interface EgressSink {
  appendEgress(records: readonly EgressRecord[]): Promise<void>;
}

/** Schema, retention and life cycle. */
export interface StoreMaintenance {
  /** Versioned; safe to run from two processes at once. */
  migrate(): Promise<void>;
  /**
   * Deletes what is older than `beforeTs` (epoch ms): events, hourly rollup rows and egress-log
   * records (retention); returns how many of each.
   */
  purgeBefore(beforeTs: number): Promise<{ events: number; hourly: number; egress: number }>;
  /** Marks every hour dirty (in events or in the rollup), after writes or deletes made outside `append`. */
  markAllDirty(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The storage contract shared by DuckDB (embedded) and ClickHouse (scale-out), by role: each part
 * of the gateway takes only the role it uses.
 */
export interface Store extends EventSink, BulkLoad, StoreReader, SharedState, EgressSink, StoreMaintenance {}

/**
 * A file of rows the store cannot read (a line its reader refuses), as opposed to a store that
 * is away: the spool rewrites such a segment (`repairSegment`) rather than retrying it as it is.
 */
export class UnreadableFile extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`${path} cannot be read: ${errorLine(cause)}`, { cause });
    this.name = 'UnreadableFile';
  }
}

/** A query interrupted because it ran longer than its time limit. */
export class QueryTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`query interrupted after ${timeoutMs} ms`);
    this.name = 'QueryTimeout';
  }
}
