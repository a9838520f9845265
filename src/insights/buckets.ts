import {
  addLocalDays,
  formatLocal,
  localParts,
  localToUtc,
  offsetMs,
  offsetSpans,
  parseLocal,
  wallClockKey,
  type LocalParts,
} from '../time.js';

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
  if (interval === '1d') return enumerateDays(startUtc, endUtc, timeZone);
  const buckets: Bucket[] = [];
  const seen = new Set<string>();
  // A quarter hour meets every bucket; an hour does too where the zone stays whole hours from
  // UTC throughout (four times fewer steps).
  const wholeHours =
    interval === '1h' &&
    offsetSpans(startUtc - HOUR, endUtc + HOUR, timeZone).every((span) => span.offset % HOUR === 0);
  const step = interval === '1m' ? MINUTE : wholeHours ? HOUR : QUARTER;
  for (let t = startUtc - (startUtc % step); t < endUtc; t += step) {
    const key = bucketKey(t, interval, timeZone);
    if (seen.has(key)) continue;
    seen.add(key);
    const start = Number(key);
    if (start < startUtc && buckets.length === 0) continue;
    buckets.push({ start, key, label: formatLocal(start, timeZone), wall: wallClockKey(start, timeZone) });
  }
  return buckets;
}

/**
 * The local days holding [startUtc, endUtc), from the day of the range's first quarter hour,
 * each starting at its local midnight: a day at a time (a day absent from the zone's calendar,
 * as Samoa's 30 December 2011, has no bucket).
 */
function enumerateDays(startUtc: number, endUtc: number, timeZone: string): Bucket[] {
  const buckets: Bucket[] = [];
  const first = localParts(startUtc - (startUtc % QUARTER), timeZone);
  let day: LocalParts = {
    year: first.year,
    month: first.month,
    day: first.day,
    hour: 0,
    minute: 0,
    second: 0,
  };
  // A day starts at its local midnight (the range may begin later in the day).
  for (let start = localToUtc(day, timeZone); start < endUtc; start = localToUtc(day, timeZone)) {
    const wall = wallClockKey(start, timeZone);
    const key = `${day.year}-${String(day.month).padStart(2, '0')}-${String(day.day).padStart(2, '0')}`;
    if (wall.startsWith(key)) buckets.push({ start, key, label: formatLocal(start, timeZone), wall });
    day = addLocalDays(day, 1);
  }
  return buckets;
}
