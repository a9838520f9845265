import type { SqlWriter } from '../store/dialect.js';
import { DIMENSIONS, type Dimension, type Query } from './model.js';

/** The longest gap between two events of one visit (Plausible's and Matomo's 30 minutes). */
export const VISIT_GAP_MS = 30 * 60_000;

/**
 * How far before and after a range visits' events are read, so that a visit is counted whole in
 * the bucket where it starts and one that began before the range is not counted again: a
 * visitor hash lasts one salt day (at most 25 hours, on a change of time), so no visit is longer.
 */
export const VISIT_MARGIN_MS = 26 * 3_600_000;

/** Dimensions a visit takes from its first event. */
const ENTRY_DIMENSIONS = [
  'country',
  'region',
  'device_type',
  'browser',
  'os',
  'referrer_class',
  'referrer_host',
  'node',
  'asn',
  'type',
  'name',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
] as const satisfies readonly Dimension[];

/**
 * Filters a visit matches when any of its events does ("visits that saw /pricing", "that met a
 * 404"); the
 * others compare the visit's own values (its entry's, or `exit_page`).
 */
const ANY_EVENT = new Set(['path', 'path_prefix', 'name', 'type', 'status']);

/**
 * A condition on visits: on any of their events (`anyEvent`: the condition reads the event's
 * columns, qualified `e.`) or on the visit's own columns.
 */
export interface VisitCondition {
  anyEvent: boolean;
  /** The condition, given how to name a column (`e.path` or `path`). */
  sql: (column: (name: string) => string) => string;
}

/** The insights filters (exact values) as visit conditions (docs/insights.md#visits). */
export function visitConditions(sql: SqlWriter, filters: Query['filters']): VisitCondition[] {
  const conditions: VisitCondition[] = [];
  for (const [name, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    const bound = sql.bind(value, 'String');
    conditions.push({
      anyEvent: ANY_EVENT.has(name),
      sql: (column) =>
        name === 'path_prefix'
          ? sql.startsWith(column('path'), bound)
          : `${sql.text(column(DIMENSIONS[name as Dimension]))} = ${bound}`,
    });
  }
  return conditions;
}

/**
 * The events matching `range` (bots and hash-less events aside) with the number of their visit
 * among their visitor hash's (`visit`) and their time in ms (`ms`): a new visit starts where the
 * gap to the visitor's previous event is longer than 30 minutes.
 */
export function numberedEvents(sql: SqlWriter, range: string): string {
  const ms = sql.ms('ts');
  // Events at the same millisecond are 0 ms apart whatever their order: ordering by time alone
  // numbers visits the same, and sorts less than a tie-break on the id would.
  const partition = 'PARTITION BY site, visitor_hash ORDER BY ms';
  const carried = ENTRY_DIMENSIONS.filter((d) => d !== 'type' && d !== 'name').map((d) => DIMENSIONS[d]);
  // The previous event's time (NULL in DuckDB, 0 in ClickHouse, for a visitor's first event).
  const previous = `max(${ms}) OVER (${partition.replace('ORDER BY ms', `ORDER BY ${ms}`)} ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING) AS prev`;
  const events = `(SELECT site, visitor_hash, id, ts, ${ms} AS ms, type, name, path, status, props, ${carried.join(', ')}, ${previous} FROM events WHERE ${range} AND NOT is_bot AND visitor_hash IS NOT NULL)`;
  return `(SELECT *, sum(CASE WHEN prev IS NULL OR ms - prev > ${VISIT_GAP_MS} THEN 1 ELSE 0 END) OVER (${partition} ROWS UNBOUNDED PRECEDING) AS visit FROM ${events})`;
}

/**
 * Visits, one row each, from the events matching `range` (a WHERE condition on the events
 * table): a visit is a run of one visitor hash's events (bots aside) with no gap longer than 30
 * minutes. The visitor hash is made under a daily salt, so a visit never crosses the salt's day.
 * Columns: `site`, `visitor_hash`, `ts` (its first event's time), `duration_ms` (first to last
 * event: 0 for a visit of one event), `events`, `pages` (page views, and requests for imported
 * logs), `entry_page`, `exit_page`, `path` (the entry page) and the first event's other
 * dimensions. `where` holds the conditions, on the visit's columns.
 */
export function visitsFrom(
  sql: SqlWriter,
  range: string,
  conditions: readonly VisitCondition[],
): { from: string; where: string } {
  const numbered = numberedEvents(sql, range);
  const matches: string[] = [];
  const where: string[] = [];
  for (const condition of conditions) {
    if (condition.anyEvent) {
      const column = `matched_${matches.length}`;
      matches.push(`max(CASE WHEN ${condition.sql((name) => `e.${name}`)} THEN 1 ELSE 0 END) AS ${column}`);
      where.push(`${column} = 1`);
    } else where.push(condition.sql((name) => name));
  }
  // Source columns are qualified (`e.`): ClickHouse would otherwise read a name as the alias of
  // the same SELECT (`argMin(e.type, …) AS type` beside `countIf(type …)`).
  const entry = ENTRY_DIMENSIONS.map(
    (d) => `${sql.argMin(`e.${DIMENSIONS[d]}`, 'e.ms')} AS ${DIMENSIONS[d]}`,
  );
  const columns = [
    'e.site AS site',
    'e.visitor_hash AS visitor_hash',
    'min(e.ts) AS ts',
    'max(e.ms) - min(e.ms) AS duration_ms',
    `${sql.count()} AS events`,
    `${sql.count("e.type IN ('pageview', 'request')")} AS pages`,
    `${sql.argMin('e.path', 'e.ms')} AS path`,
    `${sql.argMin('e.path', 'e.ms')} AS entry_page`,
    `${sql.argMax('e.path', 'e.ms')} AS exit_page`,
    ...entry,
    ...matches,
  ];
  return {
    from: `(SELECT ${columns.join(', ')} FROM ${numbered} AS e GROUP BY e.site, e.visitor_hash, e.visit)`,
    where: where.join(' AND '),
  };
}
