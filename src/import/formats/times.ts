const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

// The last hour read: the character codes of its text (`17/May/2015:10:05:03 +0000`; only the
// date and hour before the minutes, and the offset after the seconds, are compared), and its
// first millisecond. A captured field is a slice of its line, on which `startsWith` and string
// equality take slow paths; reading character codes does not.
const hourCodes = new Int32Array(26).fill(-1);
let hourMs = 0;

/** `17/May/2015:10:05:03 +0000` (Apache/NGINX `$time_local`) → ms since the epoch, or null. */
export function parseTimeLocal(text: string): number | null {
  // Consecutive lines nearly always share their hour: the date, hour and offset are read once
  // per hour, then only the digits of the minutes and seconds.
  if (text.length === 26 && sameHour(text) && text.charCodeAt(17) === 58) {
    const minutes = digit(text, 15) * 10 + digit(text, 16);
    const seconds = digit(text, 18) * 10 + digit(text, 19);
    if (minutes >= 0 && minutes <= 59 && seconds >= 0 && seconds <= 59)
      return hourMs + (minutes * 60 + seconds) * 1000;
  }
  const value = readTimeLocal(text);
  if (value !== null && text.length === 26) {
    for (let i = 0; i < 26; i++) hourCodes[i] = text.charCodeAt(i);
    hourMs = value - (Number(text.slice(15, 17)) * 60 + Number(text.slice(18, 20))) * 1000;
  }
  return value;
}

/** True when `text` (26 characters) has the date, hour and offset of the last hour read. */
function sameHour(text: string): boolean {
  for (let i = 0; i < 15; i++) if (text.charCodeAt(i) !== hourCodes[i]) return false;
  for (let i = 20; i < 26; i++) if (text.charCodeAt(i) !== hourCodes[i]) return false;
  return true;
}

/** The decimal digit at `index` of `text`, or a large negative number when it is not one. */
function digit(text: string, index: number): number {
  const value = text.charCodeAt(index) - 48;
  return value >= 0 && value <= 9 ? value : -1000;
}

function readTimeLocal(text: string): number | null {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const month = MONTHS[m[2]!];
  if (month === undefined) return null;
  const offset = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '-' ? -1 : 1);
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(utc) ? null : utc - offset;
}

/**
 * A time field of a JSON log: RFC 3339 text, or a Unix time in seconds, milliseconds or
 * nanoseconds (told apart by magnitude; numbers or digit strings). Null when unreadable.
 */
export function parseFlexibleTime(value: unknown): number | null {
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) return parseFlexibleTime(Number(value));
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    if (value < 1e11) return Math.round(value * 1000); // seconds (until year 5138)
    if (value < 1e14) return Math.round(value); // milliseconds
    if (value < 1e17) return Math.round(value / 1000); // microseconds
    return Math.round(value / 1e6); // nanoseconds
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) {
    // A time without a zone is UTC (never the importing machine's zone).
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
    const ms = Date.parse(zoned.replace(' ', 'T'));
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}
