import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isbot } from 'isbot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { getSeries } from '../src/insights/getSeries.js';
import { importFiles, type ImportSummary } from '../src/import/import.js';
import { STORE_MEMORY_MB } from '../src/import/setup.js';
import { MAX_LINE_BYTES } from '../src/import/chunks.js';
import { WORKER_NICENESS } from '../src/import/priority.js';
import { summaryLines } from '../src/import/progress.js';
import { SqlWriter } from '../src/store/dialect.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { openTestStore, storeKinds } from './stores.js';
import type { FileRows, Store } from '../src/store/store.js';
import { HAS_SHARED_DATA, sharedData } from './shared-data.js';
import { tempDir } from './helpers.js';
import { niceness, threadId, threadsAtNiceness } from './thread-niceness.js';

const temp = tempDir('balise-import-');
afterAll(() => temp.cleanup());

function configFor(extra: Partial<ConfigInput> = {}) {
  return parseConfig(
    {
      sites: [
        { host: 'semicomplete.com', aliases: ['www.semicomplete.com'] },
        { host: 'www.quotidien-demo.fr', group: 'news', timezone: 'Europe/Paris' },
        { host: 'www.tele-demo.fr', group: 'tv', timezone: 'Europe/Paris' },
      ],
      ...extra,
    },
    { env: {} },
  );
}

async function freshStore(name: string): Promise<DuckDBStore> {
  const store = await DuckDBStore.open(join(temp.dir, `${name}.duckdb`));
  await store.migrate();
  return store;
}

/** How many rows the store holds, and how many distinct ids among them. */
async function rowsAndIds(store: Store): Promise<{ n: number; ids: number } | undefined> {
  const [row] = await store.query<{ n: number; ids: number }>(
    'SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events',
  );
  return row;
}

