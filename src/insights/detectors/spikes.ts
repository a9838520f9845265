import type { Config } from '../../config/schema.js';
import type { StoreReader } from '../../store/store.js';
import { getSeries, type SeriesRow } from '../getSeries.js';

/** One ranked spike or dip: a bucket whose value moved most against its comparison. */
export interface Spike {
  rank: number;
  time: string;
  value: number;
  baseline: number;
  change: number;
  /** Set with a breakdown: the dimension value, e.g. a region. */
  dimension?: string;
  /** A sentence such as "#1 Sun 5 Jul 20:00 local, +925% vs the previous Sunday at the same time". */
  text: string;
}

/** Options of the spike detector. */
export interface SpikeOptions {
  /** `spikes` (up), `dips` (down) or `both`, ranked by the size of the change. */
  direction?: 'spikes' | 'dips' | 'both';
  /** How many to return (≤ 100). */
  limit?: number;
  /** Smallest baseline and value considered, so that 1 → 4 is not a +300% spike. */
  floor?: number;
}

const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAY_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** "Sun 5 Jul 20:00" from a local ISO time with offset (read as wall-clock time). */
function wallClockText(time: string): { short: string; weekday: string } {
  const d = new Date(`${time.slice(0, 19)}Z`);
  const hhmm = time.slice(11, 16);
  return {
    short: `${WEEKDAY[d.getUTCDay()]} ${d.getUTCDate()} ${MONTH[d.getUTCMonth()]} ${hhmm}`,
    weekday: WEEKDAY_LONG[d.getUTCDay()]!,
  };
}

function against(compare: string, weekday: string): string {
  if (compare === 'previous_week') return `vs the previous ${weekday} at the same time`;
  if (compare === 'previous_period') return 'vs the previous period';
  return `vs the median of the last ${compare.split(':')[1]} ${weekday}s at the same time`;
}

/**
 * Ranks the buckets of a series by their change against the comparison (default: the same local
 * hour one week earlier). Buckets whose value and baseline are both under `floor` are ignored.
 */
export async function detectSpikes(
  store: StoreReader,
  config: Config,
  query: Record<string, unknown>,
  options: SpikeOptions = {},
  now = Date.now(),
): Promise<{ spikes: Spike[]; tz: string; sites: string[] }> {
  const compare = typeof query.compare === 'string' ? query.compare : 'previous_week';
  const result = await getSeries(store, config, { ...query, compare }, now);
  const floor = options.floor ?? 10;
  const direction = options.direction ?? 'both';
  const limit = Math.min(100, Math.max(1, options.limit ?? 10));
  const dimension = result.query.breakdown;
  const candidates = result.rows.filter(
    (r): r is SeriesRow & { value: number; baseline: number; change: number } =>
      typeof r.value === 'number' &&
      typeof r.baseline === 'number' &&
      typeof r.change === 'number' &&
      Math.max(r.value, r.baseline) >= floor &&
      (direction === 'both' || (direction === 'spikes' ? r.change > 0 : r.change < 0)),
  );
  candidates.sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || a.time.localeCompare(b.time));
  const spikes = candidates.slice(0, limit).map((row, index): Spike => {
    const when = wallClockText(row.time);
    const sign = row.change > 0 ? '+' : '';
    const where = dimension ? ` ${String(row[dimension])}` : '';
    const spike: Spike = {
      rank: index + 1,
      time: row.time,
      value: row.value,
      baseline: row.baseline,
      change: row.change,
      text: `#${index + 1}${where} ${when.short} local, ${sign}${row.change}% ${against(compare, when.weekday)}`,
    };
    if (dimension) spike.dimension = String(row[dimension]);
    return spike;
  });
  return { spikes, tz: result.tz, sites: result.sites };
}
