import { describe, expect, it } from 'vitest';
import { formatBytes, progressLine } from './progress.js';
import { parseFlexibleTime, parseTimeLocal } from './times.js';

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
