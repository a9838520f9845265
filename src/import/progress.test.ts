import { describe, expect, it } from 'vitest';
import { formatBytes, progressLine } from './progress.js';
import { parseFlexibleTime, parseTimeLocal } from './formats/times.js';

describe('import progress', () => {
  it('draws a bar with bytes, lines, rate and ETA', () => {
    const line = progressLine({
      file: 'a.log',
      fileIndex: 1,
      files: 2,
      bytesRead: 0,
      bytesTotal: 0,
      allBytesRead: 50 * 2 ** 20,
      allBytesTotal: 200 * 2 ** 20,
      lines: 100_000,
      elapsedMs: 2_000,
    });
    expect(line).toBe(
      '[######------------------]  25%  50.0 MB/200.0 MB  100,000 lines  50,000 lines/s  ETA 00:06  file 2/2',
    );
    expect(formatBytes(1536)).toBe('1.5 KB');
  });
});

describe('log times', () => {
  it('reads $time_local with its offset', () => {
    expect(parseTimeLocal('17/May/2015:10:05:03 +0000')).toBe(Date.UTC(2015, 4, 17, 10, 5, 3));
    expect(parseTimeLocal('05/Jul/2026:20:00:01 +0200')).toBe(Date.UTC(2026, 6, 5, 18, 0, 1));
    expect(parseTimeLocal('05/Jul/2026:20:00:01 -0130')).toBe(Date.UTC(2026, 6, 5, 21, 30, 1));
    expect(parseTimeLocal('5/Jul/2026:20:00:01 +0200')).toBeNull();
    expect(parseTimeLocal('05/Juz/2026:20:00:01 +0200')).toBeNull();
  });

  it('reads a sequence of times within and across hours as it reads each alone', () => {
    // The parser remembers the last hour; any mix of same-hour, new-hour and bad texts (minutes
    // and seconds past 59 included) must give what a fresh reading of each text gives.
    const months = ['Jan', 'Feb', 'May', 'Dec', 'Xyz'];
    const expected = (
      d: number,
      mon: string,
      h: number,
      m: number,
      s: number,
      off: string,
    ): number | null => {
      const month = [
        'Jan',
        'Feb',
        'Mar',
        'Apr',
        'May',
        'Jun',
        'Jul',
        'Aug',
        'Sep',
        'Oct',
        'Nov',
        'Dec',
      ].indexOf(mon);
      if (month === -1 || s > 99 || m > 99) return null;
      const sign = off.startsWith('-') ? -1 : 1;
      const minutes = Number(off.slice(1, 3)) * 60 + Number(off.slice(3, 5));
      return Date.UTC(2015, month, d, h, m, s) - sign * minutes * 60_000;
    };
    let seed = 7;
    const random = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const two = (n: number) => String(n).padStart(2, '0');
    for (let i = 0; i < 20_000; i++) {
      const d = 10 + random(3);
      const mon = months[random(months.length)]!;
      const h = random(2);
      const m = random(10) === 0 ? 60 + random(40) : random(60);
      const s = random(10) === 0 ? 60 + random(40) : random(60);
      const off = ['+0000', '+0200', '-0130'][random(3)]!;
      const text = `${d}/${mon}/2015:${two(h)}:${two(m)}:${two(s)} ${off}`;
      expect(parseTimeLocal(text), text).toBe(expected(d, mon, h, m, s, off));
    }
    expect(parseTimeLocal('17/May/2015:10:05:0x +0000')).toBeNull();
    expect(parseTimeLocal('17/May/2015:10:05:03 +0000')).toBe(Date.UTC(2015, 4, 17, 10, 5, 3));
    expect(parseTimeLocal('17/May/2015:10:05:x3 +0000')).toBeNull();
    expect(parseTimeLocal('17/May/2015:10:05:03 +0000')).toBe(Date.UTC(2015, 4, 17, 10, 5, 3));
    expect(parseTimeLocal('17/May/2015:10:05x04 +0000')).toBeNull();
    expect(parseTimeLocal('17/May/2015:10:x5:04 +0000')).toBeNull();
  });

  it('tells Unix seconds, ms, µs and ns apart, and reads RFC 3339 (UTC without a zone)', () => {
    const ms = Date.UTC(2026, 6, 5, 18);
    expect(parseFlexibleTime(ms / 1000)).toBe(ms);
    expect(parseFlexibleTime(String(ms))).toBe(ms);
    expect(parseFlexibleTime(ms * 1000)).toBe(ms);
    expect(parseFlexibleTime(ms * 1_000_000)).toBe(ms);
    expect(parseFlexibleTime('2026-07-05T20:00:00+02:00')).toBe(ms);
    expect(parseFlexibleTime('2026-07-05 18:00:00')).toBe(ms);
    expect(parseFlexibleTime('yesterday')).toBeNull();
    expect(parseFlexibleTime(-5)).toBeNull();
  });
});
