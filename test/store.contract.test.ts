// The Store contract, on every store kind of the run (test/stores.ts): what the writer, the
// importer, the visitor hash, the egress log and retention rely on, with the same expectations.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { getSeries } from '../src/insights/getSeries.js';
import { rowCsvLine } from '../src/store/csv.js';
import { SqlWriter } from '../src/store/dialect.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import { spoolLine } from '../src/store/spool.js';
import { UnreadableFile, type FileRows, type Store } from '../src/store/store.js';
import { queryEgress } from '../src/tools/egress-query.js';
import { tempDir } from './helpers.js';
import { openTestStore, storeKinds } from './stores.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

function row(n: number, ts = Date.UTC(2026, 10, 22, 12, 0, n)): EventRow {
  return blankRow({
    id: deterministicId(ts, `contract-${n}`),
    ts,
    site: 'www.example.fr',
    type: 'pageview',
    source: 'browser',
    path: `/p/${n}`,
    country: 'FR',
    region: 'FR-IDF',
    asn: 3215,
    deviceType: 'mobile',
    browser: 'Chrome',
    os: 'Android',
    visitorHash: '18446744073709551615',
    sessionHash: '1',
    node: 'n1',
    status: 200,
    bytes: 5120,
    props: '{"a":1}',
  });
}

// Rows every text of which needs care: quotes, commas, line breaks, the empty string, non-ASCII, NULLs.
const TRICKY: EventRow[] = [
  row(10),
  {
    ...row(11),
    path: '/a,b"c\nd\re',
    title: '',
    name: 'say "hi", then\r\nleave',
    props: '{"q":"a,\\"b\\""}',
  },
  { ...row(12), title: 'Élysée — 東京 🎉', referrerHost: 'news.example', referrerClass: 'news', isBot: true },
  {
    ...row(14),
    utmSource: 'newsletter',
    utmMedium: 'e,mail',
    utmCampaign: 'l"été',
    utmTerm: '',
    utmContent: 'bas de page',
    paid: true,
    screenClass: 'laptop',
  },
  {
    ...row(13, Date.UTC(2026, 10, 22, 14, 59, 59)),
    region: null,
    asn: null,
    visitorHash: null,
    status: null,
    bytes: null,
    node: null,
    props: null,
  },
];

function fileRows(rows: readonly EventRow[]): FileRows {
  return {
    minTs: Math.min(...rows.map((r) => r.ts)),
    maxTs: Math.max(...rows.map((r) => r.ts)),
    hours: [...new Set(rows.map((r) => Math.floor(r.ts / 3_600_000)))],
  };
}

/** Every stored row in a form both stores print alike (times as epoch ms, 64-bit hashes as text). */
async function stored(store: Store): Promise<Record<string, unknown>[]> {
  const sql = new SqlWriter(store.dialect);
  return store.query(
    `SELECT ${sql.text('id')} AS id, ${sql.ms('ts')} AS ts, site, type, name, path, title, referrer_host,
       referrer_class, country, region, asn, device_type, browser, os, is_bot,
       ${sql.text('visitor_hash')} AS visitor_hash, ${sql.text('session_hash')} AS session_hash, node, status,
       bytes, source, props, utm_source, utm_medium, utm_campaign, utm_term, utm_content, paid
     FROM events ORDER BY id`,
  );
}

