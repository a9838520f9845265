import { localParts, offsetMinutes } from '../time.js';
import { VISIT_METRICS, type Query } from './model.js';
import { ROLLUP_DIMENSIONS, type Source } from './sql.js';
import { COUNT_SUMMARIES, DAILY_TWINS, summaryOf, VISIT_SUMMARIES } from '../store/summaries.js';
import { anyEventFilter } from './visits.js';

/** The visits table a store keeps, if any: the zone of each site's salt days (site → zone). */
export interface VisitsTable {
  zones: ReadonlyMap<string, string>;
  /** The sites the query reads. */
  sites: readonly string[];
  /**
   * True when the store also keeps the summaries made with its tables (store/summaries.ts,
   * `visitors_daily`: docs/insights.md, "Query plans").
   */
  summaries?: boolean;
}

/** Count metrics a count summary answers (from the type, the bot flag and its one dimension). */
const SUMMED_METRICS: ReadonlySet<string> = new Set(['pageviews', 'requests', 'events', 'bot_share']);

/**
 * True when the filters are at most on `allowed` (the summaries group by one dimension at a time,
 * so a filter can only be on the one they group by).
 */
function filtersWithin(query: Query, allowed: readonly (string | undefined)[]): boolean {
  return Object.entries(query.filters).every(
    ([name, value]) => value === undefined || allowed.includes(name),
  );
}

/**
 * Why visitors cannot be counted from the visits table (undefined when they can): a visitor
 * hash lives one local day of its site's zone, so the distinct hashes of a day of that zone are
 * those of the visits starting in it.
 */
function visitorsFromVisits(query: Query, tz: string, visits: VisitsTable | null): string | undefined {
  if (!visits) return 'visitors are distinct hashes';
  if (query.interval !== '1d') return 'visitors are distinct hashes (by day, the visits table)';
  if (visits.sites.some((site) => visits.zones.get(site) !== tz))
    return `visitors are distinct hashes of salt days, not of ${tz} days`;
  // A visit has its first event's values; its visitor's other events may have others.
  const filter = Object.keys(query.filters)[0];
  if (filter) return `visitors filtered on ${filter}`;
  if (query.breakdown) return `visitors by ${query.breakdown}`;
  return undefined;
}

const HOUR = 3_600_000;

/** True when `ms` is a local midnight in `tz`. */
function localMidnight(ms: number, tz: string): boolean {
  const parts = localParts(ms, tz);
  return parts.hour === 0 && parts.minute === 0 && parts.second === 0;
}

/** The planner's choice and, for the raw table, why the rollup could not answer. */
export interface Plan {
  source: Source;
  /** For a summary: the one dimension read (its rows of that `dim`). */
  dim?: string;
  reason?: string;
}

/**
 * Chooses where a series reads. Visit metrics, and visitors by day, read the visits table when
 * the store keeps one (`visits`) and no filter is on any event of a visit — its summaries when
 * it keeps them and the query groups by at most one summary dimension, with no other filter, in
 * whole hours (visitors by whole days: `visitors_daily`). Counts and the bot share by at most
 * one dimension (breakdown or filter, the type aside; the mobile share by device type or in
 * total) read the count summaries on the same conditions as the rollup. By page, daily
 * buckets of whole days of the sites' zone read the pages' daily twins. The hourly rollup answers exactly the same numbers as the raw
 * table when: the metric is a count or a share of counts (not distinct visitors); the interval is
 * whole hours (1h, 1d); every filter and the breakdown are rollup dimensions; the scanned range
 * starts and ends on whole UTC hours; and the zone's offset is whole hours throughout it (so each
 * UTC hour falls into one local bucket).
 */
export function choosePlan(
  query: Query,
  tz: string,
  scanFrom: number,
  end: number,
  visits: VisitsTable | null = null,
): Plan {
  const raw = (reason: string): Plan => ({ source: 'raw', reason });
  // Why hourly counts cannot answer (undefined when they can).
  const notHourly = () => {
    if (query.interval === '15m' || query.interval === '1m')
      return `${query.interval} buckets are finer than the rollup`;
    if (scanFrom % HOUR !== 0 || end % HOUR !== 0) return 'range not on whole hours';
    for (let t = scanFrom; t < end; t += HOUR)
      if (offsetMinutes(t, tz) % 60 !== 0) return `${tz} is not a whole number of hours from UTC`;
    return undefined;
  };
  const summaries = visits?.summaries === true;
  // Daily buckets of whole local days of the zone every site's days follow (the daily twins').
  const wholeZoneDays = () =>
    query.interval === '1d' &&
    visits !== null &&
    visits.sites.every((site) => visits.zones.get(site) === tz) &&
    localMidnight(scanFrom, tz) &&
    localMidnight(end, tz);
  if (query.metric === 'visitors') {
    const reason = visitorsFromVisits(query, tz, visits);
    if (reason) return raw(reason);
    // A day's visitors of each site are kept when its visits are made: whole days only.
    return { source: summaries && wholeZoneDays() ? 'visitors_daily' : 'visits' };
  }
  if (query.metric === 'bandwidth') return raw('bandwidth sums the bytes of requests');
  if (VISIT_METRICS.has(query.metric)) {
    if (!visits) return raw('this store keeps no visits table');
    const filter = anyEventFilter(query.filters);
    if (filter) return raw(`filter on ${filter}: any event of a visit`);
    // One dimension: the breakdown's, else the one filtered on, else the total ('').
    const filtered = Object.keys(query.filters);
    const dim = query.breakdown ?? (filtered.length === 1 ? filtered[0]! : '');
    const table = summaryOf(VISIT_SUMMARIES, dim);
    if (summaries && table && filtersWithin(query, [dim])) {
      if (table in DAILY_TWINS && wholeZoneDays()) return { source: DAILY_TWINS.visit_pages_hourly, dim };
      if (!notHourly()) return { source: table, dim };
    }
    return { source: 'visits' };
  }
  if (summaries) {
    // One dimension: the breakdown's, else the one filtered on, else the device type (the
    // fewest values, and the one the mobile share counts).
    const filtered = Object.keys(query.filters).filter((name) => name !== 'type');
    const only = filtered.length === 1 ? filtered[0]! : 'device_type';
    const dim = query.breakdown ?? (only === 'path_prefix' ? 'path' : only);
    const table = summaryOf(COUNT_SUMMARIES, dim);
    const metric =
      SUMMED_METRICS.has(query.metric) || (query.metric === 'mobile_share' && dim === 'device_type');
    const allowed = ['type', dim, ...(dim === 'path' ? ['path_prefix'] : [])];
    if (table && metric && filtersWithin(query, allowed)) {
      if (table in DAILY_TWINS && wholeZoneDays()) return { source: DAILY_TWINS.pages_hourly, dim };
      if (!notHourly()) return { source: table, dim };
    }
  }
  const hourly = notHourly();
  if (hourly) return raw(hourly);
  const filter = Object.keys(query.filters).find((name) => !ROLLUP_DIMENSIONS.has(name));
  if (filter) return raw(`filter on ${filter}`);
  if (query.breakdown && !ROLLUP_DIMENSIONS.has(query.breakdown))
    return raw(`breakdown by ${query.breakdown}`);
  return { source: 'rollup' };
}
