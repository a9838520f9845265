// What the system's own reader of its zone files (`zdump`, glibc's) says of a zone: the reference
// src/zoneinfo.ts is tested against. Intl cannot be: it answers from ICU's copy of the time-zone
// data built into Node, which lags the system's (Node 20: tz 2025c; Debian's tzdata 2026f changed
// Morocco's 2026 and Iran's 1979 offsets), so the two disagree wherever a release changed a zone.
import { execFileSync } from 'node:child_process';
import { intlParts } from './intl-reference.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// `Asia/Kolkata  Sun Dec 31 18:38:50 1905 UT = Mon Jan  1 00:08:50 1906 IST isdst=0 gmtoff=19800`
const LINE = /^\S+\s+\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d+) UT = .* gmtoff=(-?\d+)$/;

/** True when `zdump` runs here (Debian: libc-bin, always installed); asked once. */
export const HAVE_ZDUMP = ((): boolean => {
  try {
    execFileSync('zdump', ['UTC'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * A zone's offset (seconds east of UTC) at any instant from `fromYear` to `toYear`, as `zdump -v`
 * lists the zone's transitions (each as the second before it and the second it takes effect);
 * null for a zone with no transition in those years (a fixed offset: UTC, Etc/GMT+5).
 */
export function zdumpOffsets(
  zone: string,
  fromYear: number,
  toYear: number,
): ((ms: number) => number) | null {
  const out = execFileSync('zdump', ['-v', '-c', `${fromYear},${toYear}`, zone], { encoding: 'utf8' });
  const points: { ms: number; offset: number }[] = [];
  for (const line of out.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, month, day, hh, mm, ss, year, offset] = m;
    points.push({
      ms: Date.UTC(Number(year), MONTHS.indexOf(month!), Number(day), Number(hh), Number(mm), Number(ss)),
      offset: Number(offset),
    });
  }
  if (points.length === 0) return null;
  return (ms) => {
    // The last listed second at or before `ms`; before the first, the offset it had then.
    let offset = points[0]!.offset;
    for (const point of points) {
      if (point.ms > ms) break;
      offset = point.offset;
    }
    return offset;
  };
}

/**
 * The local wall-clock parts of instant `ms` in `zone` as the system's zone files give them
 * (`zdump`; Intl where zdump is absent or the zone has a fixed offset), in `intlParts`' shape.
 */
export function systemParts(zone: string): (ms: number) => ReturnType<typeof intlParts> {
  const offsets = HAVE_ZDUMP ? zdumpOffsets(zone, 1900, 2060) : null;
  if (!offsets) return (ms) => intlParts(ms, zone);
  return (ms) => {
    const local = new Date(Math.floor(ms / 1000) * 1000 + offsets(ms) * 1000);
    return {
      year: local.getUTCFullYear(),
      month: local.getUTCMonth() + 1,
      day: local.getUTCDate(),
      hour: local.getUTCHours(),
      minute: local.getUTCMinutes(),
      second: local.getUTCSeconds(),
    };
  };
}
