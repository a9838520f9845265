import { SqlWriter } from '../store/dialect.js';
import {
  COUNT_SUMMARIES,
  DAILY_TWINS,
  isCountSummary,
  isVisitSummary,
  VISIT_SUMMARIES,
  type CountSummary,
  type DailySummary,
  type VisitSummary,
} from '../store/summaries.js';
import { offsetSpans } from '../time.js';
import type { Dialect, SqlParam } from '../store/store.js';
import { DIMENSIONS, VISIT_METRICS, type Dimension, type Query } from './model.js';
import { VISIT_MARGIN_MS, visitConditions, visitsFrom } from './visits.js';

// The insights queries, written once for both stores (`SqlWriter`). Every value from a query is a
// bound parameter; only names from closed lists (metrics, dimensions, intervals) are written into
// the SQL text.

/**
 * Where a statement reads: `raw` is the events table (one row per event); `rollup` is
 * `events_hourly` (counts per UTC hour and low-cardinality dimension, column `n`), whose time
 * column is also named `ts` so the bucket keys below serve both; `visits` is the visits table
 * (one row per visit, its `ts` the first event's: store/visits.ts), kept by the embedded store.
 */
export type Source =
  'raw' | 'rollup' | 'visits' | CountSummary | VisitSummary | DailySummary | 'visitors_daily';

const TABLE: Record<'raw' | 'rollup' | 'visits', string> = {
  raw: 'events',
  rollup: 'events_hourly',
  visits: 'visits',
};

/** Every source a plan may read, as the API's answers name them. */
export const PLAN_SOURCES: readonly Source[] = [
  'rollup',
  ...(Object.keys(COUNT_SUMMARIES) as CountSummary[]),
  ...(Object.keys(VISIT_SUMMARIES) as VisitSummary[]),
  ...Object.values(DAILY_TWINS),
  'visitors_daily',
  'visits',
  'raw',
];

/** Sources of counts per UTC hour (a bucket of 1h is the row's own hour). */
const HOURLY: ReadonlySet<string> = new Set([
  'rollup',
  ...Object.keys(COUNT_SUMMARIES),
  ...Object.keys(VISIT_SUMMARIES),
]);

/** Rows matching `where` (all rows without it); 0, never null, when none match. */
function countOf(sql: SqlWriter, source: Source, where?: string): string {
  if (isVisitSummary(source)) return sql.sum('visits', where);
  return source === 'raw' || source === 'visits' ? sql.count(where) : sql.sum('n', where);
}

/** A visit metric over visits (one row each) or their hourly sums (`visits_hourly`). */
function visitMetricSql(sql: SqlWriter, metric: Query['metric'], source: Source): string {
  const summed = isVisitSummary(source);
  const visits = summed ? sql.sum('visits') : sql.count();
  const bounces = summed ? sql.sum('bounces') : sql.count('events = 1');
  switch (metric) {
    case 'visits':
      return visits;
    case 'bounce_rate':
      return sql.round2(`100.0 * ${bounces} / nullif(${visits}, 0)`);
    case 'visit_duration':
      return sql.round2(`${sql.sum('duration_ms')} / 1000.0 / nullif(${visits}, 0)`);
    default:
      return sql.round2(`1.0 * ${sql.sum('pages')} / nullif(${visits}, 0)`);
  }
}

// Raw traffic (Radar-like) counts bots; audience metrics (pageviews, visitors) do not.
function metricSql(sql: SqlWriter, metric: Query['metric'], source: Source): string {
  const count = (where?: string) => countOf(sql, source, where);
  switch (metric) {
    case 'requests':
      return count("type = 'request'");
    case 'pageviews':
      return count("type = 'pageview' AND NOT is_bot");
    case 'events':
      return count();
    case 'visitors':
      // Visits are of non-bot events already.
      if (source === 'visits') return sql.distinct('visitor_hash', 'true');
      // Each site's distinct hashes of the day, added up (a hash is keyed by its site).
      if (source === 'visitors_daily') return sql.sum('n');
      if (source !== 'raw') throw new Error('visitors are distinct hashes: the rollup has none');
      return sql.distinct('visitor_hash', 'NOT is_bot');
    case 'mobile_share':
      return sql.round2(`100.0 * ${count("device_type = 'mobile'")} / nullif(${count('NOT is_bot')}, 0)`);
    case 'bot_share':
      return sql.round2(`100.0 * ${count('is_bot')} / nullif(${count()}, 0)`);
    case 'bandwidth':
      if (source !== 'raw') throw new Error('bandwidth sums bytes: only the raw table has them');
      return sql.sum('bytes');
    // Over visits (one row each, visits.ts) or their hourly sums: events, pages and duration per visit.
    case 'visits':
    case 'bounce_rate':
    case 'visit_duration':
    case 'views_per_visit':
      return visitMetricSql(sql, metric, source);
  }
}

