import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { buildReport, type ReportData } from '../src/report/build.js';
import { renderHtml, renderMarkdown } from '../src/report/render.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import { localToUtc, parseLocal } from '../src/time.js';
import { launchChromium, watchProblems } from './chromium.js';

// An election night as in insights.election.test.ts (Sunday 15 March 2026 against 8 March):
// Grand Est −19 % and Île-de-France −10 % at 20:00, a mobile peak at 21:00 — plus a request
// burst on a path carrying markup, and serving nodes that swap at 21:00. The report must show
// them all, as text only, in a file that runs no script and loads nothing.
const ARTIFACTS = resolve('artifacts', 'test');
const HOSTILE_PATH = '/"><img src=x onerror=alert(1)><script>alert(2)</script>';
const config = parseConfig(
  {
    sites: [
      { host: 'lequotidien.example', group: 'news' },
      { host: 'lhebdo.example', group: 'news' },
    ],
  },
  { env: {} },
);
let store: DuckDBStore;
let report: ReportData;
let n = 0;

function views(local: string, region: string, count: number, mobile: number, node: string): EventRow[] {
  const ts = localToUtc(parseLocal(local)!, 'Europe/Paris');
  return Array.from({ length: count }, (_, i) =>
    blankRow({
      id: deterministicId(ts, String(n++)),
      ts: ts + i * 1000,
      site: i % 2 ? 'lhebdo.example' : 'lequotidien.example',
      type: 'pageview',
      source: 'import',
      path: i % 3 ? '/resultats' : '/',
      country: 'FR',
      region,
      node,
      deviceType: i < mobile ? 'mobile' : 'desktop',
    }),
  );
}

