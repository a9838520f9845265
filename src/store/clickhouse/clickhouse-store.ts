import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { errorLine } from '../../errors.js';
import { DelegatedSharedState } from '../delegated-shared-state.js';
import type { LineIdScheme } from '../ids.js';
import { Mutex } from '../mutex.js';
import type { EventRow } from '../row.js';
import { egressLine, type EgressRecord } from '../egress.js';
import { QueryTimeout, UnreadableFile, type FileRows, type SqlParam, type Store } from '../store.js';
import { CLICKHOUSE_MIGRATIONS, ROLLUP_COLUMNS, STORED_EVENT_COLUMNS } from './migrations.js';
import { ClickHouseSharedState } from './shared-state.js';
import {
  AS_STORED,
  bindings,
  CSV_SETTINGS,
  CSV_STRUCTURE,
  drained,
  INSERT_EGRESS,
  JSON_STRUCTURE,
  TIMEOUT,
  toStream,
  UNREADABLE,
} from './sql.js';

/** How to reach the ClickHouse store (`store:` with `kind: clickhouse`). */
export interface ClickHouseOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
}

/**
 * The scale-out store: ClickHouse over HTTP(S), shared by any number of gateways. Each write is
 * idempotent on the event id: the rows land in a temporary table of this store's session, and
 * one `INSERT … SELECT` moves those whose id is not already stored within the rows' time range —
 * so a spool segment sent again after a crash (between its insert and the spool's mark) or a file
 * imported twice never counts twice, and the tables need no FINAL. The hourly rollup is a
 * materialized view, kept on every insert.
 */
export class ClickHouseStore extends DelegatedSharedState implements Store {
  readonly dialect = 'clickhouse' as const;
  readonly bulkRows = 100_000;
  // Writes share one server session (its temporary table): one at a time.
  private readonly writes = new Mutex();
  private readonly sessionId = `balise-${randomUUID()}`;
  protected readonly shared = new ClickHouseSharedState({
    insert: (params) => this.client.insert(params),
    query: (sql, params) => this.query(sql, params),
    command: (sql, params) => this.command(sql, params),
  });

  private constructor(
    private readonly client: ClickHouseClient,
    private readonly options: ClickHouseOptions,
  ) {
    super();
  }

  /** Connects to the server (nothing is sent until the first call). */
  static open(options: ClickHouseOptions): ClickHouseStore {
    return new ClickHouseStore(ClickHouseStore.client(options, options.database), options);
  }

