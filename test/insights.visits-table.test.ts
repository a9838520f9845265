import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { getSeries, type SeriesResult } from '../src/insights/getSeries.js';
import type { QueryInput } from '../src/insights/model.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import type { EventRow } from '../src/store/row.js';
import { localDayRanges } from '../src/store/visits.js';
import { localParts, localToUtc } from '../src/time.js';
import { generator, pick, rowsAt } from './fixtures.js';

// The embedded store keeps a visits table (one row per visit, rebuilt by local day from the
// events): every visit query below runs twice — as planned (the table) and forced onto the raw
// events (visits numbered at the query) — and the answers must be equal to the last digit, on
// data whose visitor hashes change at each site's local midnight as real ones do (the salt).

const SITES = [
  { host: 'a.example', group: 'news' },
  { host: 'c.example', group: 'tv', timezone: 'America/New_York' },
  { host: 'k.example', group: 'tv', timezone: 'Asia/Kolkata' },
];
const config = parseConfig({ sites: SITES }, { env: {} });
const zoneOf = (host: string) => config.sites.find((s) => s.host === host)!.timezone;
const NOW = Date.UTC(2026, 10, 2);

/** The visitor hash of `visitor` on `site` at `ts`: a new one each local day of the site. */
function hashOf(site: string, visitor: number, ts: number): string {
  const p = localParts(ts, zoneOf(site));
  return String(visitor * 100_000 + (p.month * 31 + p.day) * 10 + SITES.findIndex((s) => s.host === site));
}

/**
 * About 6,000 events of 300 visitors over the six days around the end of summer time (25
 * October 2026 in Paris, 1 November in New York): runs of events a few minutes apart, some gaps
 * over 30 minutes, campaigns on some first pages, imported requests, bots and hash-less events.
 */
function dataset(): EventRow[] {
  const random = generator(7);
  const rows: EventRow[] = [];
  for (let visitor = 1; visitor <= 300; visitor++) {
    const site = pick(random, SITES).host;
    const profile = {
      site,
      country: pick(random, ['FR', 'FR', 'BE', 'DE', null]),
      region: pick(random, ['FR-IDF', 'FR-GES', null]),
      deviceType: pick(random, ['desktop', 'mobile', 'mobile', 'tablet']),
      browser: pick(random, ['Chrome', 'Firefox', 'Safari']),
      os: pick(random, ['Android', 'Windows', 'iOS']),
    };
    let ts = Date.UTC(2026, 9, 22) + Math.floor(random() * 9 * 86_400_000);
    const events = 5 + Math.floor(random() * 30);
    for (let i = 0; i < events; i++) {
      const gap = random();
      // Mostly a few minutes; sometimes just over or under the 30 minutes; sometimes hours.
      ts +=
        gap < 0.7
          ? Math.floor(random() * 600_000)
          : gap < 0.8
            ? 1_800_000 + pick(random, [-1, 0, 1, 60_000])
            : Math.floor(random() * 20 * 3_600_000);
      const imported = random() < 0.1;
      rows.push(
        ...rowsAt(ts, 1, {
          ...profile,
          visitorHash: hashOf(site, visitor, ts),
          type: imported ? 'request' : pick(random, ['pageview', 'pageview', 'pageview', 'event']),
          source: imported ? 'import' : 'browser',
          name: pick(random, [null, 'signup']),
          path: pick(random, ['/', '/a', '/b', '/live']),
          referrerClass: pick(random, [null, 'search', 'social']),
          referrerHost: pick(random, [null, 'www.google.com']),
          utmSource: random() < 0.2 ? pick(random, ['newsletter', 'twitter']) : null,
          utmCampaign: random() < 0.1 ? 'automne' : null,
        }),
      );
    }
  }
  // Bots and hash-less events never make visits.
  for (let i = 0; i < 200; i++) {
    const ts = Date.UTC(2026, 9, 22) + Math.floor(random() * 9 * 86_400_000);
    rows.push(
      ...rowsAt(ts, 1, {
        site: pick(random, SITES).host,
        isBot: i % 2 === 0,
        deviceType: i % 2 === 0 ? 'bot' : 'desktop',
        visitorHash: i % 2 === 0 ? String(9_000_000 + i) : null,
      }),
    );
  }
  return rows;
}

