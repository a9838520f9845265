import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { BaliseError } from '../src/errors.js';
import { plausibleQuery } from '../src/plausible/run.js';
import { resolveRange } from '../src/plausible/range.js';
import type { EventRow } from '../src/store/row.js';
import type { Store } from '../src/store/store.js';
import { rowsAtLocal } from './fixtures.js';
import { openTestStore, storeKinds } from './stores.js';

const config = parseConfig(
  {
    sites: [
      {
        host: 'a.example',
        goals: [
          { name: 'Signup', event: 'signup' },
          { name: 'Saw B', path: '/b' },
        ],
      },
      { host: 'b.example' },
    ],
  },
  { env: {} },
);

function event(visitor: string | null, local: string, overrides: Partial<EventRow> = {}): EventRow {
  return rowsAtLocal(local, 1, { visitorHash: visitor, path: '/', deviceType: 'desktop', ...overrides })[0]!;
}

// The visits of test/insights.visits.test.ts (worked out there), on Tuesday 7 July 2026, Paris:
// 11: / /a /b, then /c 40 min later; 12: /a (FR, mobile, newsletter) then a signup on /a;
// 15: three requests /x /y /z; 16: / at 23:30 and /d at 23:45 (a visit ends by the site's local
// midnight, when the salt, hence the hash, changes); a bot; a hash-less pageview of /.
const EVENTS: EventRow[] = [
  event('11', '2026-07-07T10:00', { path: '/' }),
  event('11', '2026-07-07T10:10', { path: '/a' }),
  event('11', '2026-07-07T10:20', { path: '/b' }),
  event('11', '2026-07-07T11:00', { path: '/c' }),
  event('12', '2026-07-07T10:05', {
    path: '/a',
    country: 'FR',
    deviceType: 'mobile',
    utmSource: 'newsletter',
  }),
  event('12', '2026-07-07T10:06', { path: '/a', type: 'event', name: 'signup', country: 'FR' }),
  event('15', '2026-07-07T10:30', { path: '/x', type: 'request', source: 'import' }),
  event('15', '2026-07-07T10:32', { path: '/y', type: 'request', source: 'import' }),
  event('15', '2026-07-07T10:34', { path: '/z', type: 'request', source: 'import' }),
  event('16', '2026-07-07T23:30', { path: '/' }),
  event('16', '2026-07-07T23:45', { path: '/d' }),
  event('99', '2026-07-07T10:00', { isBot: true, deviceType: 'bot' }),
  event(null, '2026-07-07T10:00', { path: '/' }),
];

const DAY = ['2026-07-07', '2026-07-07'];

describe('Plausible date ranges', () => {
  const now = Date.parse('2026-07-08T12:00:00+02:00');
  const range = (r: Parameters<typeof resolveRange>[0]) => {
    const { start, end } = resolveRange(r, 'Europe/Paris', now, null);
    return [new Date(start).toISOString(), new Date(end).toISOString()];
  };
  it('reads keywords in the site’s zone, the last days without today, as Plausible does', () => {
    expect(range('day')).toEqual(['2026-07-07T22:00:00.000Z', '2026-07-08T22:00:00.000Z']);
    expect(range('7d')).toEqual(['2026-06-30T22:00:00.000Z', '2026-07-07T22:00:00.000Z']);
    expect(range('month')).toEqual(['2026-06-30T22:00:00.000Z', '2026-07-08T22:00:00.000Z']);
    expect(range('6mo')[0]).toBe('2026-01-31T23:00:00.000Z');
    expect(range(['2026-07-01', '2026-07-02'])).toEqual([
      '2026-06-30T22:00:00.000Z',
      '2026-07-02T22:00:00.000Z',
    ]);
  });
});

