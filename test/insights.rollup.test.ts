import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { getSeries } from '../src/insights/getSeries.js';
import type { QueryInput } from '../src/insights/model.js';
import { SqlWriter } from '../src/store/dialect.js';
import type { Store } from '../src/store/store.js';
import { openTestStore, storeKinds } from './stores.js';
import type { EventRow } from '../src/store/row.js';
import { generator, pick, rowsAt } from './fixtures.js';

// docs/scale.md: "rollups are a query-plan choice, not a different API … results must be identical".
// Every query below runs twice — as planned (the hourly rollup where allowed) and forced onto the
// raw table — and the two answers must be equal to the last digit.

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
const NOW = Date.UTC(2026, 10, 2);
describe.each(storeKinds())('on %s', (kind) => {
  let store: Store;

  /** About 12,000 rows over 4 weeks around the end of summer time, every dimension varied, nulls too. */
  function dataset(): EventRow[] {
    const random = generator(42);
    // Referrer hosts from their own sequence: the other columns keep theirs.
    const referrers = generator(43);
    const rows: EventRow[] = [];
    const first = Date.UTC(2026, 9, 5);
    for (let i = 0; i < 12_000; i++) {
      const ts = first + Math.floor(random() * 28 * 86_400_000);
      const isBot = random() < 0.15;
      rows.push(
        ...rowsAt(ts, 1, {
          site: pick(random, ['a.example', 'b.example', 'c.example']),
          type: pick(random, ['pageview', 'pageview', 'pageview', 'event', 'request']),
          name: pick(random, [null, 'signup', 'share']),
          path: pick(random, ['/', '/politique', '/sport', '/live/elections']),
          referrerClass: pick(random, [null, 'search', 'social', 'direct']),
          referrerHost: pick(referrers, [null, null, 'www.google.com', 't.co', 'news.example']),
          country: pick(random, ['FR', 'FR', 'BE', 'DE', null]),
          region: pick(random, ['FR-IDF', 'FR-GES', 'FR-PAC', null]),
          deviceType: isBot ? 'bot' : pick(random, ['desktop', 'mobile', 'mobile', 'tablet']),
          browser: pick(random, ['Chrome', 'Firefox', 'Safari']),
          os: pick(random, ['Android', 'iOS', 'Windows', null]),
          node: pick(random, ['paris-1', 'london-1']),
          isBot,
          visitorHash: String(Math.floor(random() * 900)),
        }),
      );
    }
    return rows;
  }

  beforeAll(async () => {
    store = await openTestStore(kind);
    const rows = dataset();
    // In several batches, as the writer sends them.
    for (let i = 0; i < rows.length; i += 2_500) await store.append(rows.slice(i, i + 2_500));
  });

  afterAll(() => store.close());

  async function bothPlans(input: QueryInput) {
    const planned = await getSeries(store, config, input, NOW);
    const raw = await getSeries(store, config, input, NOW, { plan: 'raw' });
    expect(raw.plan).toBe('raw');
    return { planned, raw };
  }

  const metrics = ['requests', 'pageviews', 'events', 'mobile_share', 'bot_share'] as const;
  const shapes: QueryInput[] = [
    { group: 'news', interval: '1h', from: '2026-10-22', to: '2026-10-29', compare: 'previous_week' },
    { group: 'news', interval: '1d', from: '2026-10-19', to: '2026-11-02', compare: 'previous_period' },
    { sites: ['a.example'], interval: '1h', last: '48h', breakdown: 'country', top: 2 },
    { sites: ['c.example'], interval: '1h', from: '2026-10-28', to: '2026-11-02', compare: 'median_weeks:2' },
    {
      group: 'news',
      interval: '1d',
      from: '2026-10-26',
      to: '2026-11-01',
      compare: 'previous_week',
      breakdown: 'device_type',
      filters: { region: 'FR-IDF', os: 'Android' },
    },
    {
      sites: ['a.example', 'b.example'],
      interval: '1h',
      from: '2026-10-25',
      to: '2026-10-26',
      breakdown: 'referrer_class',
      filters: { node: 'paris-1' },
    },
  ];

  describe('the hourly rollup', () => {
    for (const metric of metrics) {
      shapes.forEach((shape, index) => {
        it(`answers exactly as the raw table: ${metric}, shape ${index + 1}`, async () => {
          const { planned, raw } = await bothPlans({ ...shape, metric });
          // DuckDB's count summaries answer a query on at most one dimension; the rollup the others.
          const summed =
            kind === 'duckdb' && Object.keys(shape.filters ?? {}).length + (shape.breakdown ? 1 : 0) <= 1;
          const mobileBy = metric === 'mobile_share' && shape.breakdown && shape.breakdown !== 'device_type';
          expect(planned.plan).toBe(summed && !mobileBy ? 'dims_hourly' : 'rollup');
          expect(planned.rows.length).toBeGreaterThan(0);
          expect(planned.rows.some((row) => row.value !== 0 && row.value !== null)).toBe(true);
          expect(planned.rows).toEqual(raw.rows);
        });
      });
    }

    it.each([
      [{ metric: 'visitors' }, 'visitors'],
      [{ interval: '15m' }, '15m'],
      [{ breakdown: 'path', filters: { country: 'FR' } }, 'path breakdown, country filter'],
      [{ filters: { path_prefix: '/live', country: 'FR' } }, 'path and country filters'],
      [{ tz: 'Asia/Kolkata' }, 'half-hour zone'],
      [{ from: '2026-10-22T10:30', to: '2026-10-29' }, 'range off the hour'],
    ] as [Partial<QueryInput>, string][])(
      'falls back to the raw table when it cannot answer (%s)',
      async (change) => {
        const input = {
          group: 'news',
          metric: 'pageviews',
          interval: '1h',
          from: '2026-10-22',
          to: '2026-10-29',
          ...change,
        } as QueryInput;
        const { planned, raw } = await bothPlans(input);
        expect(planned.plan).toBe('raw');
        expect(planned.rows).toEqual(raw.rows);
      },
    );

    // The page counts kept with the rollup (pages_hourly, DuckDB): by path or referrer host.
    const pageShapes: QueryInput[] = [
      { group: 'news', interval: '1d', from: '2026-10-19', to: '2026-11-02', breakdown: 'path', top: 3 },
      {
        group: 'news',
        interval: '1h',
        from: '2026-10-22',
        to: '2026-10-29',
        compare: 'previous_week',
        breakdown: 'referrer_host',
      },
      {
        sites: ['c.example'],
        interval: '1d',
        from: '2026-10-20',
        to: '2026-11-02',
        breakdown: 'path',
        filters: { path_prefix: '/live', type: 'request' },
      },
      {
        sites: ['a.example'],
        interval: '1h',
        last: '48h',
        breakdown: 'referrer_host',
        filters: { referrer_host: 't.co' },
      },
    ];
    // A section's total: its path prefix alone.
    pageShapes.push({
      group: 'news',
      interval: '1h',
      from: '2026-10-22',
      to: '2026-10-29',
      filters: { path_prefix: '/live' },
    });
    for (const metric of ['requests', 'pageviews', 'events'] as const) {
      pageShapes.forEach((shape, index) => {
        // Pageviews of requests only are none: that shape asks them of page views.
        if (metric === 'pageviews' && shape.filters?.type)
          shape = { ...shape, filters: { ...shape.filters, type: 'pageview' } };
        it(`answers by page exactly as the raw table: ${metric}, shape ${index + 1}`, async () => {
          const { planned, raw } = await bothPlans({ ...shape, metric });
          // Whole days of the sites' zone: the daily twin.
          const table = shape.interval === '1d' ? 'pages_daily' : 'pages_hourly';
          expect(planned.plan).toBe(kind === 'duckdb' ? table : 'raw');
          expect(planned.rows.some((row) => row.value !== 0 && row.value !== null)).toBe(true);
          expect(planned.rows).toEqual(raw.rows);
        });
      });
    }

    it('catches up with late rows written into hours it already summed', async () => {
      const input: QueryInput = {
        sites: ['a.example'],
        interval: '1h',
        from: '2026-10-20',
        to: '2026-10-21',
      };
      const byPath: QueryInput = { ...input, breakdown: 'path', filters: { path: '/late' } };
      const before = await getSeries(store, config, input, NOW);
      const pagesBefore = await getSeries(store, config, byPath, NOW);
      // A spool replay or an import lands rows in a past hour.
      const late = Date.UTC(2026, 9, 20, 8, 15);
      await store.append(rowsAt(late, 7, { site: 'a.example', deviceType: 'desktop', path: '/late' }));
      const after = await getSeries(store, config, input, NOW);
      expect(after.plan).toBe(kind === 'duckdb' ? 'dims_hourly' : 'rollup');
      const rolled = { ...input, breakdown: 'country', filters: { device_type: 'desktop' } } as QueryInput;
      const rolledAfter = await getSeries(store, config, rolled, NOW);
      expect(rolledAfter.plan).toBe('rollup');
      expect(rolledAfter.rows).toEqual((await getSeries(store, config, rolled, NOW, { plan: 'raw' })).rows);
      const hour = (result: typeof before, extra: (row: (typeof before.rows)[0]) => boolean = () => true) =>
        result.rows.find((row) => row.time === '2026-10-20T10:00:00+02:00' && extra(row))!.value as number;
      expect(hour(after)).toBe(hour(before) + 7);
      expect(after.rows).toEqual((await getSeries(store, config, input, NOW, { plan: 'raw' })).rows);
      const pagesAfter = await getSeries(store, config, byPath, NOW);
      const late7 = (row: (typeof before.rows)[0]) => row.path === '/late';
      expect(hour(pagesAfter, late7)).toBe(7);
      expect(pagesBefore.rows.every((row) => row.value === 0)).toBe(true);
      expect(pagesAfter.rows).toEqual((await getSeries(store, config, byPath, NOW, { plan: 'raw' })).rows);
    });

    it('really reads the rollup: rows deleted behind its back still count there', async () => {
      const input: QueryInput = {
        sites: ['b.example'],
        interval: '1d',
        from: '2026-10-06',
        to: '2026-10-08',
      };
      const byReferrer: QueryInput = { ...input, breakdown: 'referrer_host' };
      const combined: QueryInput = { ...input, breakdown: 'country', filters: { device_type: 'mobile' } };
      const combinedBefore = await getSeries(store, config, combined, NOW);
      expect(combinedBefore.plan).toBe('rollup');
      const before = await getSeries(store, config, input, NOW);
      const referrersBefore = await getSeries(store, config, byReferrer, NOW);
      const sql = new SqlWriter(store.dialect);
      await store.query(
        `DELETE FROM events WHERE site = 'b.example' AND ts < ${sql.instant(Date.UTC(2026, 9, 8))}`,
        sql.params,
      );
      const planned = await getSeries(store, config, input, NOW);
      const raw = await getSeries(store, config, input, NOW, { plan: 'raw' });
      expect(planned.rows).toEqual(before.rows);
      expect(raw.rows.every((row) => row.value === 0)).toBe(true);
      expect(combinedBefore.rows.some((row) => Number(row.value) > 0)).toBe(true);
      expect((await getSeries(store, config, combined, NOW)).rows).toEqual(combinedBefore.rows);
      if (kind === 'duckdb') {
        // The page counts too.
        expect(referrersBefore.rows.some((row) => Number(row.value) > 0)).toBe(true);
        expect((await getSeries(store, config, byReferrer, NOW)).rows).toEqual(referrersBefore.rows);
      }
      // markAllDirty is the way back after writes or deletes made outside append.
      await store.markAllDirty();
      expect((await getSeries(store, config, input, NOW)).rows).toEqual(raw.rows);
      const referrersAfter = await getSeries(store, config, byReferrer, NOW);
      expect(referrersAfter.rows.every((row) => row.value === 0)).toBe(true);
    });
  });
});
