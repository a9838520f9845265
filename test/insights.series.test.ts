import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { BaliseError } from '../src/errors.js';
import { getSeries } from '../src/insights/getSeries.js';
import type { QueryInput } from '../src/insights/model.js';
import type { Store } from '../src/store/store.js';
import { openTestStore, storeKinds } from './stores.js';
import type { EventRow } from '../src/store/row.js';
import { rowsAt, rowsAtLocal } from './fixtures.js';

const config = parseConfig(
  {
    sites: [
      { host: 'a.example', group: 'news' },
      { host: 'b.example', group: 'news' },
      { host: 'c.example', group: 'tv', timezone: 'America/New_York' },
    ],
  },
  { env: {} },
);
describe.each(storeKinds())('on %s', (kind) => {
  let store: Store;
  let n = 0;

  /** `count` rows at local Paris time `local`, desktop, with visitor hashes cycling over 7 values. */
  const at = (local: string, count: number, overrides: Partial<EventRow> = {}): EventRow[] =>
    rowsAtLocal(local, count, { deviceType: 'desktop', ...overrides }).map((row) => ({
      ...row,
      visitorHash: row.visitorHash ?? String(++n % 7),
    }));

  /** Rows at an exact UTC instant. */
  const atUtc = (iso: string, count: number): EventRow[] => rowsAt(Date.parse(iso), count);

  beforeAll(async () => {
    store = await openTestStore(kind);
    await store.append([
      // Tuesday 7 July 2026, 20:xx local: 84 pageviews (21 mobile) on a, 10 on b; the week before: 100.
      ...at('2026-07-07T20:10', 63),
      ...at('2026-07-07T20:40', 21, { deviceType: 'mobile' }),
      ...at('2026-07-07T20:20', 10, { site: 'b.example' }),
      ...at('2026-06-30T20:15', 100),
      ...at('2026-06-23T20:15', 90),
      ...at('2026-06-16T20:15', 120),
      ...at('2026-07-07T21:05', 5, { type: 'event', name: 'signup' }),
      ...at('2026-07-07T21:10', 2, { isBot: true, deviceType: 'bot' }),
      // 25-hour day: 02:30 local happens twice on 25 October 2026.
      ...atUtc('2026-10-25T00:30:00Z', 1),
      ...atUtc('2026-10-25T01:30:00Z', 2),
      ...at('2026-10-18T02:30', 3),
      // 23-hour day: no 02:00 on 29 March 2026.
      ...at('2026-03-29T03:30', 4),
      ...at('2026-03-22T03:30', 8),
      ...at('2026-03-22T02:30', 6),
    ]);
  });

  afterAll(() => store.close());

  const series = (input: QueryInput) => getSeries(store, config, input, Date.UTC(2026, 6, 8));

  describe('series in local time with comparisons (real DuckDB)', () => {
    it('compares each hour with the same local hour of the previous week', async () => {
      const result = await series({
        sites: ['a.example'],
        metric: 'pageviews',
        interval: '1h',
        from: '2026-07-07T19:00',
        to: '2026-07-07T22:00',
        compare: 'previous_week',
      });
      expect(result.rows).toEqual([
        { time: '2026-07-07T19:00:00+02:00', value: 0, baseline: 0, change: null },
        { time: '2026-07-07T20:00:00+02:00', value: 84, baseline: 100, change: -16 },
        { time: '2026-07-07T21:00:00+02:00', value: 0, baseline: 0, change: null },
      ]);
    });

    it('computes every metric exactly', async () => {
      const base = {
        sites: ['a.example'],
        interval: '1h' as const,
        from: '2026-07-07T20:00',
        to: '2026-07-07T22:00',
      };
      const values = async (metric: QueryInput['metric']) =>
        (await series({ ...base, metric })).rows.map((r) => r.value);
      expect(await values('pageviews')).toEqual([84, 0]); // bots are not pageviews

      expect(await values('events')).toEqual([84, 7]);
      expect(await values('requests')).toEqual([0, 0]);
      expect(await values('visitors')).toEqual([7, 5]);
      expect(await values('mobile_share')).toEqual([25, 0]);
      expect(await values('bot_share')).toEqual([0, 28.57]);
    });

    it('sums a group of sites and filters by dimension', async () => {
      const group = await series({ group: 'news', interval: '1d', from: '2026-07-07', to: '2026-07-08' });
      expect(group.sites).toEqual(['a.example', 'b.example']);
      expect(group.rows).toEqual([{ time: '2026-07-07T00:00:00+02:00', value: 94 }]);
      const mobile = await series({
        group: 'news',
        interval: '1d',
        from: '2026-07-07',
        to: '2026-07-08',
        filters: { device_type: 'mobile' },
      });
      expect(mobile.rows[0]!.value).toBe(21);
    });

    it('breaks down by a dimension: top N and other', async () => {
      const result = await series({
        sites: ['a.example'],
        interval: '1d',
        from: '2026-07-07',
        to: '2026-07-08',
        metric: 'events',
        breakdown: 'device_type',
        top: 1,
      });
      expect(result.rows).toEqual([
        { time: '2026-07-07T00:00:00+02:00', device_type: 'desktop', value: 68 },
        { time: '2026-07-07T00:00:00+02:00', device_type: '(other)', value: 23 },
      ]);
    });

    it('breaks down distinct visitors (not additive) with top values ranked by rows', async () => {
      const result = await series({
        sites: ['a.example'],
        interval: '1d',
        from: '2026-07-07',
        to: '2026-07-08',
        metric: 'visitors',
        breakdown: 'device_type',
        top: 1,
      });
      expect(result.rows).toEqual([
        { time: '2026-07-07T00:00:00+02:00', device_type: 'desktop', value: 7 },
        { time: '2026-07-07T00:00:00+02:00', device_type: '(other)', value: 7 },
      ]);
    });

    it('compares with the previous period and with the median of the last weeks', async () => {
      const previous = await series({
        sites: ['a.example'],
        interval: '1d',
        from: '2026-07-07',
        to: '2026-07-08',
        compare: 'previous_period',
      });
      expect(previous.rows[0]).toMatchObject({ value: 84, baseline: 0, change: null });
      const median = await series({
        sites: ['a.example'],
        interval: '1h',
        from: '2026-07-07T20:00',
        to: '2026-07-07T21:00',
        compare: 'median_weeks:3',
      });
      expect(median.rows).toEqual([
        { time: '2026-07-07T20:00:00+02:00', value: 84, baseline: 100, change: -16 },
      ]);
    });

    it('has 25 hourly rows on 2026-10-25, with the repeated 02:00 twice, each against the previous Sunday', async () => {
      const result = await series({
        sites: ['a.example'],
        interval: '1h',
        from: '2026-10-25',
        to: '2026-10-26',
        compare: 'previous_week',
      });
      expect(result.rows).toHaveLength(25);
      expect(result.rows.filter((r) => r.time.startsWith('2026-10-25T02:00'))).toEqual([
        { time: '2026-10-25T02:00:00+02:00', value: 1, baseline: 3, change: -66.7 },
        { time: '2026-10-25T02:00:00+01:00', value: 2, baseline: 3, change: -33.3 },
      ]);
      const daily = await series({
        sites: ['a.example'],
        interval: '1d',
        from: '2026-10-24',
        to: '2026-10-27',
      });
      expect(daily.rows.map((r) => r.value)).toEqual([0, 3, 0]);
    });

    it('has 23 hourly rows on 2026-03-29, and 03:00 compared with 03:00 a week earlier', async () => {
      const result = await series({
        sites: ['a.example'],
        interval: '1h',
        from: '2026-03-29',
        to: '2026-03-30',
        compare: 'previous_week',
      });
      expect(result.rows).toHaveLength(23);
      expect(result.rows.find((r) => r.time.startsWith('2026-03-29T03:00'))).toEqual({
        time: '2026-03-29T03:00:00+02:00',
        value: 4,
        baseline: 8,
        change: -50,
      });
    });

    it('reads last as the span ending with the current bucket', async () => {
      const now = Date.UTC(2026, 6, 7, 19, 10); // 21:10 in Paris
      const result = await getSeries(
        store,
        config,
        { sites: ['a.example'], last: '2h', interval: '1h' },
        now,
      );
      expect(result.rows.map((r) => r.time)).toEqual([
        '2026-07-07T20:00:00+02:00',
        '2026-07-07T21:00:00+02:00',
      ]);
    });

    it('counts per minute for the realtime view (last 30m at 1m), against the previous week', async () => {
      const now = Date.UTC(2026, 6, 7, 18, 44, 30); // 20:44:30 in Paris
      const result = await getSeries(
        store,
        config,
        { sites: ['a.example'], last: '30m', interval: '1m', compare: 'previous_week' },
        now,
      );
      expect(result.plan).toBe('raw');
      expect(result.rows).toHaveLength(30);
      expect(result.rows[0]!.time).toBe('2026-07-07T20:15:00+02:00');
      expect(result.rows.at(-1)!.time).toBe('2026-07-07T20:44:00+02:00');
      const nonZero = result.rows.filter((r) => r.value !== 0).map((r) => [r.time.slice(11, 16), r.value]);
      expect(nonZero).toEqual([['20:40', 21]]);
      expect(result.rows.find((r) => r.time.startsWith('2026-07-07T20:15'))!.baseline).toBe(100);
    });

    it('uses the site’s time zone by default and another when asked', async () => {
      const ny = await series({ sites: ['c.example'], interval: '1d', from: '2026-07-07', to: '2026-07-08' });
      expect(ny.tz).toBe('America/New_York');
      expect(ny.rows[0]!.time).toBe('2026-07-07T00:00:00-04:00');
      const utc = await series({
        sites: ['a.example'],
        interval: '1h',
        from: '2026-07-07T18:00',
        to: '2026-07-07T19:00',
        tz: 'UTC',
      });
      expect(utc.rows).toEqual([{ time: '2026-07-07T18:00:00+00:00', value: 84 }]);
    });

    it.each([
      [{ sites: ['nope.example'], from: '2026-07-07', to: '2026-07-08' }, 'invalid_query', 'sites'],
      [{ group: 'sport', from: '2026-07-07', to: '2026-07-08' }, 'invalid_query', 'group'],
      [
        { sites: ['a.example'], group: 'news', from: '2026-07-07', to: '2026-07-08' },
        'invalid_query',
        'group',
      ],
      [{ sites: ['a.example'], from: '2026-07-08', to: '2026-07-07' }, 'invalid_query', 'to'],
      [{ sites: ['a.example'], from: '2026-07-07' }, 'invalid_query', 'from'],
      [
        { sites: ['a.example'], interval: '15m', from: '2016-01-01', to: '2026-01-01' },
        'range_too_large',
        'interval',
      ],
      [
        { sites: ['a.example'], tz: 'Mars/Olympus', from: '2026-07-07', to: '2026-07-08' },
        'invalid_query',
        'tz',
      ],
      [
        { sites: ['a.example'], compare: 'last_year', from: '2026-07-07', to: '2026-07-08' },
        'invalid_query',
        'compare',
      ],
      [
        { sites: ['a.example'], filters: { colour: 'red' }, from: '2026-07-07', to: '2026-07-08' },
        'invalid_query',
        'filters',
      ],
    ])('refuses %j with %s at %s', async (input, code, path) => {
      const error = await series(input as QueryInput).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BaliseError);
      expect(error).toMatchObject({ code, path, status: 400 });
    });

    it('binds hostile filter values as data', async () => {
      const result = await series({
        sites: ['a.example'],
        interval: '1d',
        from: '2026-07-07',
        to: '2026-07-08',
        filters: { country: "FR' OR 1=1 --" },
      });
      expect(result.rows[0]!.value).toBe(0);
    });
  });
});
