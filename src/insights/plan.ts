import { offsetMinutes } from '../time.js';
import { VISIT_METRICS, type Query } from './model.js';
import { ROLLUP_DIMENSIONS, type Source } from './sql.js';
import { anyEventFilter } from './visits.js';

/** The visits table a store keeps, if any: the zone of each site's salt days (site → zone). */
export interface VisitsTable {
  zones: ReadonlyMap<string, string>;
  /** The sites the query reads. */
  sites: readonly string[];
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

/** The planner's choice and, for the raw table, why the rollup could not answer. */
export interface Plan {
  source: Source;
  reason?: string;
}

/**
 * Chooses where a series reads. Visit metrics, and visitors by day, read the visits table when
 * the store keeps one (`visits`) and no filter is on any event of a visit. The hourly rollup answers exactly the same numbers as the raw
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
  if (query.metric === 'visitors') {
    const reason = visitorsFromVisits(query, tz, visits);
    return reason ? raw(reason) : { source: 'visits' };
  }
  if (query.metric === 'bandwidth') return raw('bandwidth sums the bytes of requests');
  if (VISIT_METRICS.has(query.metric)) {
    if (!visits) return raw('this store keeps no visits table');
    const filter = anyEventFilter(query.filters);
    return filter ? raw(`filter on ${filter}: any event of a visit`) : { source: 'visits' };
  }
  if (query.interval === '15m' || query.interval === '1m')
    return raw(`${query.interval} buckets are finer than the rollup`);
  const filter = Object.keys(query.filters).find((name) => !ROLLUP_DIMENSIONS.has(name));
  if (filter) return raw(`filter on ${filter}`);
  if (query.breakdown && !ROLLUP_DIMENSIONS.has(query.breakdown))
    return raw(`breakdown by ${query.breakdown}`);
  if (scanFrom % HOUR !== 0 || end % HOUR !== 0) return raw('range not on whole hours');
  for (let t = scanFrom; t < end; t += HOUR) {
    if (offsetMinutes(t, tz) % 60 !== 0) return raw(`${tz} is not a whole number of hours from UTC`);
  }
  return { source: 'rollup' };
}
