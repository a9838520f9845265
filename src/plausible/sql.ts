import type { SqlWriter } from '../store/dialect.js';
import { goalSql, type Goal } from '../store/goals.js';
import { VISIT_MARGIN_MS, visitsFrom, type VisitCondition } from '../insights/visits.js';
import {
  PLAUSIBLE_DIMENSIONS,
  type PlausibleDimension,
  type PlausibleFilter,
  type PlausibleQuery,
} from './query.js';

/** Time buckets of `time:*` dimensions. */
export type TimeBucket = 'hour' | 'day' | 'week' | 'month';

/** What one statement reads: the site, its zone, the UTC range, and the bucket of `time`. */
export interface PlausibleScan {
  query: PlausibleQuery;
  site: string;
  tz: string;
  start: number;
  end: number;
  /** The bucket `time` stands for (chosen from the range's length). */
  time: TimeBucket;
  /** The site's goals (`event:goal`). */
  goals: readonly Goal[];
  /** The store keeps a visits table, up to date (store/visits.ts). */
  visitsTable?: boolean;
}

/** Dimensions only a visit has: with them, every metric is read over visits. */
const VISIT_ONLY = new Set(['visit:entry_page', 'visit:exit_page', 'visit:source']);

/** A visit's source: its campaign's, else its referrer's host, else Plausible's `Direct / None`. */
const SOURCE = "coalesce(utm_source, referrer_host, 'Direct / None')";

/** The SQL of a time bucket of `ts`, local to the zone placeholder `zone`, as text. */
function timeSql(sql: SqlWriter, bucket: TimeBucket, zone: string): string {
  if (sql.dialect === 'duckdb') {
    const local = `timezone(${zone}, to_timestamp(epoch_ms(ts) / 1000.0))`;
    if (bucket === 'hour') return `strftime(${local}, '%Y-%m-%d %H:00:00')`;
    if (bucket === 'day') return `strftime(${local}, '%Y-%m-%d')`;
    return `strftime(date_trunc('${bucket}', ${local}), '%Y-%m-%d')`;
  }
  if (bucket === 'hour') return `formatDateTime(toStartOfHour(toTimeZone(ts, ${zone})), '%Y-%m-%d %H:00:00')`;
  if (bucket === 'day') return `toString(toDate(ts, ${zone}))`;
  if (bucket === 'week') return `toString(toMonday(toDate(ts, ${zone})))`;
  return `toString(toStartOfMonth(toDate(ts, ${zone})))`;
}

/** The SQL of a dimension over events or visits, as text (`(none)` when empty). */
function dimensionSql(sql: SqlWriter, name: string, scan: PlausibleScan, zone: string): string {
  if (name.startsWith('time'))
    return timeSql(sql, name === 'time' ? scan.time : (name.slice(5) as TimeBucket), zone);
  if (name === 'visit:source') return SOURCE;
  if (name === 'event:goal') return goalName(sql, scan.goals);
  return `coalesce(${sql.text(PLAUSIBLE_DIMENSIONS[name as PlausibleDimension])}, '(none)')`;
}

/** The name of the first goal an event completes, or NULL. */
function goalName(sql: SqlWriter, goals: readonly Goal[]): string {
  if (goals.length === 0) return 'NULL';
  return `CASE ${goals.map((goal) => `WHEN ${goalSql(sql, goal)} THEN ${sql.bind(goal.name, 'String')}`).join(' ')} END`;
}

/** A filter's condition, given how to name a column. */
function filterSql(
  sql: SqlWriter,
  [operator, name, values]: PlausibleFilter,
  column: (c: string) => string,
  goals: readonly Goal[],
): string {
  if (name === 'event:goal') {
    const chosen = goals.filter((goal) => values.map(String).includes(goal.name));
    const any = chosen.length
      ? `(${chosen.map((goal) => goalSql(sql, goal, column)).join(' OR ')})`
      : '1 = 0';
    return operator === 'is_not' ? `NOT ${any}` : any;
  }
  const target =
    name === 'visit:source'
      ? `coalesce(${column('utm_source')}, ${column('referrer_host')}, 'Direct / None')`
      : `coalesce(${sql.text(column(PLAUSIBLE_DIMENSIONS[name as PlausibleDimension]))}, '')`;
  const texts = values.map(String);
  const test =
    operator === 'is' || operator === 'is_not'
      ? `${target} IN (${sql.list(texts)})`
      : `(${texts.map((v) => `position(${sql.bind(v, 'String')} IN ${target}) > 0`).join(' OR ')})`;
  return operator === 'is_not' || operator === 'contains_not' ? `NOT ${test}` : test;
}

/** True when the query is answered over visits (a visit metric, or a visit's own dimension or filter). */
export function readsVisits(query: PlausibleQuery, visitMetric: boolean): boolean {
  return (
    visitMetric ||
    query.dimensions.some((d) => VISIT_ONLY.has(d) || (d.startsWith('visit:') && !EVENT_SAFE.has(d))) ||
    query.filters.some(
      ([, name]) => VISIT_ONLY.has(name) || (name.startsWith('visit:') && !EVENT_SAFE.has(name)),
    )
  );
}