beforeAll(async () => {
  store = await DuckDBStore.open(':memory:');
  await store.migrate();
  const table: [string, Record<string, [number, number]>, number][] = [
    ['19:00', { 'FR-IDF': [100, 100], 'FR-GES': [100, 100], 'FR-ARA': [100, 100] }, 0.4],
    ['20:00', { 'FR-IDF': [100, 90], 'FR-GES': [100, 81], 'FR-ARA': [100, 100] }, 0.45],
    ['21:00', { 'FR-IDF': [100, 120], 'FR-GES': [100, 110], 'FR-ARA': [100, 105] }, 0.6],
  ];
  const rows: EventRow[] = [];
  for (const [hour, regions, mobileShare] of table) {
    for (const [region, [before, night]] of Object.entries(regions)) {
      rows.push(...views(`2026-03-08T${hour}`, region, before, Math.round(before * 0.4), 'PAR'));
      const node = hour === '21:00' ? 'LHR' : 'PAR';
      rows.push(...views(`2026-03-15T${hour}`, region, night, Math.round(night * mobileShare), node));
    }
  }
  // 600 requests in 3 seconds on one path at 20:30.
  const burst = localToUtc(parseLocal('2026-03-15T20:30')!, 'Europe/Paris');
  for (let i = 0; i < 600; i++)
    rows.push(
      blankRow({
        id: deterministicId(burst, `burst${i}`),
        ts: burst + Math.floor(i / 200) * 1000,
        site: 'lequotidien.example',
        type: 'request',
        source: 'import',
        path: HOSTILE_PATH,
        isBot: true,
        deviceType: 'bot',
      }),
    );
  await store.append(rows);
  report = await buildReport(
    store,
    config,
    { group: 'news', from: '2026-03-15T18:00', to: '2026-03-15T23:00', metric: 'pageviews', hour: 20 },
    Date.UTC(2026, 2, 16),
  );
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(() => store.close());

describe('balise report', () => {
  it('builds the election-night table, spikes, mobile peaks, attacks and shifts', () => {
    expect(report.regions.time).toBe('2026-03-15T20:00:00+01:00');
    expect(report.regions.rows.map((r) => [r.label, r.value, r.baseline, r.change])).toEqual([
      ['Grand Est', 81, 100, -19],
      ['Île-de-France', 90, 100, -10],
      ['Auvergne-Rhône-Alpes', 100, 100, 0],
    ]);
    expect(report.total).toEqual({ value: 906, baseline: 900, change: 0.7 });
    expect(report.spikes[0]?.text).toBe(
      '#1 Sun 15 Mar 21:00 local, +11.7% vs the previous Sunday at the same time',
    );
    expect(report.dips[0]?.text).toBe(
      '#1 Sun 15 Mar 20:00 local, -9.7% vs the previous Sunday at the same time',
    );
    expect(report.mobilePeaks[0]).toMatchObject({ time: '2026-03-15T21:00:00+01:00', value: 60 });
    expect(report.attacks).toHaveLength(1);
    expect(report.attacks[0]!.text).toContain(HOSTILE_PATH);
    expect(report.shifts.map((s) => s.text).join('\n')).toContain('PAR');
  });

  it('adds GoAccess’s panels to a report on requests: bandwidth, status codes, paths answered 404', async () => {
    const logs = await DuckDBStore.open(':memory:');
    await logs.migrate();
    const request = (local: string, i: number, status: number, bytes: number, path = '/') => {
      const ts = localToUtc(parseLocal(local)!, 'Europe/Paris') + i * 1000;
      return blankRow({
        id: deterministicId(ts, `${local}${i}`),
        ts,
        site: 'lequotidien.example',
        type: 'request',
        source: 'import',
        path,
        status,
        bytes,
      });
    };
    await logs.append([
      ...Array.from({ length: 10 }, (_, i) => request('2026-03-15T19:00', i, 200, 2_000)),
      ...Array.from({ length: 3 }, (_, i) => request('2026-03-15T19:10', i, 404, 2_000, '/gone')),
      ...Array.from({ length: 5 }, (_, i) => request('2026-03-08T19:00', i, 200, 1_000)),
    ]);
    const onRequests = await buildReport(
      logs,
      config,
      { sites: ['lequotidien.example'], from: '2026-03-15T18:00', to: '2026-03-15T23:00' },
      Date.UTC(2026, 2, 16),
    );
    await logs.close();
    expect(onRequests.metric).toBe('requests');
    expect(onRequests.requests!.bandwidth).toEqual({ value: 26_000, baseline: 5_000, change: 420 });
    expect(onRequests.requests!.statuses.map((r) => [r.key, r.value])).toEqual([
      ['200', 10],
      ['404', 3],
    ]);
    expect(onRequests.requests!.notFound.map((r) => [r.key, r.value])).toEqual([['/gone', 3]]);
    expect(renderHtml(onRequests)).toContain('<strong>26.0 kB</strong> answered (+420%');
    expect(renderMarkdown(onRequests)).toContain('| 404 | 3 | 0 | — |');
    // A report on pageviews has none of them.
    expect(report.requests).toBeUndefined();
  });

  it('writes Markdown with every public value escaped', () => {
    const markdown = renderMarkdown(report);
    writeFileSync(join(ARTIFACTS, 'report.md'), markdown);
    expect(markdown).toContain('| Grand Est | FR-GES | 81 | 100 | −19% |');
    expect(markdown).not.toMatch(/(^|[^\\])<(img|script)/);
    expect(markdown).toContain('\\<img src=x onerror=alert(1)\\>');
  });

  it('opens in real Chromium with no console error, no script run, no request, and the table as text', async () => {
    const html = renderHtml(report);
    const file = join(ARTIFACTS, 'report.html');
    writeFileSync(file, html);
    const { browser, close } = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
      const problems = watchProblems(page);
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(file).href);
      await page.waitForLoadState('load');
      const text = await page.locator('main').innerText();
      expect(text).toContain('Grand Est');
      expect(text).toContain('−19%');
      expect(text).toContain(HOSTILE_PATH);
      expect(await page.locator('main img, main script').count()).toBe(0);
      expect(await page.locator('svg path').count()).toBeGreaterThanOrEqual(2);
      // The style is applied (allowed by its hash in the page's CSP), not blocked.
      const font = await page.evaluate('getComputedStyle(document.body).maxWidth');
      expect(font).toBe('960px');
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests).toEqual([pathToFileURL(file).href]);
    } finally {
      await close();
    }
  });
});
