// A DuckDB store copied into ClickHouse with `balise store copy` (as a user moving to ClickHouse
// does), then the same questions asked of both: every insights query, detector and the report's
// numbers come out the same.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { runDetector } from '../../src/insights/detectors/run.js';
import { getSeries } from '../../src/insights/getSeries.js';
import type { QueryInput } from '../../src/insights/model.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import type { EventRow } from '../../src/store/row.js';
import type { Store } from '../../src/store/store.js';
import { rowsAt } from '../fixtures.js';
import { tempDir } from '../helpers.js';
import { freshDatabase } from '../stores.js';

const temp = tempDir();
const CLI = resolve('dist/cli/main.js');
const NOW = Date.UTC(2026, 10, 3);
const config = parseConfig(
  {
    sites: [
      { host: 'a.example', group: 'news' },
      { host: 'b.example', group: 'news', timezone: 'Europe/London' },
      { host: 'c.example', group: 'tv', timezone: 'Asia/Kolkata' },
    ],
  },
  { env: {} },
);

/** Six weeks of hourly traffic over three sites and many dimensions, across the October DST change. */
function dataset(): EventRow[] {
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const rows: EventRow[] = [];
  const start = Date.UTC(2026, 8, 20);
  for (let t = start; t < NOW; t += 20 * 60_000) {
    const isBot = random() < 0.1;
    rows.push(
      ...rowsAt(t + Math.floor(random() * 60_000), 1 + Math.floor(random() * 4), {
        site: pick(['a.example', 'b.example', 'c.example']),
        type: pick(['pageview', 'pageview', 'request', 'event']),
        path: pick(['/', '/news/1', '/news/2', '/live', null]),
        country: pick(['FR', 'DE', 'GB', null]),
        region: pick(['FR-IDF', 'FR-GES', null]),
        deviceType: isBot ? 'bot' : pick(['desktop', 'mobile', 'tablet']),
        browser: pick(['Chrome', 'Firefox', 'Safari']),
        os: pick(['Android', 'iOS', 'Windows', null]),
        referrerClass: pick(['search', 'social', 'direct', null]),
        node: pick(['paris-1', 'london-1']),
        isBot,
        visitorHash: String(Math.floor(random() * 500)),
      }),
    );
  }
  return rows;
}

let duck: DuckDBStore;
let click: Store;
const database = freshDatabase();
let copyOutput = '';
let againOutput = '';

function balise(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: temp.dir }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  const path = join(temp.dir, 'old.duckdb');
  const old = await DuckDBStore.open(path);
  await old.migrate();
  const rows = dataset();
  for (let i = 0; i < rows.length; i += 5_000) await old.append(rows.slice(i, i + 5_000));
  await old.appendEgress([
    {
      ts: NOW - 1000,
      site: 'a.example',
      tool: 'ga4',
      host: 'region1.google-analytics.com',
      path: '/g/collect',
      bytes: 120,
      sha256: 'ab'.repeat(32),
      policy: 'eu',
      outcome: 'sent',
      status: 204,
      reason: null,
      deliveryId: 'd1',
      deliveries: 1,
      fields: 'dl',
    },
  ]);
  await old.close();
  writeFileSync(
    join(temp.dir, 'balise.yaml'),
    `store: { kind: clickhouse, url: "${inject('clickhouseUrl')}", database: ${database}, spoolDir: ./spool }\nsites: [{ host: a.example }]\n`,
  );
  const copied = await balise(['store', 'copy', '--from', 'old.duckdb', '--config', 'balise.yaml']);
  expect(copied.stderr).toBe('');
  expect(copied.code).toBe(0);
  copyOutput = copied.stdout;
  // Run again (the DuckDB file opens in one process at a time: before this test opens it).
  againOutput = (await balise(['store', 'copy', '--from', 'old.duckdb', '--config', 'balise.yaml'])).stdout;
  duck = await DuckDBStore.open(path);
  click = ClickHouseStore.open({ url: inject('clickhouseUrl'), database });
}, 120_000);