const count = async (store: Store, table = 'events') =>
  Number((await store.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

const config = parseConfig({ sites: [{ host: 'www.example.fr' }] }, { env: {} });

describe.each(storeKinds())('the store contract on %s', (kind) => {
  it('migrates twice (two gateways starting together) and starts empty', async () => {
    const store = await openTestStore(kind, temp.dir);
    await store.migrate();
    expect(await count(store)).toBe(0);
    expect(await store.importLineIds()).toBe('xxh64');
    await store.close();
  });

  it('is idempotent on the event id, within a batch and across batches', async () => {
    const store = await openTestStore(kind, temp.dir);
    expect((await store.append([row(1), row(1), row(2)])).inserted).toBe(2);
    expect((await store.append([row(2), row(3)])).inserted).toBe(1);
    expect(await count(store)).toBe(3);
    await store.close();
  });

  it('stores the same rows through append, a spool segment and a row CSV file, each exactly once', async () => {
    const viaAppend = await openTestStore(kind, temp.dir);
    const viaSpool = await openTestStore(kind, temp.dir);
    const viaCsv = await openTestStore(kind, temp.dir);
    await viaAppend.append(TRICKY);
    const segment = join(temp.dir, `${kind}-segment.jsonl`);
    writeFileSync(segment, TRICKY.map((r) => `${spoolLine(r)}\n`).join(''));
    const csv = join(temp.dir, `${kind}-rows.csv`);
    writeFileSync(csv, TRICKY.map(rowCsvLine).join(''));
    // A segment replayed after a crash (no FileRows) and one written by this process (with them).
    expect(await viaSpool.appendJsonLines(segment)).toEqual({ inserted: TRICKY.length });
    expect(await viaSpool.appendJsonLines(segment, fileRows(TRICKY))).toEqual({ inserted: 0 });
    expect(await viaCsv.appendCsv(csv, fileRows(TRICKY))).toEqual({ inserted: TRICKY.length });
    expect(await viaCsv.appendCsv(csv, fileRows(TRICKY))).toEqual({ inserted: 0 });
    const expected = await stored(viaAppend);
    expect(expected).toHaveLength(TRICKY.length);
    expect(expected.find((r) => r.title === '')).toBeDefined();
    expect(expected.find((r) => r.visitor_hash === '18446744073709551615')).toBeDefined();
    expect(expected.find((r) => r.path === '/a,b"c\nd\re')).toBeDefined();
    expect(expected.find((r) => r.utm_campaign === 'l"été')).toMatchObject({
      utm_medium: 'e,mail',
      utm_term: '',
      paid: true,
    });
    expect(await stored(viaSpool)).toEqual(expected);
    expect(await stored(viaCsv)).toEqual(expected);
    // The hourly rollup holds the same counts, in the same hours, whichever way the rows came.
    const hours = {
      sites: ['www.example.fr'],
      metric: 'events',
      interval: '1h',
      from: '2026-11-22T12:00',
      to: '2026-11-22T16:00',
      tz: 'UTC',
    } as const;
    const now = Date.UTC(2026, 11, 1);
    for (const store of [viaAppend, viaSpool, viaCsv]) {
      const series = await getSeries(store, config, hours, now);
      // The embedded store's one-dimension summary, kept with its rollup; ClickHouse's rollup.
      expect(series.plan).toBe(kind === 'duckdb' ? 'dims_hourly' : 'rollup');
      expect(series.rows.map((r) => r.value)).toEqual([4, 0, 1, 0]);
    }
    for (const store of [viaAppend, viaSpool, viaCsv]) await store.close();
  });

  it('refuses a segment with a line it cannot read as a whole (UnreadableFile), inserting none of it', async () => {
    const store = await openTestStore(kind, temp.dir);
    const segment = join(temp.dir, `${kind}-bad.jsonl`);
    writeFileSync(
      segment,
      `${spoolLine(row(20))}\n{"id":"not a uuid","ts":"yesterday"}\n${spoolLine(row(21))}\n`,
    );
    await expect(store.appendJsonLines(segment)).rejects.toBeInstanceOf(UnreadableFile);
    expect(await count(store)).toBe(0);
    await store.close();
  });

  it('gives every call the same salt for a day, and drops old days', async () => {
    const first = await openTestStore(kind, temp.dir);
    const a = await first.ensureSalt('2026-11-21', '2026-11-20');
    expect(a).toHaveLength(32);
    expect((await first.ensureSalt('2026-11-21', '2026-11-20')).equals(a)).toBe(true);
    const b = await first.ensureSalt('2026-11-22', '2026-11-21');
    expect(b.equals(a)).toBe(false);
    expect(await count(first, 'salts')).toBe(2);
    await first.ensureSalt('2026-11-23', '2026-11-22');
    expect(await count(first, 'salts')).toBe(2);
    await first.close();
  });

  it('keeps the egress log and reads it back newest first, filtered', async () => {
    const store = await openTestStore(kind, temp.dir);
    const now = Date.UTC(2026, 10, 22, 12);
    const record = (i: number, outcome: 'sent' | 'blocked') => ({
      ts: now - i * 1000,
      site: 'www.example.fr',
      tool: i % 2 ? 'ga4' : 'hook',
      host: 'region1.google-analytics.com',
      path: '/g/collect',
      bytes: 100 + i,
      sha256: 'ab'.repeat(32),
      policy: 'eu',
      outcome,
      status: outcome === 'sent' ? 204 : null,
      reason: outcome === 'blocked' ? 'pii' : null,
      deliveryId: `d${i}`,
      deliveries: 1,
      fields: 'dl,dt',
    });
    await store.appendEgress([record(1, 'sent'), record(2, 'blocked'), record(3, 'sent')]);
    const all = await queryEgress(store, { since: '1h' }, now);
    expect(all.map((r) => r.delivery)).toEqual(['d1', 'd2', 'd3']);
    expect(all[0]).toMatchObject({
      time: new Date(now - 1000).toISOString(),
      tool: 'ga4',
      status: 204,
      fields: 'dl,dt',
    });
    const blocked = await queryEgress(store, { since: '1h', outcome: 'blocked' }, now);
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({ reason: 'pii', status: null });
    await store.close();
  });

  it('keeps an egress record’s texts as they came: quotes, line breaks, non-ASCII; a lone surrogate as U+FFFD', async () => {
    const store = await openTestStore(kind, temp.dir);
    const now = Date.UTC(2026, 10, 22, 12);
    const reason = 'refused: "quoted", back\\slash,\nline two — été 🎉 {"json": [1]}';
    await store.appendEgress([
      {
        ts: now - 1000.75,
        site: 'www.example.fr',
        tool: 'hook',
        host: 'hooks.example.eu',
        path: '/in/été',
        bytes: 0,
        sha256: 'cd'.repeat(32),
        policy: 'eu',
        outcome: 'dead',
        status: 500,
        reason,
        deliveryId: 'x1',
        deliveries: 3,
      },
      {
        ts: now - 2000,
        site: 'www.example.fr',
        tool: 'hook',
        host: 'hooks.example.eu',
        path: '/in',
        bytes: 10,
        sha256: 'ef'.repeat(32),
        policy: 'eu',
        outcome: 'retry',
        status: null,
        reason: `cut \ud83d here`,
        deliveryId: 'x2',
        deliveries: 1,
        fields: null,
      },
    ]);
    const all = await queryEgress(store, { since: '1h' }, now);
    expect(all.map((r) => r.delivery)).toEqual(['x1', 'x2']);
    expect(all[0]).toMatchObject({ path: '/in/été', reason, status: 500, deliveries: 3, fields: null });
    expect(all[0]!.time).toBe(new Date(now - 1001).toISOString());
    expect(all[1]).toMatchObject({ reason: 'cut \ufffd here', status: null, bytes: 10 });
    await store.close();
  });

  it('purges what is older than the cutoff, the rollup staying equal to the raw rows', async () => {
    const store = await openTestStore(kind, temp.dir);
    const hour = Date.UTC(2026, 0, 10, 8);
    await store.append([
      ...Array.from({ length: 6 }, (_, i) => row(100 + i, hour + i * 10 * 60_000)),
      row(200, Date.UTC(2026, 0, 11, 9)),
    ]);
    const cutoff = hour + 30 * 60_000;
    expect(await store.purgeBefore(cutoff)).toMatchObject({ events: 3 });
    expect(await count(store)).toBe(4);
    const input = {
      sites: ['www.example.fr'],
      metric: 'events',
      interval: '1h',
      from: '2026-01-10T00:00',
      to: '2026-01-12T00:00',
      tz: 'UTC',
    } as const;
    const planned = await getSeries(store, config, input, Date.UTC(2026, 1, 1));
    const raw = await getSeries(store, config, input, Date.UTC(2026, 1, 1), { plan: 'raw' });
    expect(planned.plan).toBe(kind === 'duckdb' ? 'dims_hourly' : 'rollup');
    expect(planned.rows).toEqual(raw.rows);
    expect(planned.rows.reduce((sum, r) => sum + (r.value ?? 0), 0)).toBe(4);
    await store.close();
  });
});