function write(name: string, lines: string[]): string {
  const path = join(temp.dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe.skipIf(!HAS_SHARED_DATA).each(storeKinds())(
  'import of the real Apache log (../shared/data/logs) on %s',
  (kind) => {
    const log = sharedData('logs', 'apache_combined.log');
    const lines = HAS_SHARED_DATA ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    let store: Store;
    let first: ImportSummary;
    const config = configFor();

    beforeAll(async () => {
      store = kind === 'duckdb' ? await freshStore('apache') : await openTestStore(kind);
      first = await importFiles(store, config, [log], { format: 'combined', site: 'semicomplete.com' });
    });
    afterAll(() => store.close());

    it('reads every line and reports the one truncated line by number', () => {
      expect(first.lines).toBe(10_000);
      expect(first.badLines).toBe(1);
      expect(first.bad).toEqual([{ file: log, line: 8899, reason: 'does not match the log format' }]);
      // The line really is truncated: its User-Agent quote is never closed.
      expect(lines[8898]!.endsWith('"')).toBe(false);
      expect(first.imported).toBe(9_999);
      expect(first.duplicates).toBe(0);
    });

    it('stores one request row per good line, with status and bytes', async () => {
      const sql = new SqlWriter(store.dialect);
      const [row] = await store.query<{ n: number; ok: number; bytes: number }>(
        `SELECT ${sql.count()} AS n, ${sql.count('status = 200')} AS ok, ${sql.sum('bytes')} AS bytes FROM events WHERE type = 'request'`,
      );
      // Independent count from the text: the status field after the quoted request.
      const good = lines.filter((_, i) => i !== 8898);
      const statuses = good.map((line) => Number(line.split('"')[2]!.trim().split(' ')[0]));
      const bytes = good.map((line) => Number(line.split('"')[2]!.trim().split(' ')[1]) || 0);
      expect(row).toEqual({
        n: 9_999,
        ok: statuses.filter((s) => s === 200).length,
        bytes: bytes.reduce((a, b) => a + b, 0),
      });
    });

    it('flags the crawlers (and feed readers, scripts, empty UAs) as isbot does on the same User-Agents', async () => {
      const [row] = await store.query<{ bots: number }>(
        `SELECT ${new SqlWriter(store.dialect).count('is_bot')} AS bots FROM events`,
      );
      const expected = lines
        .filter((_, i) => i !== 8898)
        .map((line) => line.split('"')[5] ?? '')
        .filter((ua) => ua === '' || ua === '-' || isbot(ua)).length;
      expect(row!.bots).toBe(expected);
      // Named crawlers are about a seventh of the lines (README: "~20% crawlers"); isbot also counts
      // feed readers (UniversalFeedParser, Tiny Tiny RSS, FeedBurner), scripts and "-": 30 % here.
      const named = lines.filter(
        (line, i) => i !== 8898 && /bot|crawl|spider|slurp/i.test(line.split('"')[5] ?? ''),
      );
      expect(named.length).toBe(1_397);
      expect(row!.bots).toBeGreaterThan(named.length);
      expect(row!.bots / 9_999).toBeGreaterThan(0.14);
      expect(row!.bots / 9_999).toBeLessThan(0.35);
      const share = await getSeries(store, config, {
        sites: ['semicomplete.com'],
        metric: 'bot_share',
        interval: '1d',
        from: '2015-05-17',
        to: '2015-05-21',
        tz: 'UTC',
      });
      const total = share.rows.reduce((sum, r) => sum + (r.value ?? 0), 0);
      expect(total / share.rows.length).toBeGreaterThan(14);
    });

    it('ranks the same top paths as a plain count of the log (query strings removed)', async () => {
      const counts = new Map<string, number>();
      for (const [i, line] of lines.entries()) {
        if (i === 8898) continue;
        const target = line.split('"')[1]!.split(' ')[1]!;
        const path = target.split('?')[0]!;
        counts.set(path, (counts.get(path) ?? 0) + 1);
      }
      const expected = [...counts]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 5)
        .map(([path, n]) => ({ path, n }));
      const top = await store.query<{ path: string; n: number }>(
        'SELECT path, count(*) AS n FROM events GROUP BY path ORDER BY n DESC, path LIMIT 5',
      );
      expect(top).toEqual(expected);
      expect(top[0]).toEqual({ path: '/favicon.ico', n: expected[0]!.n });
    });

    it('stores no IP address and no raw User-Agent in any row', async () => {
      const rows = await store.query('SELECT * FROM events');
      const dump = JSON.stringify(rows);
      const ips = new Set(lines.map((line) => line.split(' ')[0]!));
      expect(ips.size).toBeGreaterThan(1_000);
      // No IPv4 anywhere (covers all of them), and none of the log's IPv6 or odd forms either.
      for (const ip of ips) if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) expect(dump, ip).not.toContain(ip);
      expect(dump).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
      expect(dump).not.toContain('Mozilla/5.0');
      expect(dump).not.toContain('?');
    });

    it('does not double the data when the same file is imported again, even gzipped', async () => {
      const again = await importFiles(store, config, [log], { format: 'combined', site: 'semicomplete.com' });
      expect(again).toMatchObject({ imported: 0, duplicates: 9_999, badLines: 1 });
      const gz = join(temp.dir, 'apache.log.gz');
      writeFileSync(gz, gzipSync(readFileSync(log)));
      const zipped = await importFiles(store, config, [gz], { format: 'combined', site: 'semicomplete.com' });
      expect(zipped).toMatchObject({ lines: 10_000, imported: 0, duplicates: 9_999 });
      const [row] = await store.query<{ n: number }>('SELECT count(*) AS n FROM events');
      expect(row!.n).toBe(9_999);
    });

    // DuckDB's own history (stores of 0.1.0 were DuckDB files) and the importer's threads (not the store's).
    if (kind === 'duckdb')
      it('gives a new store xxh64 line ids, and keeps SHA-256 ids for a store that held imports from 0.1.0', async () => {
        expect(await store.importLineIds()).toBe('xxh64');
        // A store as 0.1.0 left it: the rows of the log imported with SHA-256 ids, no migration 5.
        const path = join(temp.dir, 'upgraded.duckdb');
        const old = await DuckDBStore.open(path);
        await old.migrate();
        await old.query("INSERT INTO store_facts VALUES ('import_line_ids', 'sha256')");
        const before = await importFiles(old, config, [log], {
          format: 'combined',
          site: 'semicomplete.com',
        });
        expect(before.imported).toBe(9_999);
        await old.query('DROP TABLE store_facts');
        await old.query('DELETE FROM schema_migrations WHERE version = 5');
        await old.close();
        // This version opens it: the migration sees imported rows and keeps their scheme, so the
        // same file imported again is recognised line by line.
        const upgraded = await DuckDBStore.open(path);
        await upgraded.migrate();
        expect(await upgraded.importLineIds()).toBe('sha256');
        const again = await importFiles(upgraded, config, [log], {
          format: 'combined',
          site: 'semicomplete.com',
        });
        expect(again).toMatchObject({ imported: 0, duplicates: 9_999 });
        const [row] = await upgraded.query<{ n: number }>('SELECT count(*) AS n FROM events');
        expect(row!.n).toBe(9_999);
        await upgraded.close();
      });

    if (kind === 'duckdb')
      it('stores the same rows whether lines are split over worker threads in small chunks or read in one thread', async () => {
        const ways = [
          { name: 'apache-one-thread', options: { workers: 0, batchRows: 3_000 } },
          { name: 'apache-chunked', options: { workers: 2, chunkBytes: 50_000 } },
        ];
        const stores: DuckDBStore[] = [];
        for (const { name, options } of ways) {
          const other = await freshStore(name);
          stores.push(other);
          const summary = await importFiles(other, config, [log], {
            format: 'combined',
            site: 'semicomplete.com',
            ...options,
          });
          expect(summary).toMatchObject({ lines: 10_000, imported: 9_999, badLines: 1, bad: first.bad });
        }
        // Visitor hashes differ between imports (a new secret each time) but group the same rows.
        const rows = (s: DuckDBStore) =>
          s.query<Record<string, unknown>>(
            `SELECT * EXCLUDE (visitor_hash), dense_rank() OVER (ORDER BY visitor_hash) AS visitor
         FROM (SELECT *, min(id) OVER (PARTITION BY visitor_hash) AS first FROM events) ORDER BY id`,
          );
        const expected = await rows(store as DuckDBStore);
        expect(expected).toHaveLength(9_999);
        for (const s of stores) {
          const got = await rows(s);
          expect(got.map((r) => ({ ...r, visitor: undefined }))).toEqual(
            expected.map((r) => ({ ...r, visitor: undefined })),
          );
          const partition = (list: Record<string, unknown>[]) => list.map((r) => String(r.first)).join();
          expect(partition(got)).toBe(partition(expected));
          await s.close();
        }
      });
  },
);

