/**
 * Seasonal anomaly detection with a robust baseline, streaming (each point is judged only on
 * what came before it). For each point the baseline is the median of the same phase in earlier
 * seasons — the same time of week over the last 4 weeks when the history allows, else the same
 * time of day over the last 7 days, else the last 48 points — and the spread combines the median
 * absolute deviation of those values with the typical size of recent residuals. A point is
 * anomalous when |value − baseline| / spread exceeds `threshold` (5 robust sigmas); after a
 * detection the detector stays quiet for one day (one event, one alert).
 */

/** One observation of a series. */
export interface Point {
  ts: number;
  value: number;
}

/** Settings of the detector (defaults are the ones benchmarked; do not tune them per series). */
export interface AnomalyOptions {
  threshold?: number;
  /** Earlier seasons used for the baseline. */
  weeks?: number;
  days?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The sampling step of a series (median gap between timestamps), in ms. */
export function samplingStep(points: readonly Point[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < Math.min(points.length, 1000); i++) gaps.push(points[i]!.ts - points[i - 1]!.ts);
  return gaps.length ? Math.max(1, median(gaps)) : 60_000;
}

/** Anomaly score of every point (0 when there is not enough history), and the detections. */
export function detectAnomalies(
  points: readonly Point[],
  options: AnomalyOptions = {},
): { scores: number[]; detections: boolean[] } {
  const threshold = options.threshold ?? 5;
  const weeks = options.weeks ?? 4;
  const days = options.days ?? 7;
  const step = samplingStep(points);
  const perDay = Math.max(1, Math.round(86_400_000 / step));
  const perWeek = perDay * 7;
  const scores: number[] = [];
  const detections: boolean[] = [];
  const residuals: number[] = [];
  let quietUntil = -1;
  for (let i = 0; i < points.length; i++) {
    const value = points[i]!.value;
    let history: number[] = [];
    if (i >= perWeek * 2) {
      for (let k = 1; k <= weeks && i - k * perWeek >= 0; k++) history.push(points[i - k * perWeek]!.value);
    } else if (i >= perDay * 3) {
      for (let k = 1; k <= days && i - k * perDay >= 0; k++) history.push(points[i - k * perDay]!.value);
    } else {
      history = points.slice(Math.max(0, i - 48), i).map((p) => p.value);
    }
    if (history.length < 2) {
      scores.push(0);
      detections.push(false);
      continue;
    }
    const base = median(history);
    const mad = median(history.map((v) => Math.abs(v - base))) * 1.4826;
    // Two sources of spread, added as independent noise: how much this phase varies across
    // seasons (MAD) and how large residuals have been lately (median of the last week's), so a
    // perfectly regular history does not make every small wiggle an anomaly.
    const typical = residuals.length ? median(residuals.slice(-perWeek)) : 0;
    const spread = Math.max(Math.sqrt(mad * mad + typical * typical), 1e-9 + Math.abs(base) * 0.01);
    const residual = Math.abs(value - base);
    const score = residual / spread;
    residuals.push(residual);
    scores.push(score);
    const hit = score > threshold && i > quietUntil;
    if (hit) quietUntil = i + perDay;
    detections.push(hit);
  }
  return { scores, detections };
}
