import type { Config } from '../config/schema.js';
import type { SqlWriter } from '../store/dialect.js';
import { visitRows } from '../store/visits.js';
import type { SiteGoals } from '../store/goals.js';
import { DIMENSIONS, type Dimension, type Query } from './model.js';

/** The longest gap between two events of one visit, and the numbering of visits (store/visits.ts). */
export { numberedEvents, VISIT_GAP_MS } from '../store/visits.js';

/**
 * How far before and after a range visits' events are read, so that a visit is counted whole in
 * the bucket where it starts and one that began before the range is not counted again: a
 * visitor hash lasts one salt day (at most 25 hours, on a change of time), so no visit is longer.
 */
export const VISIT_MARGIN_MS = 26 * 3_600_000;

/**
 * Filters a visit matches when any of its events does ("visits that saw /pricing", "that met a
 * 404"); the others compare the visit's own values (its entry's, or `exit_page`).
 */
const ANY_EVENT = new Set(['path', 'path_prefix', 'name', 'type', 'status']);

/** The first filter that a visit matches by any of its events (the visits table cannot answer it). */
export function anyEventFilter(filters: Query['filters']): string | undefined {
  return Object.keys(filters).find(
    (name) => filters[name as keyof typeof filters] !== undefined && ANY_EVENT.has(name),
  );
}

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
  const matches: string[] = [];
  const where: string[] = [];
  for (const condition of conditions) {
    if (condition.anyEvent) {
      const column = `matched_${matches.length}`;
      matches.push(`max(CASE WHEN ${condition.sql((name) => `e.${name}`)} THEN 1 ELSE 0 END) AS ${column}`);
      where.push(`${column} = 1`);
    } else where.push(condition.sql((name) => name));
  }
  return {
    from: visitRows(sql, range, matches),
    where: where.join(' AND '),
  };
}

/** Each configured site's time zone (its salt days'), as `StoreReader.refreshVisits` takes them. */
export function siteZones(config: Config): Map<string, string> {
  return new Map(config.sites.map((site) => [site.host, site.timezone]));
}

/** Each configured site's goals, as `StoreReader.refreshVisits` takes them (the visits keep the goals reached). */
export function siteGoals(config: Config): SiteGoals {
  return new Map(config.sites.map((site) => [site.host, site.goals]));
}
