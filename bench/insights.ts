// bench:insights — the insights engine (getSeries: model → SQL → gap-filled, compared rows)
// against a hand-written DuckDB query for the same numbers, on ~1M seeded demo rows in a real
// DuckDB file. Prints the median of 5 runs each and the ratio.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { DEMO_SEED_SITES } from '../src/demo/config.js';
import { seedDemo } from '../src/demo/seed.js';
import { getSeries } from '../src/insights/getSeries.js';
import { localToUtc, parseLocal } from '../src/insights/time.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';

const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const NOW = Date.UTC(2026, 10, 22, 12);
const dir = mkdtempSync(join(tmpdir(), 'balise-bench-insights-'));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function time(run: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  await run();
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await run();
    runs.push(performance.now() - start);
  }
  return median(runs);
}

try {
  const store = await DuckDBStore.open(join(dir, 'bench.duckdb'));
  await store.migrate();
  const config = parseConfig(
    {
      sites: [
        { host: 'localhost', group: 'news' },
        { host: 'www.quotidien-demo.fr', group: 'news' },
        { host: 'www.tele-demo.fr', group: 'tv' },
      ],
    },
    { env: {} },
  );
  const seeded = performance.now();
  const rows = await seedDemo(store, DEMO_SEED_SITES, {
    days: DAYS,
    timeZone: 'Europe/Paris',
    node: 'bench',
    now: NOW,
  });
  process.stdout.write(
    `bench:insights — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; ${rows} rows over ${DAYS} days seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s\n`,
  );

  const from = '2026-11-15';
  const to = '2026-11-22';
  const start = localToUtc(parseLocal(from)!, 'Europe/Paris');
  const end = localToUtc(parseLocal(to)!, 'Europe/Paris');
  const cases = [
    {
      name: 'hourly pageviews, group news, 7 days',
      ours: () =>
        getSeries(store, config, { group: 'news', metric: 'pageviews', interval: '1h', from, to }, NOW),
      hand: `SELECT date_trunc('hour', timezone('Europe/Paris', to_timestamp(epoch_ms(ts) / 1000.0))) AS h, count(*)
             FROM events WHERE site IN ('localhost', 'www.quotidien-demo.fr') AND type = 'pageview' AND NOT is_bot
               AND ts >= epoch_ms(${start}::BIGINT) AND ts < epoch_ms(${end}::BIGINT) GROUP BY 1 ORDER BY 1`,
    },
    {
      name: '… with previous_week',
      ours: () =>
        getSeries(
          store,
          config,
          { group: 'news', metric: 'pageviews', interval: '1h', from, to, compare: 'previous_week' },
          NOW,
        ),
      hand: `WITH cur AS (SELECT date_trunc('hour', timezone('Europe/Paris', to_timestamp(epoch_ms(ts) / 1000.0))) AS h, count(*) AS v
               FROM events WHERE site IN ('localhost', 'www.quotidien-demo.fr') AND type = 'pageview' AND NOT is_bot
               AND ts >= epoch_ms(${start - 7 * 86_400_000}::BIGINT) AND ts < epoch_ms(${end}::BIGINT) GROUP BY 1)
             SELECT a.h, a.v, b.v FROM cur a LEFT JOIN cur b ON b.h = a.h - INTERVAL 7 DAY
             WHERE a.h >= TIMESTAMP '2026-11-15' ORDER BY 1`,
    },
    {
      name: 'daily visitors by region (top 10), 90 days',
      ours: () =>
        getSeries(
          store,
          config,
          { group: 'news', metric: 'visitors', interval: '1d', last: '90d', breakdown: 'region', top: 10 },
          NOW,
        ),
      hand: `SELECT strftime(timezone('Europe/Paris', to_timestamp(epoch_ms(ts) / 1000.0)), '%Y-%m-%d') AS d, region, count(DISTINCT visitor_hash)
             FROM events WHERE site IN ('localhost', 'www.quotidien-demo.fr') AND NOT is_bot GROUP BY ALL`,
    },
  ];
  const ratios: number[] = [];
  for (const c of cases) {
    const ours = await time(c.ours);
    const hand = await time(() => store.query(c.hand));
    ratios.push(ours / hand);
    process.stdout.write(
      `${c.name.padEnd(44)} ours ${ours.toFixed(1).padStart(7)} ms   hand-written SQL ${hand.toFixed(1).padStart(7)} ms   ratio ${(ours / hand).toFixed(2)}×\n`,
    );
  }
  await store.close();
  process.stdout.write(
    `summary: insights queries take ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× the hand-written SQL on ${rows} rows\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