/** Visit dimensions an event has the same value for as its visit (where it was, on what device). */
const EVENT_SAFE = new Set(['visit:device', 'visit:browser', 'visit:os', 'visit:country', 'visit:region']);

/** The metrics' SQL over events (no visit metric, no visit-only dimension). */
const EVENT_METRICS: Record<string, (sql: SqlWriter) => string> = {
  visitors: (sql) => sql.distinct('visitor_hash', 'visitor_hash IS NOT NULL'),
  pageviews: (sql) => sql.count("type IN ('pageview', 'request')"),
  events: (sql) => sql.count(),
};

/** The metrics' SQL over visits (one row each, insights/visits.ts). */
const VISIT_METRICS_SQL: Record<string, (sql: SqlWriter) => string> = {
  visitors: (sql) => sql.distinct('visitor_hash', 'visitor_hash IS NOT NULL'),
  visits: (sql) => sql.count(),
  pageviews: (sql) => sql.sum('pages'),
  events: (sql) => sql.sum('events'),
  bounce_rate: (sql) => `floor(100.0 * ${sql.count('events = 1')} / nullif(${sql.count()}, 0) + 0.5)`,
  visit_duration: (sql) => `floor(${sql.sum('duration_ms')} / 1000.0 / nullif(${sql.count()}, 0) + 0.5)`,
  views_per_visit: (sql) => sql.round2(`1.0 * ${sql.sum('pages')} / nullif(${sql.count()}, 0)`),
};

/** A filter on what a page or event is (`event:…`): visits match it by any of their events. */
export function isEventFilter(filter: PlausibleQuery['filters'][number]): boolean {
  return filter[1].startsWith('event:');
}

/** The statement: one row per group of the dimensions (`d0`…), one column per metric (`m0`…). */
export function plausibleStatement(sql: SqlWriter, scan: PlausibleScan, overVisits: boolean): string {
  const { query } = scan;
  // Bound only when read: DuckDB refuses a parameter the statement does not use.
  const zone = query.dimensions.some((d) => d.startsWith('time')) ? sql.bind(scan.tz, 'String') : '';
  const site = sql.bind(scan.site, 'String');
  const dimensions = query.dimensions.map((d, i) => `${dimensionSql(sql, d, scan, zone)} AS d${i}`);
  const group =
    query.dimensions.length > 0 ? ` GROUP BY ${query.dimensions.map((_, i) => `d${i}`).join(', ')}` : '';
  if (!overVisits) {
    const where = [
      `site = ${site}`,
      `ts >= ${sql.instant(scan.start)}`,
      `ts < ${sql.instant(scan.end)}`,
      'NOT is_bot',
      ...query.filters.map((f) => filterSql(sql, f, (c) => c, scan.goals)),
      // Grouped by goal: only the events that complete one.
      ...(query.dimensions.includes('event:goal') ? [`${goalName(sql, scan.goals)} IS NOT NULL`] : []),
    ];
    const metrics = query.metrics.map((m, i) => `${EVENT_METRICS[m]!(sql)} AS m${i}`);
    return `SELECT ${[...dimensions, ...metrics].join(', ')} FROM events WHERE ${where.join(' AND ')}${group}`;
  }
  // Filters on what a page or event is keep the visits with any matching event; the others, the
  // visit's own values (its first event's, or its exit page).
  const conditions: VisitCondition[] = query.filters.map((filter) => ({
    anyEvent: isEventFilter(filter),
    sql: (column) => filterSql(sql, filter, column, scan.goals),
  }));
  // Numbered from the events around the range, or read from the store's visits table (the same
  // visits) unless a condition is on any event of a visit. Bound only when read, as above.
  const visits =
    scan.visitsTable && !query.filters.some(isEventFilter)
      ? {
          from: `(SELECT * FROM visits WHERE site = ${site})`,
          where: conditions.map((c) => c.sql((column) => column)).join(' AND '),
        }
      : visitsFrom(
          sql,
          `site = ${site} AND ts >= ${sql.instant(scan.start - VISIT_MARGIN_MS)} AND ts < ${sql.instant(scan.end + VISIT_MARGIN_MS)}`,
          conditions,
        );
  const where = [
    `ts >= ${sql.instant(scan.start)}`,
    `ts < ${sql.instant(scan.end)}`,
    ...(visits.where ? [visits.where] : []),
  ];
  const metrics = query.metrics.map((m, i) => `${VISIT_METRICS_SQL[m]!(sql)} AS m${i}`);
  return `SELECT ${[...dimensions, ...metrics].join(', ')} FROM ${visits.from} WHERE ${where.join(' AND ')}${group}`;
}
