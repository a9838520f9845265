/**
 * Time-zone arithmetic for insights: local wall-clock times ↔ UTC instants, DST-correct. Offsets
 * come from the system's zone files (zoneinfo.ts); a zone without one is asked of `Intl`.
 */
import { zoneOffsetAt, zoneRules } from './zoneinfo.js';

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** Local wall-clock parts of instant `ms` in `timeZone`. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Local parts from Intl (about 6 µs a call): the reference the cached path below agrees with. */
function intlParts(ms: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of format(timeZone).formatToParts(ms))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

const SLOT = 15 * 60_000;
const DAY = 86_400_000;
const MAX_CACHED_SLOTS = 200_000;
/** Per span length (a day, a quarter hour), per zone: the offset over each span of UTC time, or NaN when it changes inside. */
const spanOffsets = new Map<number, Map<string, Map<number, number>>>();

/** The zone's offset at instant `ms`, in ms: from its zone file when it has one, else from Intl. */
function instantOffsetMs(ms: number, timeZone: string): number {
  const rules = zoneRules(timeZone);
  if (rules) return zoneOffsetAt(rules, Math.floor(ms / 1000)) * 1000;
  const p = intlParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** The UTC parts of `ms` moved by `offset` ms: the local parts where that offset is in force. */
function partsAtOffset(ms: number, offset: number): LocalParts {
  const d = new Date(Math.floor(ms / 1000) * 1000 + offset);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/**
 * The zone's offset over the span of `span` ms of UTC time holding `ms`: asked at both ends of
 * the span and cached; NaN when the ends disagree.
 */
function steadyOffsetMs(ms: number, timeZone: string, span: number): number {
  let zones = spanOffsets.get(span);
  if (!zones) spanOffsets.set(span, (zones = new Map<string, Map<number, number>>()));
  let cache = zones.get(timeZone);
  if (!cache) zones.set(timeZone, (cache = new Map<number, number>()));
  const index = Math.floor(ms / span);
  let offset = cache.get(index);
  if (offset === undefined) {
    const first = instantOffsetMs(index * span, timeZone);
    const last = instantOffsetMs(index * span + span - 1000, timeZone);
    offset = first === last ? first : Number.NaN;
    if (cache.size >= MAX_CACHED_SLOTS) cache.clear();
    cache.set(index, offset);
  }
  return offset;
}

/**
 * The zone's offset around `ms`: the same at both ends of its UTC day (no zone changes its
 * offset twice within a day; two lookups per day — imports of months of logs ask for every
 * quarter hour of them), else the same at both ends of its 15-minute slot (every offset change
 * in use falls on a quarter hour, so nearly every slot agrees); NaN otherwise, and callers then
 * ask for the instant itself.
 */
function slotOffsetMs(ms: number, timeZone: string): number {
  const day = steadyOffsetMs(ms, timeZone, DAY);
  return Number.isNaN(day) ? steadyOffsetMs(ms, timeZone, SLOT) : day;
}

/** The zone's offset from UTC at instant `ms`, in ms (a whole number of seconds; Paris in summer: 7,200,000). */
export function offsetMs(ms: number, timeZone: string): number {
  const offset = slotOffsetMs(ms, timeZone);
  return Number.isNaN(offset) ? instantOffsetMs(ms, timeZone) : offset;
}

/**
 * The zone's offsets over [from, to): the offset at `from`, then one entry at each change (its
 * instant and the new offset). Changes fall on quarter hours (as `slotOffsetMs` assumes): a day
 * with none is one step, a day with one is walked by quarter hours.
 */
export function offsetSpans(from: number, to: number, timeZone: string): { from: number; offset: number }[] {
  const spans = [{ from, offset: offsetMs(from, timeZone) }];
  let t = from;
  while (t < to) {
    const offset = offsetMs(t, timeZone);
    if (offset !== spans.at(-1)!.offset) spans.push({ from: t, offset });
    const step = Number.isNaN(steadyOffsetMs(t, timeZone, DAY)) ? SLOT : DAY;
    t = (Math.floor(t / step) + 1) * step;
  }
  return spans;
}

/** The local wall-clock parts of instant `ms`. */
export function localParts(ms: number, timeZone: string): LocalParts {
  const offset = slotOffsetMs(ms, timeZone);
  if (!Number.isNaN(offset)) return partsAtOffset(ms, offset);
  return zoneRules(timeZone) ? partsAtOffset(ms, instantOffsetMs(ms, timeZone)) : intlParts(ms, timeZone);
}

/** UTC offset of `timeZone` at instant `ms`, in minutes (Paris in summer: 120). */
export function offsetMinutes(ms: number, timeZone: string): number {
  return Math.round(offsetMs(ms, timeZone) / 60_000);
}

/**
 * The UTC instant of a local wall-clock time. A time skipped by a spring-forward change maps to
 * the instant the clocks jumped to; a repeated time (fall back) maps to its first occurrence.
 */
export function localToUtc(local: LocalParts, timeZone: string): number {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const candidates = new Set<number>();
  for (const probe of [naive - 14 * 3_600_000, naive, naive + 14 * 3_600_000]) {
    candidates.add(naive - offsetMinutes(probe, timeZone) * 60_000);
  }
  const exact = [...candidates].filter((utc) => {
    const p = localParts(utc, timeZone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) === naive;
  });
  if (exact.length > 0) return Math.min(...exact);
  // Skipped wall time: use the offset from before the gap, which lands after the jump.
  return naive - offsetMinutes(naive - 14 * 3_600_000, timeZone) * 60_000;
}

/** Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` as local wall-clock parts. */
export function parseLocal(text: string): LocalParts | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (!m) return null;
  const parts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
  };
  const check = new Date(
    Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second),
  );
  if (
    check.getUTCDate() !== parts.day ||
    check.getUTCHours() !== parts.hour ||
    check.getUTCMinutes() !== parts.minute
  )
    return null;
  return parts;
}

/** The same wall-clock time `days` days later (negative: earlier). */
export function addLocalDays(local: LocalParts, days: number): LocalParts {
  const d = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return { ...local, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/** ISO 8601 with the zone's offset at that instant: `2026-10-25T02:00:00+01:00`. */
export function formatLocal(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  const offset = Math.round(offsetMs(ms, timeZone) / 60_000);
  const sign = offset < 0 ? '-' : '+';
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/** Wall-clock key of an instant (no offset): `2026-10-25T02:00`, used to align weeks. */
export function wallClockKey(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}
