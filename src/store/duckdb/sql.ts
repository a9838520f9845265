// The DuckDB store's SQL: the staging table, the idempotent inserts (spool segments, row CSV,
// batches), the rollup's dirty hours and its refresh. Values are always bound parameters.
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { BIGINT, LIST, listValue } from './api.js';
import { ROW_COLUMNS } from '../row.js';
import { COUNT_SUMMARIES, groupings } from '../summaries.js';
import type { FileRows } from '../store.js';

// Plain-typed landing table (TEMP: never written to disk or WAL); rows move to `events` with an
// anti-join on id, which makes every write idempotent.
export const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS events_staging (
  id VARCHAR, ts BIGINT, site VARCHAR, type VARCHAR, name VARCHAR, path VARCHAR, title VARCHAR,
  referrer_host VARCHAR, referrer_class VARCHAR, country VARCHAR, region VARCHAR, asn BIGINT,
  device_type VARCHAR, browser VARCHAR, os VARCHAR, is_bot BOOLEAN, visitor_hash VARCHAR,
  session_hash VARCHAR, node VARCHAR, status INTEGER, bytes BIGINT, source VARCHAR, props VARCHAR,
  utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, utm_term VARCHAR, utm_content VARCHAR,
  paid BOOLEAN, screen_class VARCHAR)`;

// EventRow JSON keys and their landing types, in the staging table's column order.
const JSON_COLUMNS = `{id: 'VARCHAR', ts: 'BIGINT', site: 'VARCHAR', type: 'VARCHAR', name: 'VARCHAR', path: 'VARCHAR',
  title: 'VARCHAR', referrerHost: 'VARCHAR', referrerClass: 'VARCHAR', country: 'VARCHAR', region: 'VARCHAR',
  asn: 'BIGINT', deviceType: 'VARCHAR', browser: 'VARCHAR', os: 'VARCHAR', isBot: 'BOOLEAN', visitorHash: 'VARCHAR',
  sessionHash: 'VARCHAR', node: 'VARCHAR', status: 'INTEGER', bytes: 'BIGINT', source: 'VARCHAR', props: 'VARCHAR',
  utmSource: 'VARCHAR', utmMedium: 'VARCHAR', utmCampaign: 'VARCHAR', utmTerm: 'VARCHAR', utmContent: 'VARCHAR',
  paid: 'BOOLEAN', screenClass: 'VARCHAR'}`;

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
  utmSource: 'VARCHAR',
  utmMedium: 'VARCHAR',
  utmCampaign: 'VARCHAR',
  utmTerm: 'VARCHAR',
  utmContent: 'VARCHAR',
  paid: 'BOOLEAN',
  screenClass: 'VARCHAR',
};
const STORED_COLUMNS = `{${ROW_COLUMNS.map((column) => `${column}: '${STORED_TYPES[column]}'`).join(', ')}}`;

export const LOAD_JSON_LINES = `INSERT INTO events_staging
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

