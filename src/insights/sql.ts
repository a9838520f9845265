import type { SqlParam } from '../store/store.js';
import type { Interval } from './buckets.js';
import { DIMENSIONS, type Dimension, type Query } from './model.js';

// DuckDB dialect of the insights queries. Every value from a query is a bound parameter; only
// names from closed lists (metrics, dimensions, intervals) are written into the SQL text.

const METRIC_SQL: Record<Query['metric'], string> = {
  // Raw traffic (Radar-like) counts bots; audience metrics (pageviews, visitors) do not.
  requests: "count(*) FILTER (WHERE type = 'request')",
  pageviews: "count(*) FILTER (WHERE type = 'pageview' AND NOT is_bot)",
  events: 'count(*)',
  visitors: 'count(DISTINCT visitor_hash) FILTER (WHERE NOT is_bot)',
  mobile_share:
    "round(100.0 * count(*) FILTER (WHERE device_type = 'mobile') / nullif(count(*) FILTER (WHERE NOT is_bot), 0), 2)",
  bot_share: 'round(100.0 * count(*) FILTER (WHERE is_bot) / nullif(count(*), 0), 2)',
};

/** True for metrics that are counts (an empty bucket is 0); shares are null when empty. */
export function isCount(metric: Query['metric']): boolean {
  return metric !== 'mobile_share' && metric !== 'bot_share';
}

// The bucket key of each row, computed from its local time `l` exactly as buckets.ts does.
const KEY_SQL: Record<Interval, string> = {
  '15m': "CAST(epoch_ms(ts) - (epoch_ms(l) - epoch_ms(time_bucket(INTERVAL '15 minutes', l))) AS VARCHAR)",
  '1h': "CAST(epoch_ms(ts) - (epoch_ms(l) - epoch_ms(date_trunc('hour', l))) AS VARCHAR)",
  '1d': "strftime(l, '%Y-%m-%d')",
};

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params: SqlParam[];
}

/** Shared FROM/WHERE: sites, the UTC range, the local time of each row, and the filters. */
function scope(
  query: Query,
  sites: readonly string[],
  tz: string,
  startUtc: number,
  endUtc: number,
): Statement {
  const params: SqlParam[] = [tz, startUtc, endUtc];
  const where: string[] = ['ts >= epoch_ms($2::BIGINT)', 'ts < epoch_ms($3::BIGINT)'];
  where.push(`site IN (${sites.map((site) => `$${params.push(site)}`).join(', ')})`);
  for (const [name, value] of Object.entries(query.filters)) {
    if (value === undefined) continue;
    if (name === 'path_prefix') where.push(`starts_with(path, $${params.push(value)})`);
    else where.push(`CAST(${DIMENSIONS[name as Dimension]} AS VARCHAR) = $${params.push(value)}`);
  }
  const sql = `(SELECT *, timezone($1, to_timestamp(epoch_ms(ts) / 1000.0)) AS l FROM events WHERE ${where.join(' AND ')})`;
  return { sql, params };
}

/**
 * The metric per bucket — per breakdown value too: values outside `top` folded into other, or
 * every value as is with `'raw'` (the caller folds them).
 */
export function seriesStatement(
  query: Query,
  sites: readonly string[],
  tz: string,
  startUtc: number,
  endUtc: number,
  top: readonly string[] | 'raw' | null,
): Statement {
  const from = scope(query, sites, tz, startUtc, endUtc);
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
    sql: `SELECT ${KEY_SQL[query.interval]} AS k${dimension}, ${METRIC_SQL[query.metric]} AS v FROM ${from.sql} GROUP BY ALL`,
    params,
  };
}

/** The `limit` breakdown values with the highest metric (count metrics) or the most rows (others). */
export function topValuesStatement(
  query: Query,
  sites: readonly string[],
  tz: string,
  startUtc: number,
  endUtc: number,
  limit: number,
): Statement {
  const from = scope(query, sites, tz, startUtc, endUtc);
  const column = `coalesce(CAST(${DIMENSIONS[query.breakdown!]} AS VARCHAR), '(none)')`;
  return {
    sql: `SELECT ${column} AS d, ${isCount(query.metric) ? METRIC_SQL[query.metric] : 'count(*)'} AS n FROM ${from.sql} GROUP BY 1 ORDER BY n DESC, d LIMIT ${Math.trunc(limit)}`,
    params: from.params,
  };
}