describe('import formats', () => {
  it('stores a file given twice in one command once (and its lines that repeat, each)', async () => {
    const line = (i: number) =>
      `192.0.2.${i % 9} - - [06/Jul/2026:08:00:${String(i % 60).padStart(2, '0')} +0200] "GET /a${i % 5} HTTP/1.1" 200 ${i % 3}`;
    // Lines 1 and 61, 2 and 62… are the same text: distinct lines all the same.
    const file = write(
      'twice.log',
      Array.from({ length: 1_200 }, (_, i) => line(i)),
    );
    const store = await freshStore('twice');
    const summary = await importFiles(store, configFor(), [file, file], {
      format: 'common',
      site: 'semicomplete.com',
      workers: 2,
      chunkBytes: 16 * 1024,
    });
    const row = await rowsAndIds(store);
    await store.close();
    expect(summary).toMatchObject({ lines: 2_400, imported: 1_200, duplicates: 1_200 });
    expect(row).toEqual({ n: 1_200, ids: 1_200 });
  });

  it('hands the store batches of exactly its bulkRows rows (but the last of each file), each with its own time range and hours', async () => {
    // Times rise (neighbours swapped): a cut chunk's two parts have other ranges than the chunk.
    const line = (i: number) => {
      const t = 8 * 3600 + (i ^ 1);
      const hms = [Math.floor(t / 3600), Math.floor(t / 60) % 60, t % 60].map((n) =>
        String(n).padStart(2, '0'),
      );
      return `203.0.113.${i % 50} - - [07/Jul/2026:${hms.join(':')} +0200] "GET /b${i % 11} HTTP/1.1" 200 ${i}`;
    };
    const files = [
      write(
        'exact-1.log',
        Array.from({ length: 5_500 }, (_, i) => line(i)),
      ),
      write(
        'exact-2.log',
        Array.from({ length: 2_300 }, (_, i) => line(i + 9_000)),
      ),
    ];
    const real = await freshStore('exact');
    const calls: { rows: number; minTs: number; maxTs: number; hours: number[]; told: FileRows }[] = [];
    const threads: Promise<{ t: number; m: string }[]>[] = [];
    // Threads of this process at the import workers' niceness, at each batch: the workers until
    // the last chunk is in, none for the last batch (they end before its insert).
    const niced: number[] = [];
    // The real store, reporting a bulk size of 1,000 rows and recording each batch it is handed.
    const store = new Proxy(real, {
      get(target, key) {
        if (key === 'bulkRows') return 1_000;
        if (key === 'appendCsv')
          return (path: string, told: FileRows) => {
            const times = readFileSync(path, 'utf8')
              .trimEnd()
              .split('\n')
              .map((row) => Number(row.split(',')[1]));
            const hours = [...new Set(times.map((ts) => Math.floor(ts / 3_600_000)))].sort((a, b) => a - b);
            calls.push({
              rows: times.length,
              minTs: Math.min(...times),
              maxTs: Math.max(...times),
              hours,
              told,
            });
            threads.push(
              target.query<{ t: number; m: string }>(
                "SELECT current_setting('threads')::INTEGER AS t, current_setting('memory_limit') AS m",
              ),
            );
            niced.push(threadsAtNiceness(WORKER_NICENESS));
            return target.appendCsv(path, told);
          };
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const summary = await importFiles(store, configFor(), files, {
      format: 'common',
      site: 'semicomplete.com',
      workers: 2,
      chunkBytes: 16 * 1024,
      ownStore: true,
    });
    const row = await rowsAndIds(real);
    // The import ran as the store's bulk load (DuckDB: one thread and, the store being the
    // import's own, STORE_MEMORY_MB of memory — 38.1 MiB), which ended with it.
    const settings = (await Promise.all(threads)).map((rows) => rows[0]!);
    const [after] = await real.query<{ t: number; m: string }>(
      "SELECT current_setting('threads')::INTEGER AS t, current_setting('memory_limit') AS m",
    );
    await real.close();
    expect(new Set(settings.map((s) => s.t))).toEqual(new Set([1]));
    expect(new Set(settings.map((s) => s.m))).toEqual(
      new Set([`${Math.floor((STORE_MEMORY_MB / 1.048576) * 10) / 10} MiB`]),
    );
    expect(after!.m).toMatch(/GiB$/);
    // Both worker threads yield (when this process itself is not already that nice), and are gone
    // before the last batch's insert.
    if (niceness(threadId()) < WORKER_NICENESS) expect(niced).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 0]);
    expect(after!.t).toBeGreaterThan(1);
    expect(summary).toMatchObject({ lines: 7_800, imported: 7_800, duplicates: 0 });
    expect(row).toEqual({ n: 7_800, ids: 7_800 });
    expect(calls.map((c) => c.rows)).toEqual([1_000, 1_000, 1_000, 1_000, 1_000, 500, 1_000, 1_000, 300]);
    for (const call of calls) {
      expect(call.told).toMatchObject({ minTs: call.minTs, maxTs: call.maxTs });
      expect([...call.told.hours].sort((a, b) => a - b)).toEqual(call.hours);
    }
    // Several batches span more than one hour, so the hours are checked, not a single value.
    expect(calls.some((call) => call.hours.length > 1)).toBe(true);
  });

  it('stores the same rows from worker threads when short lines make a CSV outgrow its shared memory, over several files', async () => {
    // Lines of the `common` format are short: a chunk's CSV needs more than the memory shared
    // with the workers for it, and is transferred instead; the slots are reused from file to file.
    const files = [0, 1, 2].map((f) =>
      write(
        `short-${f}.log`,
        Array.from(
          { length: 20_000 },
          (_, i) =>
            `198.51.100.${i % 200} - - [05/Jul/2026:${String(f + 10).padStart(2, '0')}:${String(Math.floor(i / 600) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} +0200] "GET /p${i % 97} HTTP/1.1" ${i % 7 === 0 ? 404 : 200} ${i}`,
        ),
      ),
    );
    const config = configFor();
    const digest = async (workers: number) => {
      const store = await freshStore(`short-${workers}`);
      const summary = await importFiles(store, config, files, {
        format: 'common',
        site: 'semicomplete.com',
        workers,
        chunkBytes: 2 ** 20,
      });
      const rows = await store.query<{
        n: number;
        paths: number;
        statuses: number;
        bytes: number;
        ts: number;
      }>(
        `SELECT count(*) AS n, count(DISTINCT path) AS paths, sum(status) AS statuses, sum(bytes) AS bytes,
                sum(epoch_ms(ts) % 1000003) AS ts FROM events`,
      );
      await store.close();
      return { summary, rows };
    };
    const inThread = await digest(0);
    const threads = await digest(2);
    expect(inThread.summary).toMatchObject({ lines: 60_000, imported: 60_000, badLines: 0 });
    expect(threads.summary).toMatchObject({ lines: 60_000, imported: 60_000, badLines: 0 });
    expect(threads.rows).toEqual(inThread.rows);
    expect(threads.rows[0]).toMatchObject({ n: 60_000, paths: 97 });
  });

  it('reads a custom NGINX log_format from the config, with the site from $host', async () => {
    const config = configFor({
      import: {
        logFormats: {
          main: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$host" rt=$request_time',
        },
      },
    });
    const ua =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1';
    const file = write('nginx.log', [
      `203.0.113.7 - - [05/Jul/2026:20:00:01 +0200] "GET /politique?utm_source=x HTTP/2.0" 200 5120 "https://www.google.fr/search?q=x" "${ua}" "www.quotidien-demo.fr" rt=0.012`,
      `203.0.113.8 - - [05/Jul/2026:20:00:02 +0200] "GET /direct HTTP/2.0" 304 0 "-" "${ua}" "www.tele-demo.fr" rt=0.001`,
      `203.0.113.9 - - [05/Jul/2026:20:00:03 +0200] "GET / HTTP/1.1" 200 10 "-" "${ua}" "unknown.example" rt=0.001`,
      `203.0.113.9 - - [05/Jul/2026:20:00:03 +0200] "GET / HTTP/1.1" 200 10 "-" "${ua}"`,
    ]);
    const store = await freshStore('nginx');
    const summary = await importFiles(store, config, [file], { format: 'nginx:main' });
    const rows = await store.query(
      'SELECT epoch_ms(ts) AS ts, site, path, status, bytes, device_type, referrer_host, referrer_class FROM events ORDER BY ts',
    );
    await store.close();
    expect(summary).toMatchObject({
      lines: 4,
      imported: 2,
      badLines: 1,
      unknownSite: 1,
      unknownHosts: [{ host: 'unknown.example', lines: 1 }],
    });
    expect(summary.bad).toEqual([{ file, line: 4, reason: 'does not match the log format' }]);
    expect(rows).toEqual([
      {
        ts: Date.UTC(2026, 6, 5, 18, 0, 1),
        site: 'www.quotidien-demo.fr',
        path: '/politique',
        status: 200,
        bytes: 5120,
        device_type: 'mobile',
        referrer_host: 'www.google.fr',
        referrer_class: 'search',
      },
      {
        ts: Date.UTC(2026, 6, 5, 18, 0, 2),
        site: 'www.tele-demo.fr',
        path: '/direct',
        status: 304,
        bytes: 0,
        device_type: 'mobile',
        referrer_host: null,
        referrer_class: null,
      },
    ]);
  });

  it('refuses a log_format without the fields it needs, saying which', async () => {
    const store = await freshStore('bad-format');
    await expect(
      importFiles(store, configFor(), [write('x.log', ['x'])], { format: 'nginx:$remote_addr $status' }),
    ).rejects.toThrow(/no time: add \$time_local/);
    await expect(
      importFiles(store, configFor(), [write('y.log', ['x'])], { format: 'combined' }),
    ).rejects.toThrow(/--site is required/);
    await expect(
      importFiles(store, configFor(), [write('z.log', ['x'])], { format: 'apache' }),
    ).rejects.toThrow(/unknown format "apache"; use combined, common/);
    const [row] = await store.query<{ n: number }>('SELECT count(*) AS n FROM events');
    await store.close();
    expect(row!.n).toBe(0);
  });

  it('maps Cloudflare HTTP request logs (jsonl:cloudflare) as docs/import.md lists', async () => {
    const line = (fields: Record<string, unknown>) =>
      JSON.stringify({
        EdgeStartTimestamp: '2026-07-05T18:00:00Z',
        ClientIP: '198.51.100.20',
        ClientRequestHost: 'www.quotidien-demo.fr',
        ClientRequestURI: '/live/elections?email=jean.dupont@example.fr',
        ClientRequestUserAgent:
          'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
        ClientDeviceType: 'mobile',
        ClientCountry: 'fr',
        ClientRegionCode: 'GES',
        ClientASN: 3215,
        EdgeColoCode: 'CDG',
        EdgeResponseStatus: 200,
        EdgeResponseBytes: 2048,
        ClientRequestReferer: 'https://t.co/abc',
        SomethingElse: 'ignored',
        ...fields,
      });
    const file = write('cf.jsonl', [
      line({}),
      line({ EdgeStartTimestamp: 1_783_274_400_000_000_000, EdgeColoCode: 'LHR', ClientRegionCode: 'IDF' }),
      line({ ClientRequestHost: undefined }),
      line({ EdgeStartTimestamp: 'yesterday' }),
      '{"truncated": ',
    ]);
    const store = await freshStore('cloudflare');
    const summary = await importFiles(store, configFor(), [file], { format: 'jsonl:cloudflare' });
    const rows = await store.query(
      'SELECT epoch_ms(ts) AS ts, site, path, country, region, asn, device_type, node, status, bytes, referrer_host, referrer_class, browser FROM events ORDER BY node',
    );
    const dump = JSON.stringify(await store.query('SELECT * FROM events'));
    await store.close();
    expect(summary.imported).toBe(2);
    expect(summary.bad.map((b) => [b.line, b.reason])).toEqual([
      [3, 'no host in the line (give --site)'],
      [4, 'no readable time in EdgeStartTimestamp'],
      [5, 'not valid JSON'],
    ]);
    const common = {
      site: 'www.quotidien-demo.fr',
      path: '/live/elections',
      country: 'FR',
      asn: 3215,
      device_type: 'mobile',
      status: 200,
      bytes: 2048,
      referrer_host: 't.co',
      referrer_class: 'social',
      browser: 'Chrome',
    };
    expect(rows).toEqual([
      { ...common, ts: Date.UTC(2026, 6, 5, 18), region: 'FR-GES', node: 'CDG' },
      { ...common, ts: 1_783_274_400_000, region: 'FR-IDF', node: 'LHR' },
    ]);
    expect(dump).not.toContain('198.51.100.20');
    expect(dump).not.toContain('jean.dupont');
  });

  it('stores BIND query logs as dns events of the site owning the registrable domain', async () => {
    const file = write('named.log', [
      '05-Jul-2026 20:00:01.120 queries: info: client @0x7f3a2c0 192.0.2.10#53211 (www.quotidien-demo.fr): query: www.quotidien-demo.fr IN A +E(0)K (192.0.2.53)',
      '05-Jul-2026 20:00:02.500 client 192.0.2.11#40000 (cdn.quotidien-demo.fr): query: CDN.Quotidien-Demo.fr IN AAAA + (192.0.2.53)',
      '05-Jul-2026 20:00:03.000 queries: info: client @0x7f3a2c0 192.0.2.12#1053 (tele-demo.fr): view internal: query: tele-demo.fr IN A -E(0) (192.0.2.53)',
      '05-Jul-2026 20:00:04.000 queries: info: client @0x7f3a2c0 192.0.2.12#1053 (www.google.com): query: www.google.com IN A + (192.0.2.53)',
      '05-Jul-2026 20:00:05.000 resolver: info: lame server resolving example.net',
    ]);
    const store = await freshStore('bind');
    const summary = await importFiles(store, configFor(), [file], { format: 'dns-bind', tz: 'Europe/Paris' });
    const rows = await store.query(
      'SELECT epoch_ms(ts) AS ts, site, type, name, path, visitor_hash IS NOT NULL AS hashed FROM events ORDER BY ts',
    );
    const series = await getSeries(store, configFor(), {
      group: 'news',
      metric: 'events',
      interval: '1h',
      from: '2026-07-05T20:00',
      to: '2026-07-05T21:00',
      filters: { type: 'dns' },
    });
    await store.close();
    expect(summary).toMatchObject({ lines: 5, imported: 3, badLines: 1, unknownSite: 1 });
    expect(summary.unknownHosts).toEqual([{ host: 'google.com', lines: 1 }]);
    expect(summary.bad).toEqual([{ file, line: 5, reason: 'not a BIND query log line' }]);
    expect(rows).toEqual([
      {
        ts: Date.UTC(2026, 6, 5, 18, 0, 1, 120),
        site: 'www.quotidien-demo.fr',
        type: 'dns',
        name: 'A',
        path: null,
        hashed: true,
      },
      {
        ts: Date.UTC(2026, 6, 5, 18, 0, 2, 500),
        site: 'www.quotidien-demo.fr',
        type: 'dns',
        name: 'AAAA',
        path: null,
        hashed: true,
      },
      {
        ts: Date.UTC(2026, 6, 5, 18, 0, 3),
        site: 'www.tele-demo.fr',
        type: 'dns',
        name: 'A',
        path: null,
        hashed: true,
      },
    ]);
    expect(series.rows).toEqual([{ time: '2026-07-05T20:00:00+02:00', value: 2 }]);
  });

  it('reads DNS JSON lines', async () => {
    const file = write('dns.jsonl', [
      '{"timestamp":"2026-07-05T18:00:00Z","client":"192.0.2.10#5353","qname":"www.tele-demo.fr.","qtype":"https"}',
      '{"time":1783274401,"client_ip":"192.0.2.11","query":"tele-demo.fr"}',
      '{"timestamp":"2026-07-05T18:00:00Z","client":"192.0.2.10","qname":"bad name!"}',
    ]);
    const store = await freshStore('dnsjson');
    const summary = await importFiles(store, configFor(), [file], { format: 'dns-jsonl' });
    const rows = await store.query('SELECT epoch_ms(ts) AS ts, site, name FROM events ORDER BY ts');
    await store.close();
    expect(summary).toMatchObject({ imported: 2, badLines: 1 });
    expect(rows).toEqual([
      { ts: Date.UTC(2026, 6, 5, 18), site: 'www.tele-demo.fr', name: 'HTTPS' },
      { ts: 1_783_274_401_000, site: 'www.tele-demo.fr', name: 'A' },
    ]);
  });

  it('stops with what to fix when a worker cannot start (an unreadable mmdb), storing nothing and leaving no thread', async () => {
    const file = write('geo.log', [
      '203.0.113.9 - - [05/Jul/2026:20:00:01 +0200] "GET / HTTP/1.1" 200 1 "-" "x"',
    ]);
    const config = configFor({ geo: { cityMmdb: join(temp.dir, 'no-such-city.mmdb') } });
    const store = await freshStore('geo');
    const before = process.getActiveResourcesInfo().length;
    await expect(
      importFiles(store, config, [file], { format: 'combined', site: 'semicomplete.com', workers: 2 }),
    ).rejects.toThrow(/no-such-city\.mmdb/);
    const [row] = await store.query<{ n: number }>('SELECT count(*) AS n FROM events');
    expect(row!.n).toBe(0);
    await store.close();
    // The two workers were terminated: no handle is left that would keep the CLI from exiting.
    await new Promise((r) => setTimeout(r, 50));
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
  });

  it('counts hostile lines (too long, escape sequences, broken UTF-8) and goes on', async () => {
    const good = '203.0.113.7 - - [05/Jul/2026:20:00:01 +0200] "GET / HTTP/1.1" 200 1 "-" "curl/8.0"';
    const path = join(temp.dir, 'hostile.log');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from(`${good}\n`),
        Buffer.from(`${'A'.repeat(MAX_LINE_BYTES + 10)}\n`),
        Buffer.from('\u001b[2J\u001b]0;owned\u0007 "GET / HTTP/1.1"\n'),
        Buffer.from([0xff, 0xfe, 0x0a]),
        Buffer.from(good.replace('"GET / HTTP/1.1"', '"GET /caf\u00e9 HTTP/1.1"')),
      ]),
    );
    const store = await freshStore('hostile');
    const summary = await importFiles(store, configFor(), [path], {
      format: 'combined',
      site: 'semicomplete.com',
    });
    const paths = await store.query<{ path: string }>('SELECT path FROM events ORDER BY path');
    await store.close();
    expect(summary.lines).toBe(5);
    expect(summary.bad.map((b) => [b.line, b.reason])).toEqual([
      [2, `line longer than ${MAX_LINE_BYTES} bytes`],
      [3, 'does not match the log format'],
      [4, 'does not match the log format'],
    ]);
    expect(paths).toEqual([{ path: '/' }, { path: '/caf%C3%A9' }]);
    const printed = summaryLines(
      { ...summary, unknownHosts: [{ host: '\u001b[31mevil', lines: 1 }], unknownSite: 1 },
      (t) =>
        // eslint-disable-next-line no-control-regex
        t.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?'),
    ).join('\n');
    expect(printed).not.toContain('\u001b');
  });

  it('stores a line at the length limit, its path cut to the stored maximum, and the rows around it', async () => {
    const line = (path: string) =>
      `203.0.113.7 - - [05/Jul/2026:20:00:01 +0200] "GET ${path} HTTP/1.1" 200 1 "-" "curl/8.0"`;
    // 'é' is 2 bytes in the log and 6 stored (%C3%A9); a stored path keeps its first 1,024 characters.
    const count = Math.floor((MAX_LINE_BYTES - Buffer.byteLength(line('/'))) / 2);
    const long = line(`/${'\u00e9'.repeat(count)}`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    const path = join(temp.dir, 'longest.log');
    writeFileSync(path, `${line('/a')}\n${long}\n${line('/b')}\n`);
    const store = await freshStore('longest');
    const summary = await importFiles(store, configFor(), [path], {
      format: 'combined',
      site: 'semicomplete.com',
    });
    const paths = await store.query<{ n: number; head: string }>(
      'SELECT length(path)::INTEGER AS n, left(path, 7) AS head FROM events ORDER BY n',
    );
    await store.close();
    expect(summary).toMatchObject({ lines: 3, imported: 3, badLines: 0 });
    expect(paths).toEqual([
      { n: 2, head: '/a' },
      { n: 2, head: '/b' },
      { n: 1_024, head: '/%C3%A9' },
    ]);
  });
});