/** Query shapes: sites, range, interval, zone, filters, breakdown. */
const SHAPES: Partial<QueryInput>[] = [
  { sites: ['a.example'], interval: '1d' },
  { sites: ['a.example'], interval: '1h' },
  { sites: ['a.example'], interval: '15m', from: '2026-10-25', to: '2026-10-26' },
  { sites: ['a.example'], interval: '1d', tz: 'UTC' },
  { sites: ['c.example'], interval: '1d' },
  { sites: ['k.example'], interval: '1d' },
  { sites: ['k.example'], interval: '1h', tz: 'Europe/Paris' },
  { group: 'tv', interval: '1d' },
  { sites: ['a.example', 'c.example', 'k.example'], interval: '1d', tz: 'Europe/Paris' },
  { sites: ['a.example'], interval: '1d', breakdown: 'country' },
  { sites: ['a.example'], interval: '1d', breakdown: 'device_type', filters: { country: 'FR' } },
  { sites: ['c.example'], interval: '1h', breakdown: 'utm_source' },
  { sites: ['a.example'], interval: '1d', breakdown: 'referrer_host' },
  { sites: ['a.example'], interval: '1d', filters: { utm_campaign: 'automne' } },
  { sites: ['a.example'], interval: '1d', filters: { path: '/live' } },
  { sites: ['k.example'], interval: '1d', filters: { name: 'signup', browser: 'Firefox' } },
  { sites: ['a.example'], interval: '1d', compare: 'previous_period' },
  // Ten times 24 hours back from a local midnight, across the end of summer time: 01:00 local.
  { sites: ['a.example'], interval: '1d', last: '10d', from: undefined, to: undefined },
];
const VISIT_ONLY: Partial<QueryInput>[] = [
  { sites: ['a.example'], interval: '1d', breakdown: 'entry_page' },
  { sites: ['k.example'], interval: '1h', breakdown: 'exit_page', filters: { device_type: 'mobile' } },
  { sites: ['a.example'], interval: '1d', filters: { exit_page: '/b', entry_page: '/' } },
  // A half-hour zone's days: its daily twins are made from its visits, not summed hours.
  { sites: ['k.example'], interval: '1d', breakdown: 'entry_page' },
];
const METRICS = ['visits', 'bounce_rate', 'visit_duration', 'views_per_visit', 'visitors'] as const;