export const MOVE_STAGED = `
  INSERT INTO events
  SELECT s.id::UUID, epoch_ms(s.ts), s.site, s.type, s.name, s.path, s.title, s.referrer_host,
         s.referrer_class, s.country, s.region, s.asn, s.device_type, s.browser, s.os, s.is_bot,
         s.visitor_hash::UBIGINT, s.session_hash::UBIGINT, s.node, s.status, s.bytes, s.source, s.props,
         s.utm_source, s.utm_medium, s.utm_campaign, s.utm_term, s.utm_content, coalesce(s.paid, false),
         s.screen_class
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
export const INSERT_JSON_LINES = insertFrom(
  `read_json($1, format = 'newline_delimited', ignore_errors = false, columns = ${STORED_COLUMNS})`,
  's.id IS NOT NULL AND s.ts IS NOT NULL',
);

// A row CSV file (store/csv.ts), read in 1 MiB buffers instead of DuckDB's 32 MiB: fresh memory
// for each large buffer was faulted in page by page (≈ 0.5 µs per row, BENCHMARKS.md). A buffer
// must hold a whole line; a row line is a few kB at most (every stored text has a cap: path
// 1,024, title 300, props 4,096 characters).
export const INSERT_CSV =
  insertFrom(`read_csv($1, header = false, auto_detect = false, delim = ',', quote = '"',
  escape = '"', allow_quoted_nulls = false, buffer_size = 1048576, columns = ${STORED_COLUMNS})`);

// After inserting a file whose writer told its rows (FileRows): the hours they fall in, as whole
// hours since the epoch — cheaper than reading the rows back to find them.
const MARK_DIRTY_HOURS = `INSERT OR IGNORE INTO rollup_dirty
  SELECT DISTINCT make_timestamp(h * 3600000000) FROM unnest($1::BIGINT[]) t(h)`;

/** The statement that marks `rows.hours` dirty, with its parameter and type. */
export function markHours(rows: FileRows): [string, DuckDBValue[], DuckDBType[]] {
  return [MARK_DIRTY_HOURS, [listValue(rows.hours.map((hour) => BigInt(hour)))], [LIST(BIGINT)]];
}

// Hours touched by a batch; their rollup rows are recomputed before the next rollup read.
export const MARK_DIRTY = `INSERT OR IGNORE INTO rollup_dirty
  SELECT DISTINCT date_trunc('hour', epoch_ms(ts)) FROM events_staging`;

// Every hour holding rows or summaries, for a rollup and visits rebuilt whole.
export const MARK_ALL_DIRTY = `INSERT OR IGNORE INTO rollup_dirty
  SELECT DISTINCT date_trunc('hour', ts) FROM events
  UNION SELECT DISTINCT ts FROM events_hourly
  UNION SELECT DISTINCT ts FROM dims_hourly
  UNION SELECT DISTINCT date_trunc('hour', ts) FROM visits`;

// DuckDB's JSON reader refusing a line of a file (not the store being away).
export const UNREADABLE = /Malformed JSON|Invalid Input Error|Conversion Error/i;

// A DuckDB error after which the database refuses every query until it is opened again.
export const FATAL = /FATAL Error|database has been invalidated|must be restarted/i;

/** Dimensions kept in the hourly rollup, in its column order (after ts). */
const ROLLUP_COLUMNS = 'site, type, is_bot, device_type, country, region, browser, os, referrer_class, node';

// Recomputes the dirty hours from the raw table (the rollup and the page dimensions' counts):
// delete, re-aggregate, clear the marks.
export const REFRESH_ROLLUP = [
  `CREATE OR REPLACE TEMP TABLE refresh_hours AS SELECT hour FROM rollup_dirty`,
  // The same hours' visits are rebuilt at the next visits refresh (visits.ts).
  `INSERT OR IGNORE INTO visits_dirty SELECT hour FROM refresh_hours`,
  `DELETE FROM events_hourly WHERE ts IN (SELECT hour FROM refresh_hours)`,
  `INSERT INTO events_hourly
   SELECT date_trunc('hour', ts) AS h, ${ROLLUP_COLUMNS}, count(*)
   FROM events
   WHERE ts >= (SELECT min(hour) FROM refresh_hours)
     AND ts < (SELECT max(hour) FROM refresh_hours) + INTERVAL 1 HOUR
     AND date_trunc('hour', ts) IN (SELECT hour FROM refresh_hours)
   GROUP BY ALL`,
  ...Object.entries(COUNT_SUMMARIES).flatMap(([table, dims]) => {
    const { columns, sets } = groupings(dims, 'h, site, type, is_bot');
    return [
      `DELETE FROM ${table} WHERE ts IN (SELECT hour FROM refresh_hours)`,
      // The same hours, one grouping per dimension, in one pass; in dimension order, so that a
      // large refresh stores each dimension's rows together.
      `INSERT INTO ${table}
       SELECT date_trunc('hour', ts) AS h, site, type, is_bot, ${columns}, count(*)
       FROM events
       WHERE ts >= (SELECT min(hour) FROM refresh_hours)
         AND ts < (SELECT max(hour) FROM refresh_hours) + INTERVAL 1 HOUR
         AND date_trunc('hour', ts) IN (SELECT hour FROM refresh_hours)
       GROUP BY GROUPING SETS (${sets})
       ORDER BY dim, h`,
    ];
  }),
  `DELETE FROM rollup_dirty WHERE hour IN (SELECT hour FROM refresh_hours)`,
  `DROP TABLE refresh_hours`,
];
