import type { SqlParam } from '../store/store.js';
import type { Interval } from './buckets.js';
import { DIMENSIONS, type Dimension, type Query } from './model.js';

// DuckDB dialect of the insights queries. Every value from a query is a bound parameter; only
// names from closed lists (metrics, dimensions, intervals) are written into the SQL text.

/**
 * Where a statement reads: `raw` is the events table (one row per event); `rollup` is
 * `events_hourly` (counts per UTC hour and low-cardinality dimension, column `n`), whose time
 * column is also named `ts` so the bucket keys below serve both.
 */
export type Source = 'raw' | 'rollup';

const TABLE: Record<Source, string> = { raw: 'events', rollup: 'events_hourly' };

/** Rows matching `where` (all rows without it); 0, never null, when none match. */
function countOf(source: Source, where?: string): string {
  const filter = where ? ` FILTER (WHERE ${where})` : '';
  return source === 'raw' ? `count(*)${filter}` : `coalesce(sum(n)${filter}, 0)::BIGINT`;
}

// Raw traffic (Radar-like) counts bots; audience metrics (pageviews, visitors) do not.
function metricSql(metric: Query['metric'], source: Source): string {
  const count = (where?: string) => countOf(source, where);
  switch (metric) {
    case 'requests':
      return count("type = 'request'");
    case 'pageviews':
      return count("type = 'pageview' AND NOT is_bot");
    case 'events':
      return count();
    case 'visitors':
      if (source !== 'raw') throw new Error('visitors are distinct hashes: only the raw table has them');
      return 'count(DISTINCT visitor_hash) FILTER (WHERE NOT is_bot)';
    case 'mobile_share':
      return `round(100.0 * ${count("device_type = 'mobile'")} / nullif(${count('NOT is_bot')}, 0), 2)`;
    case 'bot_share':
      return `round(100.0 * ${count('is_bot')} / nullif(${count()}, 0), 2)`;
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

/** True for metrics that are counts (an empty bucket is 0); shares are null when empty. */
export function isCount(metric: Query['metric']): boolean {
  return metric !== 'mobile_share' && metric !== 'bot_share';
}

// The bucket key of each row, computed from its local time `l` exactly as buckets.ts does: the
// bucket's UTC start in ms (a number; the caller compares it as text) or the local date.
const KEY_SQL: Record<Interval, string> = {
  // Every zone offset is whole minutes: a local minute starts on a UTC minute.
  '1m': 'epoch_ms(ts) - (epoch_ms(ts) % 60000)',
  '15m': "epoch_ms(ts) - (epoch_ms(l) - epoch_ms(time_bucket(INTERVAL '15 minutes', l)))",
  '1h': "epoch_ms(ts) - (epoch_ms(l) - epoch_ms(date_trunc('hour', l)))",
  '1d': "strftime(l, '%Y-%m-%d')",
};

/** The key of a rollup row: its hour is the local hour's start (the planner checked the offsets). */
function keySql(source: Source, interval: Interval): string {
  return source === 'rollup' && interval === '1h' ? 'epoch_ms(ts)' : KEY_SQL[interval];
}

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params: SqlParam[];
}

/** What one statement reads: the table, the query (filters, metric), sites, zone and UTC range. */
export interface Scan {
  source: Source;
  query: Query;
  sites: readonly string[];
  tz: string;
  start: number;
  end: number;
}

/** Shared FROM/WHERE: sites, the UTC range, the local time of each row, and the filters. */
function scope({ source, query, sites, tz, start, end }: Scan): Statement {
  const params: SqlParam[] = [tz, start, end];
  const where: string[] = ['ts >= epoch_ms($2::BIGINT)', 'ts < epoch_ms($3::BIGINT)'];
  where.push(`site IN (${sites.map((site) => `$${params.push(site)}`).join(', ')})`);
  for (const [name, value] of Object.entries(query.filters)) {
    if (value === undefined) continue;
    if (name === 'path_prefix') where.push(`starts_with(path, $${params.push(value)})`);
    else where.push(`CAST(${DIMENSIONS[name as Dimension]} AS VARCHAR) = $${params.push(value)}`);
  }
  const sql = `(SELECT *, timezone($1, to_timestamp(epoch_ms(ts) / 1000.0)) AS l FROM ${TABLE[source]} WHERE ${where.join(' AND ')})`;
  return { sql, params };
}

/**
 * The metric per bucket — per breakdown value too: values outside `top` folded into other, or
 * every value as is with `'raw'` (the caller folds them).
 */
export function seriesStatement(scan: Scan, top: readonly string[] | 'raw' | null): Statement {
  const { source, query } = scan;
  const from = scope(scan);
  const params = [...from.params];
  let dimension = '';
  if (query.breakdown && top === 'raw') {
    dimension = `, coalesce(CAST(${DIMENSIONS[query.breakdown]} AS VARCHAR), '(none)') AS d`;
  } else if (query.breakdown && Array.isArray(top)) {
    const column = `coalesce(CAST(${DIMENSIONS[query.breakdown]} AS VARCHAR), '(none)')`;
    const list = (top as readonly string[]).map((value) => `$${params.push(value)}`).join(', ');
    dimension = `, CASE WHEN ${column} IN (${list || 'NULL'}) THEN ${column} ELSE '(other)' END AS d`;
  }
  return {
    sql: `SELECT ${keySql(source, query.interval)} AS k${dimension}, ${metricSql(query.metric, source)} AS v FROM ${from.sql} GROUP BY ALL`,
    params,
  };
}

/** The `limit` breakdown values with the highest metric (count metrics) or the most rows (others). */
export function topValuesStatement(scan: Scan, limit: number): Statement {
  const { source, query } = scan;
  const from = scope(scan);
  const column = `coalesce(CAST(${DIMENSIONS[query.breakdown!]} AS VARCHAR), '(none)')`;
  return {
    sql: `SELECT ${column} AS d, ${isCount(query.metric) ? metricSql(query.metric, source) : countOf(source)} AS c FROM ${from.sql} GROUP BY 1 ORDER BY c DESC, d LIMIT ${Math.trunc(limit)}`,
    params: from.params,
  };
}
