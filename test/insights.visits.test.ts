import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { BaliseError } from '../src/errors.js';
import { getSeries, type SeriesRow } from '../src/insights/getSeries.js';
import type { QueryInput } from '../src/insights/model.js';
import type { EventRow } from '../src/store/row.js';
import type { Store } from '../src/store/store.js';
import { rowsAtLocal } from './fixtures.js';
import { openTestStore, storeKinds } from './stores.js';

const config = parseConfig({ sites: [{ host: 'a.example' }, { host: 'b.example' }] }, { env: {} });

/** One event of visitor `visitor` at Paris time `local` (`YYYY-MM-DDTHH:MM`). */
function event(visitor: string | null, local: string, overrides: Partial<EventRow> = {}): EventRow {
  return rowsAtLocal(local, 1, { visitorHash: visitor, path: '/', deviceType: 'desktop', ...overrides })[0]!;
}

// Tuesday 7 July 2026 (Paris), site a. Expected visits, worked out by hand:
//   v1: / 10:00, /a 10:10, /b 10:20            → one visit, 20 min, 3 pages, entry /, exit /b
//   v1: /c 11:00 (40 min after its last event)  → a second visit: a bounce, 0 s
//   v2: /a 10:05 (FR, mobile), signup 10:06     → one visit, 60 s, 1 page, 2 events: not a bounce
//   v5: three imported requests 10:30–10:34    → one visit, 4 min, 3 pages, entry /x, exit /z
//   v6: / 23:30 and /d 23:45                    → one visit, 15 min, 2 pages
//   v7: v6's visitor at 00:05 the next day     → another visit, on the 8th: the salt, hence the
//       hash, changes at the site's local midnight, so a visit never crosses it
//   bot and hash-less events                    → no visit
// Site b: v1's hash there is another visitor's (hashes are per site): one visit.
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
    utmCampaign: 'juillet',
  }),
  event('12', '2026-07-07T10:06', { path: '/a', type: 'event', name: 'signup', country: 'DE' }),
  event('15', '2026-07-07T10:30', { path: '/x', type: 'request', source: 'import' }),
  event('15', '2026-07-07T10:32', { path: '/y', type: 'request', source: 'import' }),
  event('15', '2026-07-07T10:34', { path: '/z', type: 'request', source: 'import' }),
  event('16', '2026-07-07T23:30', { path: '/' }),
  event('16', '2026-07-07T23:45', { path: '/d' }),
  event('17', '2026-07-08T00:05', { path: '/e' }),
  event('99', '2026-07-07T10:00', { isBot: true, deviceType: 'bot' }),
  event(null, '2026-07-07T10:00'),
  event('11', '2026-07-07T12:00', { site: 'b.example', path: '/' }),
];

describe.each(storeKinds())('visits on %s', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(kind);
    await store.append(EVENTS);
  });
  afterAll(() => store.close());

  /** The rows of a breakdown as {value of the dimension: metric}, without `(other)` and zeros. */
  const byValue = (rows: SeriesRow[], dimension: string): Record<string, unknown> =>
    Object.fromEntries(
      rows
        .filter((row) => row[dimension] !== '(other)' && row.value !== 0)
        .map((row) => [String(row[dimension]), row.value]),
    );

  const day = (input: Partial<QueryInput>) =>
    getSeries(
      store,
      config,
      { sites: ['a.example'], interval: '1d', from: '2026-07-07', to: '2026-07-08', ...input },
      Date.UTC(2026, 7, 1),
    );
  const value = async (input: Partial<QueryInput>) => (await day(input)).rows[0]?.value;

  it('counts visits as runs of one visitor’s events with no gap over 30 minutes, bots and hash-less events aside', async () => {
    expect(await value({ metric: 'visits' })).toBe(5);
  });

  it('gives the bounce rate, mean duration and pages per visit', async () => {
    // Bounces: v1's second visit only. Durations 1200 + 0 + 60 + 240 + 900 s. Pages 3+1+1+3+2.
    expect(await value({ metric: 'bounce_rate' })).toBe(20);
    expect(await value({ metric: 'visit_duration' })).toBe(480);
    expect(await value({ metric: 'views_per_visit' })).toBe(2);
  });

  it('counts a visit in the local day it starts, in the site’s zone and in another', async () => {
    const result = await day({ metric: 'visits', to: '2026-07-09' });
    expect(result.rows.map((row) => row.value)).toEqual([5, 1]);
    // In UTC (Paris is UTC+2 in July) v7 starts on the 7th at 22:05: six visits that day.
    const utc = await day({ metric: 'visits', tz: 'UTC', to: '2026-07-09' });
    expect(utc.rows.map((row) => row.value)).toEqual([6, 0]);
  });

  it('breaks visits down by entry and exit page', async () => {
    const entry = await day({ metric: 'visits', breakdown: 'entry_page' });
    expect(byValue(entry.rows, 'entry_page')).toEqual({ '/': 2, '/a': 1, '/c': 1, '/x': 1 });
    const exit = await day({ metric: 'visits', breakdown: 'exit_page' });
    expect(byValue(exit.rows, 'exit_page')).toEqual({ '/b': 1, '/c': 1, '/a': 1, '/z': 1, '/d': 1 });
  });

  it('filters visits by what any of their events saw (path), and by their entry values (country, device)', async () => {
    expect(await value({ metric: 'visits', filters: { path: '/b' } })).toBe(1);
    expect(await value({ metric: 'visits', filters: { path_prefix: '/a' } })).toBe(2);
    expect(await value({ metric: 'visits', filters: { name: 'signup' } })).toBe(1);
    // v2's first event is FR and mobile; its second, DE, is not its entry.
    expect(await value({ metric: 'visits', filters: { country: 'FR' } })).toBe(1);
    expect(await value({ metric: 'visits', filters: { country: 'DE' } })).toBe(0);
    expect(await value({ metric: 'visits', filters: { device_type: 'mobile' } })).toBe(1);
    expect(await value({ metric: 'bounce_rate', filters: { exit_page: '/c' } })).toBe(100);
  });

  it('gives each visit the campaign of its first event', async () => {
    const bySource = await day({ metric: 'visits', breakdown: 'utm_source' });
    expect(
      Object.fromEntries(bySource.rows.filter((r) => r.value).map((r) => [r.utm_source, r.value])),
    ).toEqual({
      newsletter: 1,
      '(none)': 4,
    });
    expect(await value({ metric: 'visits', filters: { utm_campaign: 'juillet' } })).toBe(1);
    expect(await value({ metric: 'pageviews', filters: { utm_source: 'newsletter' } })).toBe(1);
  });

  it('keeps each site’s visitors apart', async () => {
    expect(await value({ metric: 'visits', sites: ['b.example'] })).toBe(1);
    expect(await value({ metric: 'visits', sites: ['a.example', 'b.example'] })).toBe(6);
  });

  it('refuses entry and exit pages with a metric that is not about visits', async () => {
    await expect(day({ metric: 'pageviews', breakdown: 'entry_page' })).rejects.toBeInstanceOf(BaliseError);
    await expect(day({ metric: 'pageviews', filters: { exit_page: '/' } })).rejects.toThrow(
      /needs a visit metric/,
    );
  });
});
