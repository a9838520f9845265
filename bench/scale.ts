// bench:scale — the same synthetic traffic ingested into DuckDB and into ClickHouse (26.7, the test
// server of test/clickhouse/ on this machine), through the bulk path imports use (row CSV batches,
// `Store.appendCsv`, idempotent), then the dashboard's queries through the product's own path
// (getSeries: plan, SQL, gap-filling) on both, in the same run:
//   Q1 hourly series of a group of sites, 30 days, previous_week   (reads the hourly rollup)
//   Q2 a country breakdown, top 10, daily over 30 days             (reads the hourly rollup)
//   Q3 a path-prefix filter, hourly over 7 days                     (misses the rollup: raw events)
//   Q4 distinct visitors per day over 30 days                       (raw events: distinct hashes)
// BENCH_SCALE_ROWS events (default 20M) over 60 days, time-ordered as logs are; BENCH_RUNS runs
// per query (default 20) after a warm-up; prints rows/s per store and p50/p95 per query and store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { getSeries } from '../src/insights/getSeries.js';
import type { QueryInput } from '../src/insights/model.js';
import { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.js';
import { rowCsvLine } from '../src/store/csv.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow } from '../src/store/row.js';
import type { FileRows, Store } from '../src/store/store.js';
import { startClickHouse } from '../test/clickhouse/engine.js';

const ROWS = Number(process.env.BENCH_SCALE_ROWS ?? 20_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const BATCH = 100_000;
const DAYS = 60;
const FIRST = Date.UTC(2026, 8, 23, 22); // 24 Sept 2026 00:00 in Paris
const NOW = FIRST + DAYS * 86_400_000;
const SITES = Array.from({ length: 10 }, (_, i) => `site${i}.example`);
const COUNTRIES = ['FR', 'FR', 'FR', 'BE', 'CH', 'DE', 'US', 'CA', 'GB', 'ES', 'IT', 'NL'];
const DEVICES = ['desktop', 'mobile', 'mobile', 'tablet'];
const dir = mkdtempSync(join(tmpdir(), 'balise-bench-scale-'));
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!;
const print = (line: string) => void process.stdout.write(`${line}\n`);

/** Batch `b` of the dataset as a row CSV file and what its writer knows of it. */
function batchFile(b: number): { path: string; rows: FileRows; count: number } {
  const count = Math.min(BATCH, ROWS - b * BATCH);
  const span = (DAYS * 86_400_000) / ROWS;
  let text = '';
  const hours = new Set<number>();
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (let k = 0; k < count; k++) {
    const i = b * BATCH + k;
    const ts = Math.floor(FIRST + i * span);
    const h = (i * 2_654_435_761) >>> 0;
    hours.add(Math.floor(ts / 3_600_000));
    minTs = Math.min(minTs, ts);
    maxTs = Math.max(maxTs, ts);
    text += rowCsvLine(
      blankRow({
        id: deterministicId(ts, `scale:${i}`),
        ts,
        site: SITES[h % SITES.length]!,
        type: 'pageview',
        source: 'import',
        path: `/section-${h % 20}/article-${h % 5000}`,
        country: COUNTRIES[(h >>> 4) % COUNTRIES.length]!,
        deviceType: DEVICES[(h >>> 8) % DEVICES.length]!,
        browser: 'Chrome',
        os: 'Android',
        visitorHash: String((h >>> 3) % 400_000),
        node: 'bench',
      }),
    );
  }
  const path = join(dir, 'batch.csv');
  writeFileSync(path, text);
  return { path, rows: { minTs, maxTs, hours: [...hours] }, count };
}

const stores: { name: string; store: Store; seconds: number }[] = [];
const clickhouse = await startClickHouse();
try {
  const duck = await DuckDBStore.open(join(dir, 'scale.duckdb'));
  const click = ClickHouseStore.open({
    url: clickhouse.url,
    database: 'bench_scale',
    requestTimeoutMs: 600_000,
  });
  for (const store of [duck, click]) await store.migrate();
  stores.push({ name: 'DuckDB', store: duck, seconds: 0 }, { name: 'ClickHouse', store: click, seconds: 0 });
  print(
    `bench:scale — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${ROWS.toLocaleString('en-US')} events over ${DAYS} days, ${SITES.length} sites, in batches of ${BATCH.toLocaleString('en-US')}`,
  );
  const batches = Math.ceil(ROWS / BATCH);
  await duck.bulkLoad(async () => {
    for (let b = 0; b < batches; b++) {
      const file = batchFile(b);
      for (const entry of stores) {
        const start = performance.now();
        const { inserted } = await entry.store.appendCsv(file.path, file.rows);
        entry.seconds += (performance.now() - start) / 1000;
        if (inserted !== file.count)
          throw new Error(`${entry.name}: ${inserted} of ${file.count} rows inserted`);
      }
      if (b % 20 === 19 || b === batches - 1)
        process.stderr.write(
          `  ingested ${((b + 1) * BATCH).toLocaleString('en-US')} rows into each store\n`,
        );
    }
  });
  for (const entry of stores)
    print(
      `ingest ${entry.name.padEnd(10)} ${Math.round(ROWS / entry.seconds).toLocaleString('en-US')} rows/s (${entry.seconds.toFixed(1)} s)`,
    );
  const config = parseConfig(
    { sites: SITES.map((host, i) => ({ host, group: i < 5 ? 'news' : 'tv' })) },
    { env: {} },
  );
  const queries: [string, QueryInput][] = [
    [
      'Q1 hourly, group, 30 d, previous_week',
      {
        group: 'news',
        metric: 'pageviews',
        interval: '1h',
        from: '2026-10-24',
        to: '2026-11-23',
        compare: 'previous_week',
      },
    ],
    [
      'Q2 country breakdown, daily, 30 d',
      {
        group: 'news',
        metric: 'pageviews',
        interval: '1d',
        from: '2026-10-24',
        to: '2026-11-23',
        breakdown: 'country',
        top: 10,
      },
    ],
    [
      'Q3 path prefix (raw), hourly, 7 d',
      {
        sites: ['site1.example'],
        metric: 'pageviews',
        interval: '1h',
        from: '2026-11-16',
        to: '2026-11-23',
        filters: { path_prefix: '/section-1/' },
      },
    ],
    [
      'Q4 visitors (raw), daily, 30 d',
      { group: 'news', metric: 'visitors', interval: '1d', from: '2026-10-24', to: '2026-11-23' },
    ],
  ];
  print('query                                  store       plan     p50 ms   p95 ms');
  for (const [label, input] of queries) {
    const answers: string[] = [];
    for (const entry of stores) {
      const first = await getSeries(entry.store, config, input, NOW);
      answers.push(JSON.stringify(first.rows));
      const runs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        await getSeries(entry.store, config, input, NOW);
        runs.push(performance.now() - start);
      }
      print(
        `${label.padEnd(38)} ${entry.name.padEnd(11)} ${first.plan.padEnd(6)} ${quantile(runs, 0.5).toFixed(1).padStart(8)} ${quantile(runs, 0.95).toFixed(1).padStart(8)}`,
      );
    }
    if (answers[0] !== answers[1]) throw new Error(`${label}: DuckDB and ClickHouse answered differently`);
  }
  print('both stores gave the same rows for every query');
} finally {
  for (const entry of stores) await entry.store.close();
  await clickhouse.stop();
  rmSync(dir, { recursive: true, force: true });
}
