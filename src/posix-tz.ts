/**
 * The rule a TZif file's footer gives for instants after its last transition: a POSIX `TZ`
 * string (RFC 8536, section 3.3), e.g. `CET-1CEST,M3.5.0,M10.5.0/3` or `<+03>-3`.
 */

/** When a rule switches: a day of the year and the local time of day it switches at. */
interface RuleDate {
  /** `J`: day 1–365, February 29 never counted; `n`: day 0–365; `M`: month, week (1–5, 5 = last), weekday. */
  kind: 'J' | 'n' | 'M';
  day: number;
  month: number;
  week: number;
  /** Seconds after local midnight (RFC 8536 allows −167 to 167 hours). */
  time: number;
}

/** A parsed POSIX `TZ` rule: offsets in seconds east of UTC. */
export interface PosixRule {
  std: number;
  dst?: { offset: number; start: RuleDate; end: RuleDate };
}

const NAME = /^(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)/;
const TIME = /^([+-]?)(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/;

/** Seconds of `[+-]hh[:mm[:ss]]` at the start of `text`, and what follows it; null if none. */
function readTime(text: string): { seconds: number; rest: string } | null {
  const m = TIME.exec(text);
  if (!m) return null;
  const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return { seconds: m[1] === '-' ? -seconds : seconds, rest: text.slice(m[0].length) };
}

function readDate(text: string): { date: RuleDate; rest: string } | null {
  const m = /^(?:J(\d{1,3})|(\d{1,3})|M(\d{1,2})\.(\d)\.(\d))/.exec(text);
  if (!m) return null;
  let rest = text.slice(m[0].length);
  let time = 7200;
  if (rest.startsWith('/')) {
    const t = readTime(rest.slice(1));
    if (!t) return null;
    time = t.seconds;
    rest = t.rest;
  }
  const date: RuleDate =
    m[1] !== undefined
      ? { kind: 'J', day: Number(m[1]), month: 0, week: 0, time }
      : m[2] !== undefined
        ? { kind: 'n', day: Number(m[2]), month: 0, week: 0, time }
        : { kind: 'M', day: Number(m[5]), month: Number(m[3]), week: Number(m[4]), time };
  const valid =
    date.kind === 'J'
      ? date.day >= 1 && date.day <= 365
      : date.kind === 'n'
        ? date.day <= 365
        : date.month >= 1 && date.month <= 12 && date.week >= 1 && date.week <= 5 && date.day <= 6;
  return valid ? { date, rest } : null;
}

/** POSIX offsets count west of Greenwich; ours east (and never −0). */
const east = (west: number): number => (west === 0 ? 0 : -west);

/** Parses a POSIX `TZ` string; null for one this reader does not take (its caller then asks Intl). */
export function parsePosixTz(text: string): PosixRule | null {
  const std = NAME.exec(text);
  if (!std) return null;
  const stdOffset = readTime(text.slice(std[0].length));
  if (!stdOffset) return null;
  const rule: PosixRule = { std: east(stdOffset.seconds) };
  let rest = stdOffset.rest;
  if (rest === '') return rule;
  const dst = NAME.exec(rest);
  if (!dst) return null;
  rest = rest.slice(dst[0].length);
  let offset = rule.std + 3600;
  if (!rest.startsWith(',')) {
    const t = readTime(rest);
    if (!t) return null;
    offset = east(t.seconds);
    rest = t.rest;
  }
  // A zone with daylight time and no rule (allowed by POSIX, never written in a TZif footer).
  if (!rest.startsWith(',')) return null;
  const start = readDate(rest.slice(1));
  if (!start || !start.rest.startsWith(',')) return null;
  const end = readDate(start.rest.slice(1));
  if (!end || end.rest !== '') return null;
  rule.dst = { offset, start: start.date, end: end.date };
  return rule;
}

const DAY = 86_400;
const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Seconds from the epoch to the local midnight (as if UTC) starting the rule's day in `year`. */
function ruleDay(date: RuleDate, year: number): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  if (date.kind === 'J') return jan1 + (date.day - 1 + (isLeap(year) && date.day >= 60 ? 1 : 0)) * DAY;
  if (date.kind === 'n') return jan1 + date.day * DAY;
  const first = Date.UTC(year, date.month - 1, 1) / 1000;
  const firstWeekday = new Date(first * 1000).getUTCDay();
  let day = 1 + ((date.day - firstWeekday + 7) % 7) + (date.week - 1) * 7;
  const length = new Date(Date.UTC(year, date.month, 0)).getUTCDate();
  while (day > length) day -= 7;
  return first + (day - 1) * DAY;
}

/** The offset (seconds east of UTC) the rule gives at `seconds` since the epoch. */
export function posixOffsetAt(rule: PosixRule, seconds: number): number {
  const dst = rule.dst;
  if (!dst) return rule.std;
  // The switches of the years around the instant's; the last one at or before it decides.
  const year = new Date((seconds + rule.std) * 1000).getUTCFullYear();
  let last = -Infinity;
  let offset = rule.std;
  for (let y = year - 1; y <= year + 1; y++) {
    // The start is written in standard time, the end in daylight time.
    const start = ruleDay(dst.start, y) + dst.start.time - rule.std;
    const end = ruleDay(dst.end, y) + dst.end.time - dst.offset;
    for (const [at, to] of [
      [start, dst.offset],
      [end, rule.std],
    ] as const) {
      if (at <= seconds && at > last) {
        last = at;
        offset = to;
      }
    }
  }
  return offset;
}
