import { offsetMinutes } from '../time.js';
import { VISIT_METRICS, type Query } from './model.js';
import { ROLLUP_DIMENSIONS, type Source } from './sql.js';

const HOUR = 3_600_000;

/** The planner's choice and, for the raw table, why the rollup could not answer. */
export interface Plan {
  source: Source;
  reason?: string;
}

/**
 * Chooses where a series reads. The hourly rollup answers exactly the same numbers as the raw
 * table when: the metric is a count or a share of counts (not distinct visitors); the interval is
 * whole hours (1h, 1d); every filter and the breakdown are rollup dimensions; the scanned range
 * starts and ends on whole UTC hours; and the zone's offset is whole hours throughout it (so each
 * UTC hour falls into one local bucket).
 */
export function choosePlan(query: Query, tz: string, scanFrom: number, end: number): Plan {
  const raw = (reason: string): Plan => ({ source: 'raw', reason });
  if (query.metric === 'visitors') return raw('visitors are distinct hashes');
  if (query.metric === 'bandwidth') return raw('bandwidth sums the bytes of requests');
  if (VISIT_METRICS.has(query.metric)) return raw('visits are runs of one visitor’s events');
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