/** Dimensions the hourly rollup keeps (filters and breakdowns on others read the raw table). */
export const ROLLUP_DIMENSIONS: ReadonlySet<string> = new Set([
  'country',
  'region',
  'device_type',
  'browser',
  'os',
  'referrer_class',
  'node',
  'type',
]);

/** True for metrics that are counts (an empty bucket is 0); shares and averages are null when empty. */
export function isCount(metric: Query['metric']): boolean {
  return !['mobile_share', 'bot_share', 'bounce_rate', 'visit_duration', 'views_per_visit'].includes(metric);
}

// The bucket key of each row: the bucket's UTC start in ms (a number; the caller compares it as
// text) or the local date, exactly as buckets.ts computes them. A bucket of whole minutes starts
// where the row's local time, floored to the bucket, starts: the row's UTC ms minus its local ms
// modulo the bucket width (every zone offset is whole minutes, so 1m needs no zone at all).
// DuckDB adds the zone's offset, known in advance over the scanned range (a CASE at each change
// of time): converting each row's time with the zone database costs ≈ 0.2 µs a row, 25 times the
// arithmetic (BENCHMARKS.md). Its local dates are day numbers, written as dates after grouping
// (`dayNumbers`). ClickHouse asks the zone's offset of each row (cheap there).
function keySql(sql: SqlWriter, scan: Scan, zone: string): string {
  const { source, query, tz } = scan;
  const interval = query.interval;
  if (HOURLY.has(source) && interval === '1h') return sql.ms('ts');
  const utc = sql.ms('ts');
  if (interval === '1m') return `${utc} - (${utc} % 60000)`;
  if (sql.dialect === 'duckdb') {
    // A day either side: a visit's key is its first event's, inside the range; margins are cheap.
    const spans = offsetSpans(scan.start - 2 * DAY, scan.end + 2 * DAY, tz);
    const changes = spans
      .slice(1)
      .reverse()
      .map((span) => `WHEN ${utc} >= ${sql.bind(span.from, 'Int64')} THEN ${sql.bind(span.offset, 'Int64')}`);
    const offset = sql.bind(spans[0]!.offset, 'Int64');
    const local = `(${utc} + ${changes.length ? `CASE ${changes.join(' ')} ELSE ${offset} END` : offset})`;
    if (interval === '1d') return `${local} // ${DAY}`;
    return `${utc} - (${local} % ${interval === '15m' ? 900_000 : 3_600_000})`;
  }
  if (interval === '1d') return `toString(toDate(ts, ${zone}))`;
  const local = `(${utc} + toInt64(timeZoneOffset(toTimeZone(ts, ${zone}))) * 1000)`;
  return `${utc} - (${local} % ${interval === '15m' ? 900_000 : 3_600_000})`;
}

const DAY = 86_400_000;

/** A DuckDB statement whose key `k` is a local day number (days since 1970-01-01), with `k` as that date's text. */
function dayNumbers(statement: string): string {
  return `SELECT strftime(DATE '1970-01-01' + CAST(k AS INTEGER), '%Y-%m-%d') AS k, * EXCLUDE (k) FROM (${statement})`;
}

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params: SqlParam[];
}

/** What one statement reads: the table, the query (filters, metric), sites, zone and UTC range. */
export interface Scan {
  dialect: Dialect;
  source: Source;
  query: Query;
  sites: readonly string[];
  tz: string;
  start: number;
  end: number;
  /** For a summary: the one dimension read. */
  dim?: string;
}

/** A dimension's column as text; a custom property is read from the event's props. */
function dimensionColumn(sql: SqlWriter, dimension: Dimension, query: Query): string {
  if (dimension === 'property') return sql.jsonText('props', sql.bind(query.property ?? '', 'String'));
  return sql.text(DIMENSIONS[dimension]);
}

/** A breakdown dimension's value as text, `(none)` for NULL. */
function dimensionText(sql: SqlWriter, dimension: Dimension, query: Query): string {
  return `coalesce(${dimensionColumn(sql, dimension, query)}, '(none)')`;
}

/**
 * Shared FROM/WHERE: sites, the UTC range and the filters; returns the FROM clause and the zone's
 * placeholder (ClickHouse's).
 */
