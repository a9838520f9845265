// bench:insights — the insights API's query (hourly series, previous_week, 30 days, country
// breakdown) through the engine (model → SQL → gap-filled, compared rows), against hand-written
// SQL for the same numbers, in the same run, on BENCH_EVENTS (default 10M) events generated in a
// real DuckDB file. The engine reads the hourly rollup (its plan for this query); the hand-written
// SQL runs on the rollup too (the like-for-like ratio) and on the raw table (what the rollup saves).
// Prints the rollup build time, p50/p95 of BENCH_RUNS runs each and the ratios. Then the
// dashboard's whole first screen (every query the overview asks for a group over 30 days:
// cards, series, visits, ten ranked tables, spikes and dips), one after another as the store
// serialises them, p50/p95 of BENCH_SCREEN_RUNS (default 5) runs. One page view in four has a
// referrer host, one in twenty a campaign.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runDetector } from '../src/insights/detectors/run.js';
import { getSeries } from '../src/insights/getSeries.js';
import { goalsReport } from '../src/insights/goals.js';
import { topProperties } from '../src/insights/properties.js';
import { localToUtc, parseLocal } from '../src/time.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { emptyRow } from '../src/store/row.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DAYS = 60;
const FIRST = Date.UTC(2026, 8, 23, 22); // 24 Sept 2026 00:00 in Paris
const NOW = FIRST + DAYS * 86_400_000;
// BENCH_THREADS: DuckDB's threads (default: one per core; a gateway leaves one core to its event
// loop, docs/configuration.md).
// BENCH_DB names a database file to keep: generated on the first run, reused by the next ones
// (their live rounds add 3,000 events each).
const kept = process.env.BENCH_DB;
const dir = mkdtempSync(join(tmpdir(), 'balise-bench-insights-'));
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!;

async function time(run: () => Promise<unknown>): Promise<number[]> {
  await run();
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    runs.push(performance.now() - start);
  }
  return runs;
}