describe('the visits table (DuckDB)', () => {
  let store: DuckDBStore;
  const ask = (input: Partial<QueryInput>, options = {}, settings = config): Promise<SeriesResult> =>
    getSeries(store, settings, { from: '2026-10-22', to: '2026-10-31', ...input }, NOW, options);
  /** Asks as planned and from the raw events; returns the plan after checking the rows agree. */
  async function same(input: Partial<QueryInput>, settings = config): Promise<string> {
    const planned = await ask(input, {}, settings);
    const raw = await ask(input, { plan: 'raw' }, settings);
    expect(planned.rows, JSON.stringify(input)).toEqual(raw.rows);
    return planned.plan;
  }

  beforeAll(async () => {
    store = await DuckDBStore.open(':memory:');
    await store.migrate();
    await store.append(dataset());
  });
  afterAll(() => store.close());

  it('gives the numbers of visits computed from the events, for every metric and query shape', async () => {
    const plans = new Map<string, number>();
    for (const metric of METRICS) {
      const shapes = metric === 'visitors' ? SHAPES : [...SHAPES, ...VISIT_ONLY];
      for (const shape of shapes) {
        const plan = await same({ ...shape, metric });
        plans.set(plan, (plans.get(plan) ?? 0) + 1);
      }
    }
    // Most of them read the table or its summaries: the others have a filter on any event, or
    // ask visitors outside one zone's days.
    expect(plans.get('visits_hourly')).toBeGreaterThan(15);
    expect(plans.get('visitors_daily')).toBeGreaterThan(2);
    expect(plans.get('visits')).toBeGreaterThan(20);
    expect(plans.get('raw')).toBeGreaterThan(10);
  });

  it('reads visits from the table or its summaries when it can, and from the events when a filter is on any event', async () => {
    const visits: Partial<QueryInput> = { sites: ['a.example'], metric: 'visits', interval: '1d' };
    expect((await ask(visits)).plan).toBe('visits_hourly');
    expect(
      (await ask({ ...visits, breakdown: 'utm_campaign', filters: { utm_campaign: 'automne' } })).plan,
    ).toBe('visits_hourly');
    // By page: the daily twin over whole days of the site's zone, else the hourly summary.
    expect((await ask({ ...visits, breakdown: 'entry_page' })).plan).toBe('visit_pages_daily');
    expect((await ask({ ...visits, breakdown: 'exit_page', tz: 'UTC' })).plan).toBe('visit_pages_hourly');
    expect((await ask({ ...visits, breakdown: 'entry_page', interval: '1h' })).plan).toBe(
      'visit_pages_hourly',
    );
    // Page views by page, a half-hour zone's days and a whole-hour zone's: the daily twin.
    for (const site of ['k.example', 'a.example'])
      for (const breakdown of ['path', 'referrer_host'] as const)
        expect(await same({ sites: [site], metric: 'pageviews', interval: '1d', breakdown })).toBe(
          'pages_daily',
        );
    // Two visit dimensions at once, or a half-hour zone: the visits themselves.
    const byPath: Partial<QueryInput> = { ...visits, breakdown: 'path' };
    expect((await ask(byPath)).plan).toBe('visits');
    expect((await ask({ ...visits, breakdown: 'country', filters: { device_type: 'mobile' } })).plan).toBe(
      'visits',
    );
    expect((await ask({ ...visits, sites: ['k.example'] })).plan).toBe('visits');
    const anyEvent: Partial<QueryInput> = { sites: ['a.example'], metric: 'visits', filters: { path: '/a' } };
    expect((await ask({ ...anyEvent, interval: '1d' })).plan).toBe('raw');
    const visitors: Partial<QueryInput> = { sites: ['a.example'], metric: 'visitors' };
    expect((await ask({ ...visitors, interval: '1d' })).plan).toBe('visitors_daily');
    expect((await ask({ ...visitors, interval: '1d', tz: 'UTC' })).plan).toBe('raw');
    expect((await ask({ ...visitors, interval: '1h' })).plan).toBe('raw');
    // The summaries and the table really answer: rows deleted behind the store's back are missing.
    const total = (result: SeriesResult) => result.rows.reduce((sum, row) => sum + Number(row.value), 0);
    const before = await ask(visits);
    const beforeByPath = await ask(byPath);
    const beforeVisitors = await ask({ ...visitors, interval: '1d' });
    const early = "site = 'a.example' AND ts < TIMESTAMP '2026-10-24 12:00'";
    for (const table of ['visits', 'visits_hourly', 'visitors_daily'])
      await store.query(`DELETE FROM ${table} WHERE ${early}`);
    expect(total(before)).toBeGreaterThan(50);
    expect(total(await ask(visits))).toBeLessThan(total(before) - 10);
    expect(total(await ask(byPath))).toBeLessThan(total(beforeByPath) - 10);
    expect(total(await ask({ ...visitors, interval: '1d' }))).toBeLessThan(total(beforeVisitors) - 10);
    await store.markAllDirty();
    expect((await ask(visits)).rows).toEqual(before.rows);
    expect((await ask(byPath)).rows).toEqual(beforeByPath.rows);
    expect((await ask({ ...visitors, interval: '1d' })).rows).toEqual(beforeVisitors.rows);
  });

  it('catches up with events written after it was built: a late event joins two visits into one', async () => {
    const at = localToUtc({ year: 2026, month: 10, day: 27, hour: 10, minute: 0, second: 0 }, 'Europe/Paris');
    const visitor = { site: 'a.example', visitorHash: hashOf('a.example', 5_000, at), deviceType: 'mobile' };
    await store.append([...rowsAt(at, 1, visitor), ...rowsAt(at + 50 * 60_000, 1, visitor)]);
    const query: Partial<QueryInput> = {
      sites: ['a.example'],
      metric: 'visits',
      interval: '1d',
      from: '2026-10-27',
      to: '2026-10-28',
    };
    const two = (await ask(query)).rows[0]!.value as number;
    await same(query);
    await store.append(rowsAt(at + 25 * 60_000, 1, visitor));
    expect((await ask(query)).rows[0]!.value).toBe(two - 1);
    expect(await same({ ...query, metric: 'visit_duration' })).toBe('visits_hourly');
    expect(await same({ ...query, metric: 'visitors' })).toBe('visitors_daily');
    expect(await same({ ...query, breakdown: 'path' })).toBe('visits');
    expect(await same({ ...query, breakdown: 'entry_page' })).toBe('visit_pages_daily');
  });

  it('forgets the visits of events deleted behind the store’s back once told (markAllDirty)', async () => {
    const query: Partial<QueryInput> = { sites: ['k.example'], metric: 'visits', interval: '1d' };
    const before = await ask(query);
    const [one] = await store.query<{ h: string }>(
      "SELECT CAST(visitor_hash AS VARCHAR) AS h FROM visits WHERE site = 'k.example' ORDER BY ts LIMIT 1",
    );
    await store.query(`DELETE FROM events WHERE site = 'k.example' AND visitor_hash = ${BigInt(one!.h)}`);
    await store.markAllDirty();
    const after = await ask(query);
    const total = (result: SeriesResult) => result.rows.reduce((sum, row) => sum + Number(row.value), 0);
    expect(total(after)).toBeLessThan(total(before));
    await same(query);
  });

  it('forgets visits with the events retention deletes, and rebuilds the day the cutoff falls in', async () => {
    const cutoff = localToUtc(
      { year: 2026, month: 10, day: 24, hour: 15, minute: 0, second: 0 },
      'Europe/Paris',
    );
    await store.purgeBefore(cutoff);
    const [old] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM visits WHERE ts < epoch_ms(${cutoff}::BIGINT)`,
    );
    for (const metric of METRICS) await same({ sites: ['a.example'], metric, interval: '1d' });
    await same({
      sites: ['a.example'],
      metric: 'visits',
      interval: '1h',
      from: '2026-10-24',
      to: '2026-10-25',
    });
    expect(Number(old!.n)).toBe(0);
  });

  it('rebuilds every day of a site whose time zone changed', async () => {
    const moved = parseConfig(
      { sites: SITES.map((s) => (s.host === 'c.example' ? { ...s, timezone: 'America/Chicago' } : s)) },
      { env: {} },
    );
    const zones = new Map(moved.sites.map((s) => [s.host, s.timezone]));
    const { days } = await store.refreshVisits(zones);
    expect(days).toBeGreaterThanOrEqual(9);
    const [row] = await store.query<{ tz: string }>("SELECT tz FROM visit_zones WHERE site = 'c.example'");
    expect(row!.tz).toBe('America/Chicago');
    // Nothing written since: the next refresh has nothing to do.
    expect((await store.refreshVisits(zones)).days).toBe(0);
    // Its summaries follow the new zone's days (the data's hashes still follow New York's, so
    // the numbers are not those of the events: the table's own, summed).
    const [sums] = await store.query<{ visits: number; summed: number }>(
      `SELECT (SELECT count(*) FROM visits WHERE site = 'c.example') AS visits,
              (SELECT sum(visits) FROM visits_hourly WHERE site = 'c.example' AND dim = '') AS summed`,
    );
    expect(Number(sums!.summed)).toBe(Number(sums!.visits));
    const starts = await store.query<{ ms: number }>(
      "SELECT epoch_ms(ts) AS ms FROM visitors_daily WHERE site = 'c.example'",
    );
    expect(starts.length).toBeGreaterThanOrEqual(9);
    for (const { ms } of starts)
      expect(localParts(Number(ms), 'America/Chicago')).toMatchObject({ hour: 0, minute: 0 });
  });
});

describe('the visits table while events arrive', () => {
  it('builds a day at a time, events written in between, and then holds them too', async () => {
    const fresh = await DuckDBStore.open(':memory:');
    await fresh.migrate();
    await fresh.append(dataset());
    const zones = new Map(config.sites.map((s) => [s.host, s.timezone]));
    const order: string[] = [];
    const building = fresh.refreshVisits(zones).then((result) => {
      order.push('built');
      return result;
    });
    const late = rowsAt(Date.UTC(2026, 9, 25, 12), 1, {
      site: 'a.example',
      visitorHash: hashOf('a.example', 9_999, Date.UTC(2026, 9, 25, 12)),
    });
    const writing = fresh.append(late).then(() => order.push('written'));
    const [{ days }] = await Promise.all([building, writing]);
    expect(days).toBeGreaterThan(9);
    expect(order).toEqual(['written', 'built']);
    // The event written during the build is in the next answer.
    const ask = (plan: 'auto' | 'raw') =>
      getSeries(
        fresh,
        config,
        { sites: ['a.example'], metric: 'visits', interval: '1d', from: '2026-10-22', to: '2026-10-31' },
        NOW,
        { plan },
      );
    const planned = await ask('auto');
    expect(planned.plan).toBe('visits_hourly');
    expect(planned.rows).toEqual((await ask('raw')).rows);
    await fresh.close();
  });
});

describe('localDayRanges', () => {
  const hour = (iso: string) => Date.parse(iso) / 3_600_000;
  it('names the local days holding the hours, adjacent days merged, across a change of time', () => {
    // 25 October 2026 in Paris lasts 25 hours (22:00 UTC on the 24th to 23:00 UTC on the 25th).
    const ranges = localDayRanges([hour('2026-10-24T23:00Z'), hour('2026-10-25T22:00Z')], 'Europe/Paris');
    expect(ranges).toEqual([[Date.parse('2026-10-24T22:00Z'), Date.parse('2026-10-25T23:00Z')]]);
    const apart = localDayRanges([hour('2026-10-20T10:00Z'), hour('2026-10-25T10:00Z')], 'Europe/Paris');
    expect(apart.map(([start, end]) => (end - start) / 3_600_000)).toEqual([24, 25]);
  });

  it('takes both days of an hour that local midnight cuts in two (UTC+05:30)', () => {
    // 18:00–19:00 UTC holds 23:30 on the 24th and 00:30 on the 25th in Kolkata.
    const ranges = localDayRanges([hour('2026-10-24T18:00Z')], 'Asia/Kolkata');
    expect(ranges).toEqual([[Date.parse('2026-10-23T18:30Z'), Date.parse('2026-10-25T18:30Z')]]);
  });
});