function scope(sql: SqlWriter, scan: Scan): { from: string; tz: string } {
  const { source, query, sites, tz, start, end } = scan;
  // Bound only where read (ClickHouse's keys): DuckDB refuses a parameter the statement does not use.
  const zone = sql.dialect === 'clickhouse' ? sql.bind(tz, 'String') : '';
  const range = [`ts >= ${sql.instant(start)}`, `ts < ${sql.instant(end)}`, `site IN (${sql.list(sites)})`];
  const summary = summaryTable(sql, scan);
  if (summary) {
    // A summary's filters are on its one grouped dimension (or the type), named as in the events.
    const where = [...range, ...eventFilters(sql, query)];
    return { from: `(SELECT * FROM ${summary} WHERE ${where.join(' AND ')})`, tz: zone };
  }
  if (source === 'visits') {
    // The visits table: its filters are on the visits' own columns (the planner's choice).
    const where = [...range];
    for (const condition of visitConditions(sql, query.filters)) where.push(condition.sql((name) => name));
    return { from: `(SELECT * FROM visits WHERE ${where.join(' AND ')})`, tz: zone };
  }
  if (VISIT_METRICS.has(query.metric)) {
    // Visits that start in the range, whole: their events are read with a margin around it.
    const events = [
      `ts >= ${sql.instant(start - VISIT_MARGIN_MS)}`,
      `ts < ${sql.instant(end + VISIT_MARGIN_MS)}`,
      range[2],
    ].join(' AND ');
    const visits = visitsFrom(sql, events, visitConditions(sql, query.filters));
    const where = [range[0], range[1], ...(visits.where ? [visits.where] : [])].join(' AND ');
    return { from: `(SELECT * FROM ${visits.from} WHERE ${where})`, tz: zone };
  }
  const where = [...range, ...eventFilters(sql, query)];
  return {
    from: `(SELECT * FROM ${TABLE[source as keyof typeof TABLE]} WHERE ${where.join(' AND ')})`,
    tz: zone,
  };
}

/** The query's filters as conditions on the events' columns (exact values; a path prefix). */
function eventFilters(sql: SqlWriter, query: Query): string[] {
  const where: string[] = [];
  for (const [name, value] of Object.entries(query.filters)) {
    if (value === undefined) continue;
    if (name === 'path_prefix') where.push(sql.startsWith('path', sql.bind(value, 'String')));
    else where.push(`${dimensionColumn(sql, name as Dimension, query)} = ${sql.bind(value, 'String')}`);
  }
  return where;
}

/**
 * A summary's rows for the query, with its one dimension under the events' column name: the
 * hourly summaries keep one row per hour and value of each of their dimensions (`dim`, `value`;
 * visits' total under dim ''), `visitors_daily` one per site and day.
 */
function summaryTable(sql: SqlWriter, scan: Scan): string | undefined {
  const { source } = scan;
  if (source === 'visitors_daily') return '(SELECT ts, site, n FROM visitors_daily)';
  const counts = isCountSummary(source);
  if (!counts && !isVisitSummary(source)) return undefined;
  const dim = scan.dim ?? '';
  const column = dim ? `, value AS ${DIMENSIONS[dim as Dimension]}` : '';
  const sums = counts ? 'type, is_bot, n' : 'visits, bounces, duration_ms, pages';
  return `(SELECT ts, site${column}, ${sums} FROM ${source} WHERE dim = ${sql.bind(dim, 'String')})`;
}

/**
 * The metric per bucket — per breakdown value too: values outside `top` folded into other, or
 * every value as is with `'raw'` (the caller folds them).
 */
export function seriesStatement(scan: Scan, top: readonly string[] | 'raw' | null): Statement {
  const { source, query } = scan;
  const sql = new SqlWriter(scan.dialect);
  const from = scope(sql, scan);
  let dimension = '';
  if (query.breakdown && top === 'raw') {
    dimension = `, ${dimensionText(sql, query.breakdown, query)} AS d`;
  } else if (query.breakdown && Array.isArray(top)) {
    const column = dimensionText(sql, query.breakdown, query);
    const list = sql.list(top as readonly string[]);
    dimension = `, CASE WHEN ${column} IN (${list || 'NULL'}) THEN ${column} ELSE '(other)' END AS d`;
  }
  const statement = `SELECT ${keySql(sql, scan, from.tz)} AS k${dimension}, ${metricSql(sql, query.metric, source)} AS v FROM ${from.from} GROUP BY ALL`;
  return {
    sql: sql.dialect === 'duckdb' && query.interval === '1d' ? dayNumbers(statement) : statement,
    params: sql.params,
  };
}

/** The `limit` breakdown values with the highest metric (count metrics) or the most rows (others). */
export function topValuesStatement(scan: Scan, limit: number): Statement {
  const { source, query } = scan;
  const sql = new SqlWriter(scan.dialect);
  const from = scope(sql, scan);
  const column = dimensionText(sql, query.breakdown!, query);
  const ranked = isCount(query.metric) ? metricSql(sql, query.metric, source) : countOf(sql, source);
  return {
    sql: `SELECT ${column} AS d, ${ranked} AS c FROM ${from.from} GROUP BY d ORDER BY c DESC, d LIMIT ${Math.trunc(limit)}`,
    params: sql.params,
  };
}
