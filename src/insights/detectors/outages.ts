import type { Config } from '../../config/schema.js';
import type { StoreReader } from '../../store/store.js';
import { getSeries, withHistory } from '../getSeries.js';
import type { Dimension } from '../model.js';

/** A region's or network's traffic falling toward zero against its forecast. */
export interface Outage {
  value: string;
  start: string;
  end: string;
  buckets: number;
  observed: number;
  expected: number;
  /** Change against the forecast over the outage, in percent (−100 = nothing left). */
  change: number;
  text: string;
}

/**
 * Outages: for each of the top values of a dimension (region, ASN, country…), buckets whose
 * traffic is at most `ratio` of the forecast (median of the same local hour over the last
 * `weeks` weeks) while the forecast is at least `minExpected`; consecutive buckets form one outage.
 */
export async function detectOutages(
  store: StoreReader,
  config: Config,
  input: Record<string, unknown>,
  options: { dimension?: Dimension; ratio?: number; minExpected?: number; weeks?: number } = {},
  now = Date.now(),
): Promise<{ outages: Outage[]; tz: string; sites: string[] }> {
  const dimension =
    options.dimension ?? (typeof input.breakdown === 'string' ? (input.breakdown as Dimension) : 'region');
  const ratio = options.ratio ?? 0.2;
  const minExpected = options.minExpected ?? 10;
  const weeks = options.weeks ?? 2;
  // The values to watch are those seen over the forecast weeks too: a region that went silent
  // has no rows in the range itself.
  const { tz, start, input: widened } = withHistory(config, input, now, weeks * 7);
  const result = await getSeries(
    store,
    config,
    {
      ...widened,
      metric: 'events',
      breakdown: dimension,
      top: 20,
      compare: weeks === 1 ? 'previous_week' : `median_weeks:${weeks}`,
    },
    now,
  );
  const rows = result.rows.filter((row) => Date.parse(row.time) >= start);
  const outages: Outage[] = [];
  const open = new Map<
    string,
    { start: string; end: string; buckets: number; observed: number; expected: number }
  >();
  const close = (value: string) => {
    const run = open.get(value);
    if (!run) return;
    open.delete(value);
    const change = Math.round(((run.observed - run.expected) / run.expected) * 1000) / 10;
    outages.push({
      value,
      ...run,
      change,
      text: `${value} ${run.start.slice(0, 16).replace('T', ' ')} → ${run.end.slice(0, 16).replace('T', ' ')} local: ${run.observed} events vs ${run.expected} expected (${change}%)`,
    });
  };
  const lastTime = rows.at(-1)?.time;
  for (const row of rows) {
    const value = String(row[dimension]);
    if (value === '(other)') continue;
    const expected = row.baseline ?? 0;
    const observed = row.value ?? 0;
    if (expected >= minExpected && observed <= ratio * expected) {
      const run = open.get(value) ?? { start: row.time, end: row.time, buckets: 0, observed: 0, expected: 0 };
      run.end = row.time;
      run.buckets += 1;
      run.observed += observed;
      run.expected += expected;
      open.set(value, run);
    } else {
      close(value);
    }
    if (row.time === lastTime) close(value);
  }
  for (const value of [...open.keys()]) close(value);
  outages.sort((a, b) => a.start.localeCompare(b.start) || a.value.localeCompare(b.value));
  return { outages, tz, sites: result.sites };
}