describe.each(storeKinds())('Plausible Stats API v2 on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
    await store.append(EVENTS);
  });
  afterAll(() => store.close());

  const query = (body: Record<string, unknown>) =>
    plausibleQuery(store, config, { site_id: 'a.example', date_range: DAY, ...body }, Date.UTC(2026, 7, 1));

  it('answers every metric of a day, over its visits, rounded as Plausible rounds', async () => {
    const answer = await query({
      metrics: [
        'visitors',
        'visits',
        'pageviews',
        'bounce_rate',
        'visit_duration',
        'views_per_visit',
        'events',
      ],
    });
    expect(answer.results).toEqual([{ dimensions: [], metrics: [4, 5, 10, 20, 480, 2, 11] }]);
    expect(answer.query.date_range).toEqual(['2026-07-07T00:00:00+02:00', '2026-07-07T23:59:59+02:00']);
  });

  it('breaks events down by page, ordered by the first metric and then the page', async () => {
    const answer = await query({ metrics: ['visitors', 'pageviews', 'events'], dimensions: ['event:page'] });
    expect(answer.results).toEqual([
      { dimensions: ['/'], metrics: [2, 3, 3] },
      { dimensions: ['/a'], metrics: [2, 2, 3] },
      { dimensions: ['/b'], metrics: [1, 1, 1] },
      { dimensions: ['/c'], metrics: [1, 1, 1] },
      { dimensions: ['/d'], metrics: [1, 1, 1] },
      { dimensions: ['/x'], metrics: [1, 1, 1] },
      { dimensions: ['/y'], metrics: [1, 1, 1] },
      { dimensions: ['/z'], metrics: [1, 1, 1] },
    ]);
  });

  it('gives visits their source (campaign, else referrer, else Direct / None), device and entry page', async () => {
    expect((await query({ metrics: ['visits'], dimensions: ['visit:source'] })).results).toEqual([
      { dimensions: ['Direct / None'], metrics: [4] },
      { dimensions: ['newsletter'], metrics: [1] },
    ]);
    expect((await query({ metrics: ['visits'], dimensions: ['visit:device'] })).results).toEqual([
      { dimensions: ['Desktop'], metrics: [4] },
      { dimensions: ['Mobile'], metrics: [1] },
    ]);
    const entry = await query({
      metrics: ['visits', 'bounce_rate'],
      dimensions: ['visit:entry_page'],
      order_by: [['visit:entry_page', 'asc']],
    });
    expect(entry.results.map((r) => [r.dimensions[0], ...r.metrics])).toEqual([
      ['/', 2, 0],
      ['/a', 1, 0],
      ['/c', 1, 100],
      ['/x', 1, 0],
    ]);
  });

  it('filters visits by what any of their pages was, and by their own values', async () => {
    const visits = async (filters: unknown[]) =>
      (await query({ metrics: ['visits'], filters })).results[0]!.metrics[0];
    expect(await visits([['is', 'event:page', ['/b']]])).toBe(1);
    expect(await visits([['contains', 'event:page', ['/a']]])).toBe(2);
    expect(await visits([['is', 'event:name', ['signup']]])).toBe(1);
    expect(await visits([['is_not', 'visit:country', ['FR']]])).toBe(4);
    expect(
      await visits([
        ['is', 'visit:utm_source', ['newsletter']],
        ['is', 'visit:device', ['Mobile', 'mobile']],
      ]),
    ).toBe(1);
  });

  it('groups by local day, paginates and counts the rows', async () => {
    const byDay = await query({
      metrics: ['visits'],
      dimensions: ['time:day'],
      date_range: ['2026-07-07', '2026-07-08'],
    });
    expect(byDay.results).toEqual([{ dimensions: ['2026-07-07'], metrics: [5] }]);
    const page = await query({
      metrics: ['pageviews'],
      dimensions: ['event:page'],
      pagination: { limit: 2, offset: 1 },
      include: { total_rows: true },
    });
    expect(page.results.map((r) => r.dimensions[0])).toEqual(['/a', '/b']);
    expect(page.meta.total_rows).toBe(8);
  });

  it('breaks conversions down by goal, with the conversion rate of the day’s visitors', async () => {
    // Visitors of the day: 11, 12, 15, 16 (the hash-less pageview and the bot are not visitors).
    expect(
      (await query({ metrics: ['visitors', 'events', 'conversion_rate'], dimensions: ['event:goal'] }))
        .results,
    ).toEqual([
      { dimensions: ['Saw B'], metrics: [1, 1, 25] },
      { dimensions: ['Signup'], metrics: [1, 1, 25] },
    ]);
    expect(
      (await query({ metrics: ['visitors', 'conversion_rate'], filters: [['is', 'event:goal', ['Signup']]] }))
        .results,
    ).toEqual([{ dimensions: [], metrics: [1, 25] }]);
    // Over visits: the visits that completed the goal.
    expect(
      (await query({ metrics: ['visits'], filters: [['is', 'event:goal', ['Saw B']]] })).results,
    ).toEqual([{ dimensions: [], metrics: [1] }]);
  });

  it('refuses what it does not answer, naming it', async () => {
    await expect(query({ metrics: ['conversion_rate'] })).rejects.toThrow(
      /conversion_rate needs an event:goal/,
    );
    await expect(query({ metrics: ['visitors'], filters: [['is', 'event:goal', ['Nope']]] })).rejects.toThrow(
      /goal Nope is not configured/,
    );
    const refused = async (body: Record<string, unknown>, message: RegExp) => {
      const error = await query(body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BaliseError);
      expect((error as BaliseError).code).toBe('invalid_query');
      expect((error as BaliseError).message).toMatch(message);
    };
    await refused({ metrics: ['scroll_depth'] }, /metric scroll_depth is not supported/);
    await refused({ metrics: ['visits'], dimensions: ['event:page'] }, /event:page/);
    await refused(
      { metrics: ['visits'], dimensions: ['visit:city_name'] },
      /dimension visit:city_name is not supported/,
    );
    await refused(
      { metrics: ['visits'], filters: [['matches', 'event:page', ['^/a']]] },
      /filter operator matches/,
    );
    await refused({ metrics: ['visits'], site_id: 'nope.example' }, /unknown site_id/);
  });
});
