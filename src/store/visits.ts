import { addLocalDays, localParts, localToUtc } from '../time.js';
import type { SqlWriter } from './dialect.js';

// What a visit is, written once for the queries that compute visits from the events and for the
// visits table the store keeps (docs/insights.md#visits).

/** The longest gap between two events of one visit (Plausible's and Matomo's 30 minutes). */
export const VISIT_GAP_MS = 30 * 60_000;

/** Columns a visit takes from its first event (its entry), in the visits table's order. */
export const VISIT_ENTRY_COLUMNS = [
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
  'screen_class',
] as const;

/**
 * The events matching `range` (bots and hash-less events aside) with the number of their visit
 * among their visitor hash's (`visit`) and their time in ms (`ms`): a new visit starts where the
 * gap to the visitor's previous event is longer than 30 minutes; `columns` are more of each
 * event's columns (expressions with their alias).
 */
export function numberedEvents(sql: SqlWriter, range: string, columns: readonly string[] = []): string {
  const ms = sql.ms('ts');
  // Events at the same millisecond are 0 ms apart whatever their order: ordering by time alone
  // numbers visits the same, and sorts less than a tie-break on the id would.
  const partition = 'PARTITION BY site, visitor_hash ORDER BY ms';
  const carried = VISIT_ENTRY_COLUMNS.filter((c) => c !== 'type' && c !== 'name');
  // The previous event's time (NULL in DuckDB, 0 in ClickHouse, for a visitor's first event).
  const previous = `max(${ms}) OVER (${partition.replace('ORDER BY ms', `ORDER BY ${ms}`)} ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING) AS prev`;
  const extra = columns.map((column) => `, ${column}`).join('');
  const events = `(SELECT site, visitor_hash, id, ts, ${ms} AS ms, type, name, path, status, props, ${carried.join(', ')}${extra}, ${previous} FROM events WHERE ${range} AND NOT is_bot AND visitor_hash IS NOT NULL)`;
  return `(SELECT *, sum(CASE WHEN prev IS NULL OR ms - prev > ${VISIT_GAP_MS} THEN 1 ELSE 0 END) OVER (${partition} ROWS UNBOUNDED PRECEDING) AS visit FROM ${events})`;
}

/**
 * Visits, one row each, from the events matching `range` (a WHERE condition on the events
 * table): a visit is a run of one visitor hash's events (bots aside) with no gap longer than 30
 * minutes. The visitor hash is made under a daily salt, so a visit never crosses the salt's day.
 * Columns: `site`, `visitor_hash`, `ts` (its first event's time), `duration_ms` (first to last
 * event: 0 for a visit of one event), `events`, `pages` (page views, and requests for imported
 * logs), `entry_page`, `exit_page`, `path` (the entry page), the first event's other columns
 * (VISIT_ENTRY_COLUMNS), then `extra` (aggregates over the visit's events, qualified `e.`, which
 * may read the `eventColumns` added to each event).
 */
export function visitRows(
  sql: SqlWriter,
  range: string,
  extra: readonly string[] = [],
  eventColumns: readonly string[] = [],
): string {
  // Source columns are qualified (`e.`): ClickHouse would otherwise read a name as the alias of
  // the same SELECT (`argMin(e.type, …) AS type` beside `countIf(type …)`).
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
    ...VISIT_ENTRY_COLUMNS.map((c) => `${sql.argMin(`e.${c}`, 'e.ms')} AS ${c}`),
    ...extra,
  ];
  return `(SELECT ${columns.join(', ')} FROM ${numberedEvents(sql, range, eventColumns)} AS e GROUP BY e.site, e.visitor_hash, e.visit)`;
}

/**
 * The UTC ranges [start, end) of the local days in `timeZone` that hold any of `hours` (whole
 * hours since the epoch), adjacent days merged into one range unless `merge` is false, oldest
 * first. A visit never
 * crosses its site's local midnight (its visitor hash changes with the day's salt), so visits
 * rebuilt over whole days are exactly those computed over any wider range.
 */
export function localDayRanges(hours: Iterable<number>, timeZone: string, merge = true): [number, number][] {
  const starts = new Set<number>();
  const dayStart = (ms: number) => {
    const p = localParts(ms, timeZone);
    return localToUtc({ year: p.year, month: p.month, day: p.day, hour: 0, minute: 0, second: 0 }, timeZone);
  };
  // An hour may hold two local days' times (zones a half or a quarter hour from UTC).
  for (const hour of hours) {
    starts.add(dayStart(hour * 3_600_000));
    starts.add(dayStart(hour * 3_600_000 + 3_599_999));
  }
  const ranges: [number, number][] = [];
  for (const start of [...starts].sort((a, b) => a - b)) {
    const p = localParts(start, timeZone);
    const end = localToUtc(addLocalDays({ ...p, hour: 0, minute: 0, second: 0 }, 1), timeZone);
    const last = ranges.at(-1);
    if (merge && last && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
  }
  return ranges;
}