afterAll(async () => {
  await duck?.close();
  await click?.close();
  temp.cleanup();
});

describe('balise store copy, then the same numbers on DuckDB and ClickHouse', () => {
  it('copies every event and the egress log, and a second run adds nothing', async () => {
    const [{ n }] = (await duck.query<{ n: number }>('SELECT count(*) AS n FROM events')) as [{ n: number }];
    expect(copyOutput).toContain(`copied ${n.toLocaleString('en-US')} events`);
    expect(copyOutput).toContain(`${n.toLocaleString('en-US')} new`);
    expect(copyOutput).toContain('1 egress records');
    const again = { stdout: againOutput };
    expect(again.stdout).toContain(': 0 new,');
    expect(again.stdout).toContain('0 egress records');
    expect(Number((await click.query<{ n: number }>('SELECT count() AS n FROM events'))[0]!.n)).toBe(n);
    expect(Number((await click.query<{ n: number }>('SELECT count() AS n FROM egress'))[0]!.n)).toBe(1);
  });

  const metrics = ['requests', 'pageviews', 'events', 'visitors', 'mobile_share', 'bot_share'] as const;
  const shapes: QueryInput[] = [
    { group: 'news', interval: '1h', from: '2026-10-22', to: '2026-10-29', compare: 'previous_week' },
    { group: 'news', interval: '1d', from: '2026-10-05', to: '2026-11-02', compare: 'previous_period' },
    { sites: ['c.example'], interval: '15m', from: '2026-10-30T10:00', to: '2026-10-30T16:00' },
    {
      sites: ['b.example'],
      interval: '1m',
      from: '2026-10-25T00:50',
      to: '2026-10-25T01:10',
      tz: 'Europe/London',
    },
    { sites: ['a.example'], interval: '1h', last: '48h', breakdown: 'country', top: 2 },
    { group: 'news', interval: '1d', from: '2026-10-19', to: '2026-11-02', breakdown: 'path', top: 3 },
    {
      sites: ['a.example', 'c.example'],
      interval: '1h',
      from: '2026-10-24',
      to: '2026-10-27',
      filters: { path_prefix: '/news' },
      compare: 'median_weeks:3',
    },
    {
      group: 'tv',
      interval: '1d',
      from: '2026-10-01',
      to: '2026-11-01',
      breakdown: 'os',
      filters: { node: 'paris-1' },
    },
  ];
  for (const shape of shapes) {
    for (const metric of metrics) {
      it(`${metric} ${JSON.stringify(shape)}`, async () => {
        const input = { ...shape, metric };
        const a = await getSeries(duck, config, input, NOW);
        const b = await getSeries(click, config, input, NOW);
        // ClickHouse keeps the rollup but not the embedded store's summaries: its rollup answers
        // what dims_hourly does, its events what the page summaries do.
        const expected = a.plan === 'dims_hourly' ? 'rollup' : a.plan.startsWith('pages_') ? 'raw' : a.plan;
        expect(b.plan).toBe(expected);
        expect(b.rows).toEqual(a.rows);
        // Not a comparison of two empty answers.
        if (shape.interval === '1h' || shape.interval === '1d')
          expect(a.rows.some((r) => (r.value ?? 0) !== 0)).toBe(true);
      });
    }
  }

  for (const detector of ['spikes', 'dips', 'anomalies', 'attacks', 'shifts', 'outages']) {
    it(`the ${detector} detector finds the same on both`, async () => {
      const input = {
        group: 'news',
        metric: 'pageviews',
        interval: '1h',
        from: '2026-10-26',
        to: '2026-11-02',
      };
      const a = await runDetector(duck, config, detector, input);
      const b = await runDetector(click, config, detector, input);
      expect(b).toEqual(a);
    });
  }
});
