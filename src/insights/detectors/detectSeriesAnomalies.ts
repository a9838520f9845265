import type { Config } from '../../config/schema.js';
import { BaliseError } from '../../errors.js';
import type { StoreReader } from '../../store/store.js';
import { getSeries, withHistory } from '../getSeries.js';
import { detectAnomalies, KIND_WORDS } from './anomalies.js';

/** One anomalous bucket of a series. */
export interface SeriesAnomaly {
  time: string;
  value: number;
  score: number;
  /** The detector's expert that found it: pattern, level, spread or seasonal. */
  kind: string | null;
  text: string;
}

const HISTORY_DAYS = 35;

/**
 * Runs the streaming anomaly detector over a series: the query's range plus five weeks of history
 * before it (so the weekly baseline exists from the first bucket), reporting anomalies in range.
 */
export async function detectSeriesAnomalies(
  store: StoreReader,
  config: Config,
  input: Record<string, unknown>,
  now = Date.now(),
): Promise<{ anomalies: SeriesAnomaly[]; tz: string; sites: string[] }> {
  if (input.breakdown !== undefined || input.compare !== undefined) {
    throw new BaliseError(
      'invalid_query',
      'the anomaly detector takes no breakdown or compare',
      input.breakdown !== undefined ? 'breakdown' : 'compare',
    );
  }
  const { query, tz, start, input: widened } = withHistory(config, input, now, HISTORY_DAYS);
  const history = await getSeries(store, config, widened, now);
  // The series starts with its first data: empty buckets before it are not "zero traffic".
  const first = Math.max(
    0,
    history.rows.findIndex((row) => (row.value ?? 0) !== 0),
  );
  const rows = history.rows.slice(first);
  const points = rows.map((row) => ({ ts: Date.parse(row.time), value: row.value ?? 0 }));
  const { scores, detections, kinds } = detectAnomalies(points);
  const anomalies: SeriesAnomaly[] = [];
  points.forEach((point, i) => {
    if (!detections[i] || point.ts < start) return;
    const time = rows[i]!.time;
    anomalies.push({
      time,
      value: point.value,
      score: Math.round(scores[i]! * 10) / 10,
      kind: kinds[i] ?? null,
      text: `${time.slice(0, 16).replace('T', ' ')} local: ${query.metric} ${point.value}, ${kinds[i] ? KIND_WORDS[kinds[i]] : 'unusual'} (score ${Math.round(scores[i]! * 10) / 10}, 1 is the threshold)`,
    });
  });
  return { anomalies, tz, sites: history.sites };
}