try {
  const reused = kept !== undefined && existsSync(kept);
  const threads = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined;
  const store = await DuckDBStore.open(kept ?? join(dir, 'bench.duckdb'), threads ? { threads } : {});
  await store.migrate();
  const generated = performance.now();
  if (!reused)
    // Deterministic synthetic traffic: two news sites, 8 countries, a daily shape from the hash;
    // 200,000 visitors whose hash changes at local midnight, as the daily salt makes it; stored in
    // time order, as a gateway writes them.
    await store.query(
      `INSERT INTO events
     SELECT uuid(), t,
            ['lequotidien.example', 'lhebdo.example'][(i % 2) + 1], 'pageview', NULL, '/article-' || (i % 500), NULL,
            CASE WHEN hash(i * 7) % 4 = 0 THEN ['www.google.com', 't.co', 'www.facebook.com', 'news.google.com', 'www.qwant.com'][((hash(i * 13) % 5) + 1)::BIGINT] END,
            CASE WHEN hash(i * 7) % 4 = 0 THEN ['search', 'social', 'social', 'search', 'search'][((hash(i * 13) % 5) + 1)::BIGINT] END,
            ['FR', 'FR', 'FR', 'BE', 'CH', 'DE', 'US', 'CA'][((hash(i * 3) % 8) + 1)::BIGINT],
            CASE WHEN hash(i * 3) % 8 < 3 THEN ['FR-IDF', 'FR-ARA', 'FR-NAQ', 'FR-OCC'][((hash(i * 29) % 4) + 1)::BIGINT] END, NULL,
            ['desktop', 'mobile', 'mobile', 'tablet'][((hash(i * 5) % 4) + 1)::BIGINT],
            ['Chrome', 'Chrome', 'Safari', 'Firefox', 'Edge'][((hash(i * 31) % 5) + 1)::BIGINT], 'Android', false,
            hash(i % 200000, CAST(timezone('Europe/Paris', to_timestamp(epoch_ms(t) / 1000.0)) AS DATE)) % 1000000,
            NULL, 'bench', NULL, NULL, 'import', NULL,
            CASE WHEN hash(i * 11) % 20 = 0 THEN ['newsletter', 'twitter', 'facebook'][((hash(i * 17) % 3) + 1)::BIGINT] END,
            NULL, CASE WHEN hash(i * 11) % 20 = 0 THEN 'campagne-' || (hash(i * 19) % 30) END, NULL, NULL, false, NULL
     FROM (SELECT i, epoch_ms(${FIRST}::BIGINT + (hash(i) % ${DAYS * 86_400_000}::UBIGINT)::BIGINT) AS t
           FROM range(${EVENTS}) r(i))
     ORDER BY t`,
    );
  const rolled = performance.now();
  if (!reused) await store.markAllDirty();
  const { hours } = await store.refreshRollups();
  const [rollupRows] = await store.query<{ n: number }>('SELECT count(*) AS n FROM events_hourly');
  const rollupSeconds = (performance.now() - rolled) / 1000;
  const built = performance.now();
  const zones = new Map([
    ['lequotidien.example', 'Europe/Paris'],
    ['lhebdo.example', 'Europe/Paris'],
  ]);
  const { days } = await store.refreshVisits(zones);
  const [visitRows] = await store.query<{ n: number }>('SELECT count(*) AS n FROM visits');
  const visitsSeconds = (performance.now() - built) / 1000;
  process.stdout.write(
    `bench:insights — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; ${EVENTS} events over ${DAYS} days generated in ${((performance.now() - generated) / 1000).toFixed(1)} s; ${RUNS} runs each after a warm-up\n` +
      `hourly rollup: ${hours} hours → ${rollupRows?.n} rows built in ${rollupSeconds.toFixed(1)} s\n` +
      `visits table: ${days} local days → ${visitRows?.n} visits built in ${visitsSeconds.toFixed(1)} s\n`,
  );
  const config = parseConfig(
    {
      sites: [
        { host: 'lequotidien.example', group: 'news' },
        { host: 'lhebdo.example', group: 'news' },
      ],
    },
    { env: {} },
  );
  const from = '2026-10-24';
  const to = '2026-11-23';
  const start = localToUtc(parseLocal(from)!, 'Europe/Paris');
  const end = localToUtc(parseLocal(to)!, 'Europe/Paris');
  const week = 7 * 86_400_000;
  // The same statement on each table: the raw one has a row per event, the rollup and the
  // summary a count `n` (the summary's country rows: dim 'country').
  const TABLES = {
    events: 'events',
    events_hourly: 'events_hourly',
    dims_hourly:
      "(SELECT ts, site, type, is_bot, value AS country, n FROM dims_hourly WHERE dim = 'country')",
  };
  const hand = (table: keyof typeof TABLES) => `
    WITH scoped AS (
      SELECT date_trunc('hour', timezone('Europe/Paris', to_timestamp(epoch_ms(ts) / 1000.0))) AS h, country,
             ${table === 'events' ? '1' : 'n'} AS n
      FROM ${TABLES[table]} WHERE site IN ('lequotidien.example', 'lhebdo.example') AND type = 'pageview' AND NOT is_bot
        AND ts >= epoch_ms(${start - week}::BIGINT) AND ts < epoch_ms(${end}::BIGINT)),
    top AS (SELECT country FROM scoped WHERE h >= TIMESTAMP '${from}' GROUP BY 1 ORDER BY sum(n) DESC LIMIT 10),
    counts AS (SELECT h, CASE WHEN country IN (SELECT country FROM top) THEN country ELSE '(other)' END AS c, sum(n) AS v FROM scoped GROUP BY ALL)
    SELECT a.h, a.c, a.v, b.v AS baseline, round(100.0 * (a.v - b.v) / b.v, 1) AS change
    FROM counts a LEFT JOIN counts b ON b.c = a.c AND b.h = a.h - INTERVAL 7 DAY
    WHERE a.h >= TIMESTAMP '${from}' ORDER BY 1, 2`;
  const engine = () =>
    getSeries(
      store,
      config,
      {
        group: 'news',
        metric: 'pageviews',
        interval: '1h',
        from,
        to,
        compare: 'previous_week',
        breakdown: 'country',
      },
      NOW,
    );
  const { plan } = await engine();
  // Like for like: the hand-written SQL on the table the engine reads, the two run in turns
  // (each run of one followed by one of the other), so that both meet the same state.
  const table = plan === 'rollup' ? 'events_hourly' : 'dims_hourly';
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    for (const [runs, run] of [
      [ours, engine],
      [theirs, () => store.query(hand(table))],
    ] as const) {
      const started = performance.now();
      await run();
      if (i > 0) runs.push(performance.now() - started);
    }
  }
  const theirsRollup = plan === 'rollup' ? theirs : await time(() => store.query(hand('events_hourly')));
  const theirsRaw = await time(() => store.query(hand('events')));
  const ratio = quantile(ours, 0.5) / quantile(theirs, 0.5);
  const line = (name: string, runs: number[]) =>
    `${name.padEnd(34)} p50 ${quantile(runs, 0.5).toFixed(0).padStart(6)} ms   p95 ${quantile(runs, 0.95).toFixed(0).padStart(6)} ms\n`;
  process.stdout.write(line(`engine (API query, plan ${plan})`, ours));
  process.stdout.write(line('hand-written SQL on the rollup', theirsRollup));
  process.stdout.write(line(`hand-written SQL on ${plan}`, theirs));
  process.stdout.write(line('hand-written SQL on raw events', theirsRaw));
  const screenRuns = Number(process.env.BENCH_SCREEN_RUNS ?? 5);
  const screen: number[] = [];
  const parts = new Map<string, number[]>();
  const range = { group: 'news', from, to };
  const part = async (name: string, run: () => Promise<unknown>) => {
    const started = performance.now();
    await run();
    parts.set(name, [...(parts.get(name) ?? []), performance.now() - started]);
  };
  // Exactly what the dashboard's overview asks for a group over 30 days (overview.ts): daily
  // buckets beyond 8 days, the previous week as comparison, eleven ranked tables (top 10), the
  // custom properties, the requests' total, spikes and dips.
  const series = (input: Record<string, unknown>) => () =>
    getSeries(store, config, { ...range, ...input }, NOW);
  const daily = { interval: '1d' };
  const compared = { ...daily, compare: 'previous_week' };
  for (let i = 0; i <= screenRuns; i++) {
    const started = performance.now();
    await part('pageviews, 1d, previous_week', series({ ...compared, metric: 'pageviews' }));
    await part('visitors, 1d', series({ ...daily, metric: 'visitors' }));
    await part('mobile share, 1d, previous_week', series({ ...compared, metric: 'mobile_share' }));
    for (const metric of ['visits', 'bounce_rate', 'visit_duration'])
      await part(`${metric}, 1d`, series({ ...daily, metric }));
    for (const [metric, breakdown] of [
      ['pageviews', 'path'],
      ['visits', 'entry_page'],
      ['visits', 'utm_source'],
      ['visits', 'utm_campaign'],
      ['pageviews', 'browser'],
      ['pageviews', 'os'],
      ['pageviews', 'screen_class'],
      ['pageviews', 'referrer_host'],
      ['pageviews', 'referrer_class'],
      ['pageviews', 'country'],
      ['pageviews', 'region'],
    ])
      await part(`top 10 ${breakdown} (${metric})`, series({ ...daily, metric, breakdown, top: 10 }));
    await part('custom properties', () => topProperties(store, config, range, NOW));
    await part('requests', series({ ...daily, metric: 'requests' }));
    for (const detector of ['spikes', 'dips'])
      await part(detector, () =>
        runDetector(store, config, detector, { ...range, ...compared, metric: 'pageviews', limit: 5 }),
      );
    // The first run warms up.
    if (i > 0) screen.push(performance.now() - started);
    else parts.clear();
  }
  for (const [name, runs] of [...parts].sort((a, b) => quantile(b[1], 0.5) - quantile(a[1], 0.5)))
    process.stdout.write(line(`  first screen: ${name}`, runs));
  // A site's overview adds its goals report (overview.ts): without goals (the site's visitors
  // and its orders), and with two page goals and a funnel of them.
  const goalsConfig = parseConfig(
    {
      sites: [
        {
          host: 'lequotidien.example',
          group: 'news',
          goals: [
            { name: 'Article 1…', path: '/article-1*' },
            { name: 'Article 2…', path: '/article-2*' },
          ],
          funnels: [{ name: 'One then two', steps: ['Article 1…', 'Article 2…'] }],
        },
        { host: 'lhebdo.example', group: 'news' },
      ],
    },
    { env: {} },
  );
  const goalsInput = { site: 'lequotidien.example', from, to };
  for (const [name, settings] of [
    ['goals report, no goal', config],
    ['goals report, two goals and a funnel', goalsConfig],
  ] as const) {
    const runs: number[] = [];
    for (let i = 0; i <= Math.min(screenRuns, 2); i++) {
      const started = performance.now();
      await goalsReport(store, settings, goalsInput, NOW);
      if (i > 0) runs.push(performance.now() - started);
    }
    process.stdout.write(line(`  site: ${name}`, runs));
  }
  // A live site: events keep arriving, and the next visit query brings the table up to date.
  // 1,000 events in the last hour of the range (500 visitors), then the refresh, three times.
  const refreshes: number[] = [];
  for (let round = 0; round < 3; round++) {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      ...emptyRow({
        id: randomUUID(),
        ts: NOW - 3_600_000 + ((i * 3_599 + round * 7) % 3_600_000),
        site: 'lequotidien.example',
        type: 'pageview',
        node: 'bench',
        status: null,
        bytes: null,
        source: 'browser',
      }),
      path: `/live-${i % 20}`,
      country: 'FR',
      deviceType: 'mobile',
      visitorHash: String(5_000_000 + (i % 500) + round * 500),
    }));
    await store.append(rows);
    const started = performance.now();
    await store.refreshVisits(zones);
    refreshes.push(performance.now() - started);
  }
  process.stdout.write(line('visits refresh after 1,000 events', refreshes));
  await store.close();
  process.stdout.write(
    `summary: the dashboard's first screen (group, 30 days, as the dashboard asks it) on ${EVENTS} events: p50 ${quantile(screen, 0.5).toFixed(0)} ms, p95 ${quantile(screen, 0.95).toFixed(0)} ms (goal ≤ 300 ms)\n`,
  );
  process.stdout.write(
    `summary: hourly previous_week series, 30 days, country breakdown on ${EVENTS} events: ratio ${ratio.toFixed(2)}× the same SQL on the table it reads, ${plan} (goal ≤ 1.2), ${(quantile(ours, 0.5) / quantile(theirsRaw, 0.5)).toFixed(2)}× the raw SQL, p95 ${quantile(ours, 0.95).toFixed(0)} ms (goal ≤ 150 ms)\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