  private static client(options: ClickHouseOptions, database?: string): ClickHouseClient {
    return createClient({
      url: options.url,
      ...(database ? { database } : {}),
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
      request_timeout: options.requestTimeoutMs ?? 120_000,
      compression: { request: false, response: false },
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      // Errors reach the caller (and the gateway's log) as they are; the client's own log repeats them.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  async migrate(): Promise<void> {
    const admin = ClickHouseStore.client(this.options);
    try {
      await admin.command({ query: `CREATE DATABASE IF NOT EXISTS \`${this.options.database}\`` });
    } catch (error) {
      const reason = errorLine(error);
      throw new Error(
        /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|socket hang up|Timeout/i.test(reason)
          ? `ClickHouse at ${this.options.url} cannot be reached (${reason}); start it or fix store.url`
          : `ClickHouse at ${this.options.url} refused to create database ${this.options.database}: ${reason}`,
        { cause: error },
      );
    } finally {
      await admin.close();
    }
    await this.command(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY version`);
    const done = new Set(
      (await this.query<{ version: number }>('SELECT DISTINCT version FROM schema_migrations')).map((r) =>
        Number(r.version),
      ),
    );
    for (const migration of CLICKHOUSE_MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await this.command(statement);
      await this.command('INSERT INTO schema_migrations (version, name) VALUES ({p1:UInt32}, {p2:String})', [
        migration.version,
        migration.name,
      ]);
    }
  }

  append(rows: readonly EventRow[]): Promise<{ inserted: number }> {
    if (rows.length === 0) return Promise.resolve({ inserted: 0 });
    const seen = new Set<string>();
    let body = '';
    let minTs = Infinity;
    let maxTs = -Infinity;
    for (const row of rows) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      body += `${JSON.stringify(row)}\n`;
      minTs = Math.min(minTs, row.ts);
      maxTs = Math.max(maxTs, row.ts);
    }
    return this.insertRows(() => body, 'JSONEachRow', { minTs, maxTs });
  }

  async appendJsonLines(path: string, rows?: FileRows): Promise<{ inserted: number }> {
    try {
      return await this.insertRows(() => createReadStream(path), 'JSONEachRow', rows);
    } catch (error) {
      if (error instanceof Error && UNREADABLE.test(error.message)) throw new UnreadableFile(path, error);
      throw error;
    }
  }

  appendCsv(path: string, rows: FileRows): Promise<{ inserted: number }> {
    return this.insertRows(() => createReadStream(path), 'CSV', rows);
  }

  /**
   * Loads rows into this session's temporary table, then moves those not yet stored into
   * `events` in one statement; returns how many moved. `range` bounds the id check (read from
   * the rows when absent).
   */
  private insertRows(
    data: () => Readable | string,
    format: 'JSONEachRow' | 'CSV',
    range?: { minTs: number; maxTs: number },
  ): Promise<{ inserted: number }> {
    return this.writes.run(async () => {
      const session = { session_id: this.sessionId };
      await this.client.command({
        query: `CREATE TEMPORARY TABLE IF NOT EXISTS incoming (${STORED_EVENT_COLUMNS}) ENGINE = Memory`,
        ...session,
      });
      await this.client.command({ query: 'TRUNCATE TABLE incoming', ...session });
      try {
        const structure = format === 'CSV' ? CSV_STRUCTURE : JSON_STRUCTURE;
        await this.client
          .exec({
            query: `INSERT INTO incoming SELECT ${AS_STORED} FROM input('${structure}') FORMAT ${format}`,
            values: toStream(data()),
            ...session,
            ...(format === 'CSV' ? { clickhouse_settings: CSV_SETTINGS } : {}),
          })
          .then((result) => drained(result.stream));
        const [stats] = await this.rows<{ n: number; min: number; max: number }>(
          `SELECT count() AS n, toUnixTimestamp64Milli(min(ts)) AS min, toUnixTimestamp64Milli(max(ts)) AS max FROM incoming`,
          [],
          session,
        );
        const total = Number(stats?.n ?? 0);
        if (total === 0) return { inserted: 0 };
        const min = Math.trunc(range?.minTs ?? Number(stats!.min));
        const max = Math.trunc(range?.maxTs ?? Number(stats!.max));
        const stored = `SELECT id FROM events WHERE ts BETWEEN fromUnixTimestamp64Milli({p1:Int64}, 'UTC') AND fromUnixTimestamp64Milli({p2:Int64}, 'UTC')`;
        const [present] = await this.rows<{ n: number }>(
          `SELECT count() AS n FROM incoming WHERE id IN (${stored})`,
          [min, max],
          session,
        );
        const duplicates = Number(present?.n ?? 0);
        if (duplicates < total) {
          await this.client.command({
            query: `INSERT INTO events SELECT * FROM incoming WHERE id NOT IN (${stored})`,
            query_params: { p1: min, p2: max },
            ...session,
          });
        }
        return { inserted: total - duplicates };
      } finally {
        await this.client.command({ query: 'TRUNCATE TABLE incoming', ...session }).catch(() => undefined);
      }
    });
  }

  refreshRollups(): Promise<{ hours: number }> {
    // The materialized view keeps the rollup on every insert.
    return Promise.resolve({ hours: 0 });
  }

  async appendEgress(records: readonly EgressRecord[]): Promise<void> {
    if (records.length === 0) return;
    const body = records.map(egressLine).join('\n');
    const egress = await this.client.exec({
      query: INSERT_EGRESS,
      values: toStream(body),
    });
    await drained(egress.stream);
  }

  async importLineIds(): Promise<LineIdScheme> {
    const rows = await this.query<{ value: string }>(
      "SELECT value FROM store_facts FINAL WHERE key = 'import_line_ids' LIMIT 1",
    );
    return rows[0]?.value === 'sha256' ? 'sha256' : 'xxh64';
  }

  async purgeBefore(beforeTs: number): Promise<{ events: number; hourly: number; egress: number }> {
    const cutoff = [Math.trunc(beforeTs)];
    const before = "fromUnixTimestamp64Milli({p1:Int64}, 'UTC')";
    const count = async (sql: string) => Number((await this.query<{ n: number }>(sql, cutoff))[0]?.n ?? 0);
    const events = await count(`SELECT count() AS n FROM events WHERE ts < ${before}`);
    const hourly = await count(`SELECT count() AS n FROM events_hourly WHERE ts < toStartOfHour(${before})`);
    const egress = await count(`SELECT count() AS n FROM egress WHERE ts < ${before}`);
    if (events > 0) {
      await this.command(`DELETE FROM events WHERE ts < ${before}`, cutoff);
      // The hour the cutoff falls in lost some of its rows: its rollup is made again.
      await this.command(`DELETE FROM events_hourly WHERE ts <= toStartOfHour(${before})`, cutoff);
      await this.command(
        `INSERT INTO events_hourly SELECT toStartOfHour(ts) AS h, ${ROLLUP_COLUMNS}, count()
         FROM events WHERE ts >= toStartOfHour(${before}) AND ts < toStartOfHour(${before}) + INTERVAL 1 HOUR
         GROUP BY h, ${ROLLUP_COLUMNS}`,
        cutoff,
      );
    } else if (hourly > 0) {
      await this.command(`DELETE FROM events_hourly WHERE ts < toStartOfHour(${before})`, cutoff);
    }
    if (egress > 0) await this.command(`DELETE FROM egress WHERE ts < ${before}`, cutoff);
    return { events, hourly, egress };
  }

  async markAllDirty(): Promise<void> {
    // Rebuilds the rollup from the raw table (after writes made outside `append`).
    await this.command('TRUNCATE TABLE events_hourly');
    await this.command(
      `INSERT INTO events_hourly SELECT toStartOfHour(ts) AS h, ${ROLLUP_COLUMNS}, count()
       FROM events GROUP BY h, ${ROLLUP_COLUMNS}`,
    );
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params: readonly SqlParam[] = [],
    options: { timeoutMs?: number } = {},
  ): Promise<T[]> {
    // A statement that returns no rows (a DELETE, say) goes as a command.
    if (!/^\s*(SELECT|WITH|SHOW|DESCRIBE|EXPLAIN)\b/i.test(sql)) {
      await this.command(sql, params);
      return [];
    }
    try {
      return await this.rows<T>(
        sql,
        params,
        options.timeoutMs === undefined
          ? {}
          : { clickhouse_settings: { max_execution_time: Math.max(1, Math.ceil(options.timeoutMs / 1000)) } },
      );
    } catch (error) {
      if (options.timeoutMs !== undefined && error instanceof Error && TIMEOUT.test(error.message))
        throw new QueryTimeout(options.timeoutMs);
      throw error;
    }
  }

  /** Runs a statement (`{pN:Type}` bound to `params[N-1]`) and returns its rows. */
  private async rows<T>(
    sql: string,
    params: readonly SqlParam[],
    extra: { session_id?: string; clickhouse_settings?: Record<string, number | string> } = {},
  ): Promise<T[]> {
    const result = await this.client.query({
      query: sql,
      format: 'JSONEachRow',
      query_params: bindings(params),
      ...extra,
    });
    return result.json<T>();
  }

  private async command(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.client.command({ query: sql, query_params: bindings(params) });
  }

  async close(): Promise<void> {
    await this.writes.run(() => this.client.close());
  }
}
