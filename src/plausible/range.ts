import { addLocalDays, localParts, localToUtc, type LocalParts } from '../time.js';
import type { PlausibleQuery } from './query.js';

const DAY_START = { hour: 0, minute: 0, second: 0 };

/** The UTC range `[start, end)` of a query's `date_range`. */
export interface ResolvedRange {
  start: number;
  end: number;
}

/** The local day holding `ms`, at midnight. */
function dayOf(ms: number, tz: string): LocalParts {
  const p = localParts(ms, tz);
  return { year: p.year, month: p.month, day: p.day, ...DAY_START };
}

function monthsBefore(day: LocalParts, months: number): LocalParts {
  const d = new Date(Date.UTC(day.year, day.month - 1 - months, 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: 1, ...DAY_START };
}

/**
 * Plausible's date ranges, in the site's zone: `day` is today; `7d`, `28d`, `30d` and `91d` the
 * days before today (today left out, as Plausible does); `24h` the last 24 hours; `month` and
 * `year` from their first day to the end of today; `6mo` and `12mo` the current month and the
 * 5 or 11 before it; `all` from `firstEvent` (the site's first stored event); two ISO dates
 * are both included (a date-time is taken as given, to the second).
 */
export function resolveRange(
  range: PlausibleQuery['date_range'],
  tz: string,
  now: number,
  firstEvent: number | null,
): ResolvedRange {
  const today = dayOf(now, tz);
  const at = (local: LocalParts) => localToUtc(local, tz);
  const tomorrow = at(addLocalDays(today, 1));
  if (Array.isArray(range)) {
    const [from, to] = range;
    const start =
      from.length === 10 ? at(addLocalDays({ ...parseDay(from), ...DAY_START }, 0)) : Date.parse(from);
    const end =
      to.length === 10 ? at(addLocalDays({ ...parseDay(to), ...DAY_START }, 1)) : Date.parse(to) + 1000;
    return { start, end };
  }
  switch (range) {
    case 'day':
      return { start: at(today), end: tomorrow };
    case '24h':
      return { start: now - 86_400_000, end: now };
    case '7d':
    case '28d':
    case '30d':
    case '91d':
      return { start: at(addLocalDays(today, -Number(range.slice(0, -1)))), end: at(today) };
    case 'month':
      return { start: at({ ...today, day: 1 }), end: tomorrow };
    case 'year':
      return { start: at({ ...today, month: 1, day: 1 }), end: tomorrow };
    case '6mo':
    case '12mo':
      return { start: at(monthsBefore(today, Number(range.slice(0, -2)) - 1)), end: tomorrow };
    case 'all':
      return { start: firstEvent === null ? at(today) : at(dayOf(firstEvent, tz)), end: tomorrow };
  }
}

function parseDay(text: string): { year: number; month: number; day: number } {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}
