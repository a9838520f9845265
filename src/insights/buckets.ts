import { formatLocal, localToUtc, offsetMs, parseLocal, wallClockKey } from '../time.js';

/** Series resolutions. */
export const INTERVALS = ['1m', '15m', '1h', '1d'] as const;

/** One of the series resolutions. */
export type Interval = (typeof INTERVALS)[number];

/** One bucket of a series: its UTC start, the key the SQL returns for it, and local labels. */
export interface Bucket {
  start: number;
  key: string;
  /** ISO 8601 in the query's zone with its offset, e.g. 2026-10-25T02:00:00+01:00. */
  label: string;
  /** Local wall-clock time without offset, e.g. 2026-10-25T02:00 (used to align weeks). */
  wall: string;
}

const MINUTE = 60_000;

const QUARTER = 15 * MINUTE;

const HOUR = 60 * MINUTE;

/** Width in milliseconds of a bucket of `interval` (a local day: 24 hours, for span checks only). */
export function intervalMs(interval: Interval): number {
  return interval === '1m' ? MINUTE : interval === '15m' ? QUARTER : interval === '1h' ? HOUR : 24 * HOUR;
}

/** Milliseconds from the start of the local bucket (a minute, 15 minutes or an hour) to instant `ms`. */
function sinceBucketStart(ms: number, interval: Interval, timeZone: string): number {
  const width = intervalMs(interval);
  const local = ms + offsetMs(ms, timeZone);
  return ((local % width) + width) % width;
}

/** The SQL-side key of the bucket holding instant `ms` (see sql.ts, which computes the same). */
export function bucketKey(ms: number, interval: Interval, timeZone: string): string {
  if (interval === '1d') return wallClockKey(ms, timeZone).slice(0, 10);
  return String(ms - sinceBucketStart(ms, interval, timeZone));
}

/** The UTC start of the bucket holding instant `ms` (a day starts at its local midnight). */
export function bucketStart(ms: number, interval: Interval, timeZone: string): number {
  const key = bucketKey(ms, interval, timeZone);
  return interval === '1d' ? localToUtc(parseLocal(key)!, timeZone) : Number(key);
}

/**
 * Every bucket of [startUtc, endUtc) in local time, gap-free and DST-correct: a 23-hour local day
 * has 23 hourly buckets and a 25-hour day 25 (its repeated hour appears twice, with each offset).
 * Every time zone offset in use is a multiple of 15 minutes, so stepping by 15 minutes (a minute
 * for 1m) meets every bucket.
 */
export function enumerateBuckets(
  startUtc: number,
  endUtc: number,
  interval: Interval,
  timeZone: string,
): Bucket[] {
  const buckets: Bucket[] = [];
  const seen = new Set<string>();
  const step = interval === '1m' ? MINUTE : QUARTER;
  for (let t = startUtc - (startUtc % step); t < endUtc; t += step) {
    const key = bucketKey(t, interval, timeZone);
    if (seen.has(key)) continue;
    seen.add(key);
    // A day starts at its local midnight (the range may begin later in the day).
    const start = interval === '1d' ? localToUtc(parseLocal(key)!, timeZone) : Number(key);
    if (start < startUtc && buckets.length === 0 && interval !== '1d') continue;
    buckets.push({ start, key, label: formatLocal(start, timeZone), wall: wallClockKey(start, timeZone) });
  }
  return buckets;
}
