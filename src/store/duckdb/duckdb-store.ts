import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BIGINT,
  DuckDBBlobValue,
  DuckDBInstance,
  DuckDBTimestampValue,
  LIST,
  listValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { LineIdScheme } from '../ids.js';
import { Mutex } from '../mutex.js';
import { ROW_COLUMNS, type EventRow } from '../row.js';
import type { EgressRecord } from '../egress.js';
import { QueryTimeout, UnreadableFile, type FileRows, type SqlParam, type Store } from '../store.js';
import { DUCKDB_MIGRATIONS } from './migrations.js';

// Plain-typed landing table (TEMP: never written to disk or WAL); rows move to `events` with an
// anti-join on id, which makes every write idempotent.
const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS events_staging (
  id VARCHAR, ts BIGINT, site VARCHAR, type VARCHAR, name VARCHAR, path VARCHAR, title VARCHAR,
  referrer_host VARCHAR, referrer_class VARCHAR, country VARCHAR, region VARCHAR, asn BIGINT,
  device_type VARCHAR, browser VARCHAR, os VARCHAR, is_bot BOOLEAN, visitor_hash VARCHAR,
  session_hash VARCHAR, node VARCHAR, status INTEGER, bytes BIGINT, source VARCHAR, props VARCHAR)`;

// EventRow JSON keys and their landing types, in the staging table's column order.
const JSON_COLUMNS = `{id: 'VARCHAR', ts: 'BIGINT', site: 'VARCHAR', type: 'VARCHAR', name: 'VARCHAR', path: 'VARCHAR',
  title: 'VARCHAR', referrerHost: 'VARCHAR', referrerClass: 'VARCHAR', country: 'VARCHAR', region: 'VARCHAR',
  asn: 'BIGINT', deviceType: 'VARCHAR', browser: 'VARCHAR', os: 'VARCHAR', isBot: 'BOOLEAN', visitorHash: 'VARCHAR',
  sessionHash: 'VARCHAR', node: 'VARCHAR', status: 'INTEGER', bytes: 'BIGINT', source: 'VARCHAR', props: 'VARCHAR'}`;

// The type `events` stores each EventRow field as, for files read straight into it (row CSV,
// spool segments): the files' columns are ROW_COLUMNS, in that order — the table's order.
const STORED_TYPES: Record<(typeof ROW_COLUMNS)[number], string> = {
  id: 'UUID',
  ts: 'BIGINT',
  site: 'VARCHAR',
  type: 'VARCHAR',
  name: 'VARCHAR',
  path: 'VARCHAR',
  title: 'VARCHAR',
  referrerHost: 'VARCHAR',
  referrerClass: 'VARCHAR',
  country: 'VARCHAR',
  region: 'VARCHAR',
  asn: 'UINTEGER',
  deviceType: 'VARCHAR',
  browser: 'VARCHAR',
  os: 'VARCHAR',
  isBot: 'BOOLEAN',
  visitorHash: 'UBIGINT',
  sessionHash: 'UBIGINT',
  node: 'VARCHAR',
  status: 'USMALLINT',
  bytes: 'UBIGINT',
  source: 'VARCHAR',
  props: 'VARCHAR',
};
const STORED_COLUMNS = `{${ROW_COLUMNS.map((column) => `${column}: '${STORED_TYPES[column]}'`).join(', ')}}`;

const LOAD_JSON_LINES = `INSERT INTO events_staging
  SELECT * FROM read_json($1, format = 'newline_delimited', ignore_errors = false, columns = ${JSON_COLUMNS})
  WHERE id IS NOT NULL AND ts IS NOT NULL`;

// The idempotency of every write: rows whose id is already stored (looked for only within the
// batch's time range, given as two parameters) are left out. `NOT IN` over the stored ids rather
// than a correlated `NOT EXISTS`: DuckDB then builds its hash table from the stored rows in range
// (few: usually the previous batch's last second) and streams the batch past it, where the
// decorrelated `NOT EXISTS` materialised the whole batch first (≈ 1.5 µs per row, BENCHMARKS.md).
// `events.id` is NOT NULL, so `NOT IN` has no NULL case.
const notStored = (id: string, min: string, max: string) =>
  `${id} NOT IN (SELECT e.id FROM events e WHERE e.ts BETWEEN epoch_ms(${min}::BIGINT) AND epoch_ms(${max}::BIGINT))`;

const MOVE_STAGED = `
  INSERT INTO events
  SELECT s.id::UUID, epoch_ms(s.ts), s.site, s.type, s.name, s.path, s.title, s.referrer_host,
         s.referrer_class, s.country, s.region, s.asn, s.device_type, s.browser, s.os, s.is_bot,
         s.visitor_hash::UBIGINT, s.session_hash::UBIGINT, s.node, s.status, s.bytes, s.source, s.props
  FROM events_staging s
  WHERE ${notStored('s.id::UUID', '$1', '$2')}`;

// The rows of a file read with their stored types (`source`, aliased `s`), inserted in one
// statement minus the ids already stored within the rows' time range ($2, $3, told by the file's
// writer). The files' columns are the table's, in its order.
const insertFrom = (source: string, where = 'true') => `
  INSERT INTO events
  SELECT s.id, epoch_ms(s.ts), s.* EXCLUDE (id, ts)
  FROM ${source} s
  WHERE ${where} AND ${notStored('s.id', '$2', '$3')}`;

// A spool segment. Read strictly: a line the reader cannot take fails the whole insert (kept in
// the spool, said in the log) rather than being skipped — every line is a row the gateway
// acknowledged. The spool cuts a torn last line (a crash mid-write) before a segment is read.
const INSERT_JSON_LINES = insertFrom(
  `read_json($1, format = 'newline_delimited', ignore_errors = false, columns = ${STORED_COLUMNS})`,
  's.id IS NOT NULL AND s.ts IS NOT NULL',
);

// A row CSV file (store/csv.ts), read in 1 MiB buffers instead of DuckDB's 32 MiB: fresh memory
// for each large buffer was faulted in page by page (≈ 0.5 µs per row, BENCHMARKS.md). A buffer
// must hold a whole line; a row line is a few kB at most (every stored text has a cap: path
// 1,024, title 300, props 4,096 characters).
const INSERT_CSV = insertFrom(`read_csv($1, header = false, auto_detect = false, delim = ',', quote = '"',
  escape = '"', allow_quoted_nulls = false, buffer_size = 1048576, columns = ${STORED_COLUMNS})`);

// After inserting a file whose writer told its rows (FileRows): the hours they fall in, as whole
// hours since the epoch — cheaper than reading the rows back to find them.
const MARK_DIRTY_HOURS = `INSERT OR IGNORE INTO rollup_dirty
  SELECT DISTINCT make_timestamp(h * 3600000000) FROM unnest($1::BIGINT[]) t(h)`;

/** The statement that marks `rows.hours` dirty, with its parameter and type. */
function markHours(rows: FileRows): [string, DuckDBValue[], DuckDBType[]] {
  return [MARK_DIRTY_HOURS, [listValue(rows.hours.map((hour) => BigInt(hour)))], [LIST(BIGINT)]];
}

// Hours touched by a batch; their rollup rows are recomputed before the next rollup read.
const MARK_DIRTY = `INSERT OR IGNORE INTO rollup_dirty
  SELECT DISTINCT date_trunc('hour', epoch_ms(ts)) FROM events_staging`;

// DuckDB's JSON reader refusing a line of a file (not the store being away).
const UNREADABLE = /Malformed JSON|Invalid Input Error|Conversion Error/i;

// A DuckDB error after which the database refuses every query until it is opened again.
const FATAL = /FATAL Error|database has been invalidated|must be restarted/i;

/** Dimensions kept in the hourly rollup, in its column order (after ts). */
const ROLLUP_COLUMNS = 'site, type, is_bot, device_type, country, region, browser, os, referrer_class, node';

// Recomputes the dirty hours from the raw table: delete, re-aggregate, clear the marks.
const REFRESH_ROLLUP = [
  `CREATE OR REPLACE TEMP TABLE refresh_hours AS SELECT hour FROM rollup_dirty`,
  `DELETE FROM events_hourly WHERE ts IN (SELECT hour FROM refresh_hours)`,
  `INSERT INTO events_hourly
   SELECT date_trunc('hour', ts) AS h, ${ROLLUP_COLUMNS}, count(*)
   FROM events
   WHERE ts >= (SELECT min(hour) FROM refresh_hours)
     AND ts < (SELECT max(hour) FROM refresh_hours) + INTERVAL 1 HOUR
     AND date_trunc('hour', ts) IN (SELECT hour FROM refresh_hours)
   GROUP BY ALL`,
  `DELETE FROM rollup_dirty WHERE hour IN (SELECT hour FROM refresh_hours)`,
  `DROP TABLE refresh_hours`,
];

function appendRow(appender: DuckDBAppender, row: EventRow): void {
  const text = (v: string | null): void => (v === null ? appender.appendNull() : appender.appendVarchar(v));
  const int = (v: number | null): void =>
    v === null ? appender.appendNull() : appender.appendBigInt(BigInt(v));
  appender.appendVarchar(row.id);
  appender.appendBigInt(BigInt(Math.trunc(row.ts)));
  appender.appendVarchar(row.site);
  appender.appendVarchar(row.type);
  text(row.name);
  text(row.path);
  text(row.title);
  text(row.referrerHost);
  text(row.referrerClass);
  text(row.country);
  text(row.region);
  int(row.asn);
  text(row.deviceType);
  text(row.browser);
  text(row.os);
  appender.appendBoolean(row.isBot);
  text(row.visitorHash);
  text(row.sessionHash);
  text(row.node);
  if (row.status === null) appender.appendNull();
  else appender.appendInteger(row.status);
  int(row.bytes);
  appender.appendVarchar(row.source);
  text(row.props);
  appender.endRow();
}

function toJs(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}

/** The embedded store: one DuckDB file, one connection, operations serialized. */
export class DuckDBStore implements Store {
  readonly dialect = 'duckdb' as const;
  /**
   * DuckDB's row group (122,880 rows): a transaction that appends whole row groups has them
   * compressed and written to the file once; rows short of one go through the WAL and are
   * compressed again with the next rows at each checkpoint (≈ 25 % more CPU per row, measured).
   */
  readonly bulkRows = 122_880;
  private readonly lock = new Mutex();
  private closed = false;
  /** False once the rollup is known current; this process is the file's only writer. */
  private rollupMayBeStale = true;
  // Imports running (bulkLoad), which set DuckDB to one thread until the last ends.
  private bulkLoads = 0;

  private constructor(
    private readonly path: string,
    private instance: DuckDBInstance,
    private connection: DuckDBConnection,
  ) {}

  /** Opens (and creates) the database file; `:memory:` for a throw-away store. */
  static async open(path: string): Promise<DuckDBStore> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const { instance, connection } = await DuckDBStore.connect(path);
    return new DuckDBStore(path, instance, connection);
  }

  private static async connect(
    path: string,
  ): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
    const instance = await DuckDBInstance.create(path);
    try {
      const connection = await instance.connect();
      await connection.run(CREATE_STAGING);
      return { instance, connection };
    } catch (error) {
      instance.closeSync();
      throw error;
    }
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
    const { instance, connection } = await DuckDBStore.connect(this.path);
    this.instance = instance;
    this.connection = connection;
    this.rollupMayBeStale = true;
  }

  migrate(): Promise<void> {
    return this.locked(async () => {
      await this.connection.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)`);
      for (const migration of DUCKDB_MIGRATIONS) {
        const done = await this.connection.runAndReadAll(
          'SELECT 1 FROM schema_migrations WHERE version = $1',
          [migration.version],
        );
        if (done.currentRowCount > 0) continue;
        await this.transaction(async () => {
          for (const statement of migration.statements) await this.connection.run(statement);
          await this.connection.run(
            'INSERT OR IGNORE INTO schema_migrations (version, name) VALUES ($1, $2)',
            [migration.version, migration.name],
          );
        });
      }
    });
  }

  append(rows: readonly EventRow[]): Promise<{ inserted: number }> {
    if (rows.length === 0) return Promise.resolve({ inserted: 0 });
    return this.locked(async () => {
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
    });
  }

  async appendJsonLines(path: string, rows?: FileRows): Promise<{ inserted: number }> {
    try {
      // Straight into `events`, read once with its stored types (a third less CPU than through
      // staging); a segment left by a crash has no FileRows and goes through staging for its range.
      if (rows) return await this.insertFile(INSERT_JSON_LINES, path, rows);
      return await this.locked(async () => {
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
    return this.locked(async () => ({
      inserted: await this.insertAndMark([insert, params], markHours(rows)),
    }));
  }

  /**
   * One DuckDB thread while an import runs: its worker threads keep the other cores busy, and a
   * parallel insert costs more CPU per row for the same work. Set once for the whole import, not
   * per batch: each change of the thread count made DuckDB hand its memory back to the system and
   * fault it in again (≈ 1 µs per row, BENCHMARKS.md).
   */
  async bulkLoad<T>(work: () => Promise<T>): Promise<T> {
    this.bulkLoads++;
    try {
      if (this.bulkLoads === 1) await this.locked(() => this.connection.run('SET threads = 1'));
      return await work();
    } finally {
      if (--this.bulkLoads === 0) await this.locked(() => this.connection.run('RESET threads'));
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
    return this.locked(async () => {
      if (!this.rollupMayBeStale) return { hours: 0 };
      const dirty = await this.connection.runAndReadAll('SELECT count(*) FROM rollup_dirty');
      const hours = Number(dirty.getRows()[0]?.[0] ?? 0);
      if (hours > 0) {
        await this.transaction(async () => {
          for (const statement of REFRESH_ROLLUP) await this.connection.run(statement);
        });
      }
      this.rollupMayBeStale = false;
      return { hours };
    });
  }

  appendEgress(records: readonly EgressRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.locked(async () => {
      const appender = await this.connection.createAppender('egress');
      for (const r of records) {
        appender.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.trunc(r.ts)) * 1000n));
        appender.appendVarchar(r.site);
        appender.appendVarchar(r.tool);
        appender.appendVarchar(r.host);
        appender.appendVarchar(r.path);
        appender.appendBigInt(BigInt(r.bytes));
        appender.appendVarchar(r.sha256);
        appender.appendVarchar(r.policy);
        appender.appendVarchar(r.outcome);
        if (r.status === null) appender.appendNull();
        else appender.appendInteger(r.status);
        if (r.reason === null) appender.appendNull();
        else appender.appendVarchar(r.reason);
        appender.appendVarchar(r.deliveryId);
        appender.appendInteger(r.deliveries);
        if (r.fields === undefined || r.fields === null) appender.appendNull();
        else appender.appendVarchar(r.fields);
        appender.endRow();
      }
      appender.closeSync();
    });
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
        const cutoff = [Math.trunc(beforeTs)];
        const events = await this.connection.run(
          'DELETE FROM events WHERE ts < epoch_ms($1::BIGINT)',
          cutoff,
        );
        const hourly = await this.connection.run(
          'DELETE FROM events_hourly WHERE ts < epoch_ms($1::BIGINT)',
          cutoff,
        );
        await this.connection.run('DELETE FROM rollup_dirty WHERE hour < epoch_ms($1::BIGINT)', cutoff);
        const egress = await this.connection.run(
          'DELETE FROM egress WHERE ts < epoch_ms($1::BIGINT)',
          cutoff,
        );
        // The hour the cutoff falls in may have lost some of its rows: its rollup is made again.
        if (events.rowsChanged > 0) {
          await this.connection.run(
            "INSERT OR IGNORE INTO rollup_dirty VALUES (date_trunc('hour', epoch_ms($1::BIGINT)))",
            cutoff,
          );
          this.rollupMayBeStale = true;
        }
        return { events: events.rowsChanged, hourly: hourly.rowsChanged, egress: egress.rowsChanged };
      }),
    );
  }

  markAllDirty(): Promise<void> {
    return this.locked(async () => {
      await this.connection.run(
        `INSERT OR IGNORE INTO rollup_dirty
         SELECT DISTINCT date_trunc('hour', ts) FROM events
         UNION SELECT DISTINCT ts FROM events_hourly`,
      );
      this.rollupMayBeStale = true;
    });
  }

  query<T = Record<string, unknown>>(
    sql: string,
    params: readonly SqlParam[] = [],
    options: { timeoutMs?: number } = {},
  ): Promise<T[]> {
    return this.locked(async () => {
      let timedOut = false;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              this.connection.interrupt();
            }, options.timeoutMs);
      let reader;
      try {
        reader = await this.connection.runAndReadAll(sql, params as DuckDBValue[]);
      } catch (error) {
        if (timedOut) throw new QueryTimeout(options.timeoutMs!);
        throw error;
      } finally {
        clearTimeout(timer);
      }
      return reader.getRowObjectsJS().map((row) => {
        const out: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(row)) out[key] = toJs(value);
        return out as T;
      });
    });
  }

  ensureSalt(day: string, keepFrom: string): Promise<Buffer> {
    return this.locked(async () => {
      await this.connection.run('INSERT OR IGNORE INTO salts (day, salt) VALUES ($1::DATE, $2)', [
        day,
        new DuckDBBlobValue(randomBytes(32)),
      ]);
      await this.connection.run('DELETE FROM salts WHERE day < $1::DATE', [keepFrom]);
      const reader = await this.connection.runAndReadAll('SELECT salt FROM salts WHERE day = $1::DATE', [
        day,
      ]);
      const value = reader.getRows()[0]?.[0];
      if (!(value instanceof DuckDBBlobValue)) throw new Error(`salt for ${day} missing after insert`);
      return Buffer.from(value.bytes);
    });
  }

  ensureSecret(name: string): Promise<Buffer> {
    return this.locked(async () => {
      const key = `secret:${name}`;
      await this.connection.run('INSERT OR IGNORE INTO store_facts VALUES ($1, $2)', [
        key,
        randomBytes(32).toString('hex'),
      ]);
      const reader = await this.connection.runAndReadAll('SELECT value FROM store_facts WHERE key = $1', [
        key,
      ]);
      return Buffer.from(String(reader.getRows()[0]?.[0]), 'hex');
    });
  }

  revokeSession(nonce: string, expires: number): Promise<void> {
    return this.locked(async () => {
      await this.connection.run('INSERT OR IGNORE INTO store_facts VALUES ($1, $2)', [
        `revoked:${nonce}`,
        String(Math.trunc(expires)),
      ]);
    });
  }

  revokedSessions(now: number): Promise<Map<string, number>> {
    return this.locked(async () => {
      await this.connection.run(
        "DELETE FROM store_facts WHERE key LIKE 'revoked:%' AND CAST(value AS BIGINT) <= $1",
        [Math.trunc(now)],
      );
      const reader = await this.connection.runAndReadAll(
        "SELECT substr(key, 9) AS nonce, CAST(value AS BIGINT) AS expires FROM store_facts WHERE key LIKE 'revoked:%'",
      );
      return new Map(reader.getRows().map(([nonce, expires]) => [String(nonce), Number(expires)]));
    });
  }

  publishSettings(value: string): Promise<void> {
    return this.locked(async () => {
      await this.connection.run('INSERT OR REPLACE INTO store_facts VALUES ($1, $2)', [
        'settings:sites',
        value,
      ]);
    });
  }

  async publishedSettings(): Promise<string[]> {
    const rows = await this.query<{ value: string }>(
      "SELECT value FROM store_facts WHERE key = 'settings:sites'",
    );
    return rows.map((r) => r.value);
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