describe('balise import (CLI)', () => {
  it('imports, prints a summary, and exits 2 on a bad format', () => {
    const dir = temp.dir;
    const configPath = join(dir, 'cli.yaml');
    writeFileSync(
      configPath,
      `store: { kind: duckdb, path: ${join(dir, 'cli.duckdb')} }\nsites:\n  - host: www.quotidien-demo.fr\n`,
    );
    const file = write('cli.log', [
      '203.0.113.7 - - [05/Jul/2026:20:00:01 +0200] "GET / HTTP/1.1" 200 1 "-" "curl/8.0"',
      'garbage',
    ]);
    const cli = join('dist', 'cli', 'main.js');
    const output = execFileSync(
      process.execPath,
      [
        cli,
        'import',
        file,
        '--config',
        configPath,
        '--format',
        'common',
        '--site',
        'www.quotidien-demo.fr',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    const summary = JSON.parse(output) as ImportSummary;
    expect(summary).toMatchObject({ lines: 2, imported: 0, badLines: 2 });
    // The process's own peak memory, in MB: at least what Node and DuckDB take to start.
    expect(summary.peakRssMb).toBeGreaterThan(40);
    expect(Number.isInteger(summary.peakRssMb)).toBe(true);
    // common has no referrer/UA fields: the combined line is a bad line there.
    const combined = execFileSync(
      process.execPath,
      [
        cli,
        'import',
        file,
        '--config',
        configPath,
        '--format',
        'combined',
        '--site',
        'www.quotidien-demo.fr',
      ],
      { encoding: 'utf8' },
    );
    expect(combined).toMatch(/^imported 1 rows from 2 lines/);
    expect(combined).toContain(`${file}:2: does not match the log format`);
    const bad = spawnSync(
      process.execPath,
      [cli, 'import', file, '--config', configPath, '--format', 'w3c'],
      {
        encoding: 'utf8',
      },
    );
    expect(bad.status).toBe(2);
    expect(bad.stdout).toContain('unknown format "w3c"');
  });
});
