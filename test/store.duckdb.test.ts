import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { DuckDBInstance } from '../src/store/duckdb/api.js';
import { applyMigrations, DUCKDB_MIGRATIONS } from '../src/store/duckdb/migrations.js';
import { rowCsvLine } from '../src/store/csv.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import type { Gateway } from '../src/gateway.js';
import { gatewayThreads } from '../src/store/open.js';
import { startGateway, tempDir } from './helpers.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

function row(n: number, ts = Date.UTC(2026, 10, 22, 12, 0, n)): EventRow {
  return blankRow({
    id: deterministicId(ts, `row-${n}`),
    ts,
    site: 'www.example.fr',
    type: 'pageview',
    source: 'import',
    path: `/p/${n}`,
    country: 'FR',
    region: 'FR-IDF',
    asn: 3215,
    deviceType: 'mobile',
    browser: 'Chrome',
    os: 'Android',
    visitorHash: '18446744073709551615',
    node: 'n1',
    status: 200,
    bytes: 5120,
    props: '{"a":1}',
  });
}

describe('DuckDB store on a real file', () => {
  it('writes, closes, reopens and reads back every column', async () => {
    const path = join(temp.dir, 'roundtrip.duckdb');
    const store = await DuckDBStore.open(path);
    await store.migrate();
    expect(await store.append([row(1), row(2)])).toEqual({ inserted: 2 });
    await store.close();

    const again = await DuckDBStore.open(path);
    await again.migrate();
    const rows = await again.query('SELECT * FROM events ORDER BY ts');
    await again.close();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      id: row(1).id,
      site: 'www.example.fr',
      path: '/p/1',
      region: 'FR-IDF',
      asn: 3215,
      visitor_hash: '18446744073709551615',
      status: 200,
      bytes: 5120,
      props: '{"a":1}',
    });
    expect((rows[0]!.ts as Date).getTime()).toBe(row(1).ts);
  });

  it('is idempotent on the event id, within a batch and across batches', async () => {
    const store = await DuckDBStore.open(join(temp.dir, 'idempotent.duckdb'));
    await store.migrate();
    expect((await store.append([row(1), row(1), row(2)])).inserted).toBe(2);
    expect((await store.append([row(2), row(3)])).inserted).toBe(1);
    const [count] = await store.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM events');
    await store.close();
    expect(count?.n).toBe(3);
  });

  it('reads row CSV back as the same rows as append stores, quotes, commas, line breaks and empty texts included, and rolls them up in the same hours', async () => {
    const tricky = [
      row(10),
      {
        ...row(11),
        path: '/a,b"c\nd\re',
        title: '',
        name: 'say "hi", then\r\nleave',
        props: '{"q":"a,\\"b\\""}',
      },
      {
        ...row(12),
        title: 'Élysée — 東京 🎉',
        referrerHost: 'news.example',
        referrerClass: 'news',
        isBot: true,
      },
      {
        // Two hours later: the rollup is checked over more than one hour.
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
    const viaAppend = await DuckDBStore.open(join(temp.dir, 'append.duckdb'));
    const viaCsv = await DuckDBStore.open(join(temp.dir, 'csv.duckdb'));
    for (const store of [viaAppend, viaCsv]) await store.migrate();
    await viaAppend.append(tricky);
    const file = join(temp.dir, 'rows.csv');
    writeFileSync(file, tricky.map(rowCsvLine).join(''));
    const rows = {
      minTs: Math.min(...tricky.map((r) => r.ts)),
      maxTs: Math.max(...tricky.map((r) => r.ts)),
      hours: [...new Set(tricky.map((r) => Math.floor(r.ts / 3_600_000)))],
    };
    expect(await viaCsv.appendCsv(file, rows)).toEqual({ inserted: 4 });
    expect(await viaCsv.appendCsv(file, rows)).toEqual({ inserted: 0 });
    const read = (store: DuckDBStore) => store.query('SELECT * FROM events ORDER BY id');
    const expected = await read(viaAppend);
    expect(expected.find((r) => r.title === '')).toBeDefined();
    expect(await read(viaCsv)).toEqual(expected);
    // The rollup sees the rows inserted from CSV, in the same hours as rows appended one by one.
    const hourly = async (store: DuckDBStore) => {
      await store.refreshRollups();
      return store.query('SELECT ts, site, type, n FROM events_hourly ORDER BY ALL');
    };
    const expectedHours = await hourly(viaAppend);
    expect(new Set(expectedHours.map((r) => String(r.ts))).size).toBe(rows.hours.length);
    expect(await hourly(viaCsv)).toEqual(expectedHours);
    const [total] = await viaCsv.query<{ n: number }>('SELECT sum(n)::INTEGER AS n FROM events_hourly');
    expect(total!.n).toBe(4);
    for (const store of [viaAppend, viaCsv]) await store.close();
  });

  it('reads a row CSV file many read buffers long whole, rows with quotes and line breaks across their edges', async () => {
    // ≈ 8 MB of rows of every length up to a 1,024-character path and a 4,096-character props.
    const rows = Array.from({ length: 12_000 }, (_, i) => ({
      ...row(i, Date.UTC(2026, 10, 22, 12, 0, 0, i)),
      path: `/${'a"b,\n'.repeat(i % 256)}${i}`,
      props: i % 10 === 0 ? JSON.stringify({ q: '"'.repeat(2_000 + (i % 7)) }) : null,
    }));
    const file = join(temp.dir, 'big.csv');
    writeFileSync(file, rows.map(rowCsvLine).join(''));
    const store = await DuckDBStore.open(join(temp.dir, 'big.duckdb'));
    await store.migrate();
    const times = rows.map((r) => r.ts);
    const told = {
      minTs: Math.min(...times),
      maxTs: Math.max(...times),
      hours: [Math.floor(times[0]! / 3_600_000)],
    };
    expect(await store.appendCsv(file, told)).toEqual({ inserted: rows.length });
    const stored = await store.query<{ path: string; props: string | null }>(
      'SELECT path, props FROM events ORDER BY ts',
    );
    await store.close();
    expect(stored).toEqual(rows.map((r) => ({ path: r.path, props: r.props })));
  });

  it('stores a spool segment told its rows as it stores one it must read twice; a torn line fails loudly, whole', async () => {
    const rows = [
      row(20),
      { ...row(21), title: 'say "hi",\nthen leave', props: '{"q":"a,\\"b"}', visitorHash: null },
      { ...row(22, Date.UTC(2026, 10, 22, 15, 0, 1)), region: null, asn: null, status: null, bytes: null },
    ];
    const file = join(temp.dir, 'segment.jsonl');
    const torn = join(temp.dir, 'torn.jsonl');
    writeFileSync(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    writeFileSync(
      torn,
      rows.map((r) => JSON.stringify(r) + '\n').join('') + JSON.stringify(row(23)).slice(0, 40),
    );
    const told = {
      minTs: Math.min(...rows.map((r) => r.ts)),
      maxTs: Math.max(...rows.map((r) => r.ts)),
      hours: [...new Set(rows.map((r) => Math.floor(r.ts / 3_600_000)))],
    };
    const readTwice = await DuckDBStore.open(join(temp.dir, 'twice.duckdb'));
    const toldOnce = await DuckDBStore.open(join(temp.dir, 'told.duckdb'));
    for (const store of [readTwice, toldOnce]) await store.migrate();
    // A line the store cannot read is never skipped: nothing of the file is inserted (the spool
    // cuts a torn tail before a segment reaches the store).
    await expect(readTwice.appendJsonLines(torn)).rejects.toThrow(/Malformed JSON/);
    await expect(toldOnce.appendJsonLines(torn, told)).rejects.toThrow(/Malformed JSON/);
    expect(await readTwice.query('SELECT * FROM events')).toHaveLength(0);
    expect(await readTwice.appendJsonLines(file)).toEqual({ inserted: 3 });
    expect(await toldOnce.appendJsonLines(file, told)).toEqual({ inserted: 3 });
    expect(await toldOnce.appendJsonLines(file, told)).toEqual({ inserted: 0 });
    const read = async (store: DuckDBStore) => {
      await store.refreshRollups();
      return {
        events: await store.query('SELECT * FROM events ORDER BY id'),
        hourly: await store.query('SELECT * FROM events_hourly ORDER BY ALL'),
      };
    };
    const expected = await read(readTwice);
    expect(expected.events).toHaveLength(3);
    expect(expected.hourly.length).toBeGreaterThan(1);
    expect(await read(toldOnce)).toEqual(expected);
    for (const store of [readTwice, toldOnce]) await store.close();
  });

  it('runs bulk loads on one DuckDB thread, set once until the last of them ends', async () => {
    const store = await DuckDBStore.open(join(temp.dir, 'bulk.duckdb'));
    const threads = async () =>
      Number((await store.query<{ t: bigint }>("SELECT current_setting('threads') AS t"))[0]!.t);
    const usual = await threads();
    // The machine's core count; on one core the check below could not tell the difference.
    expect(usual).toBeGreaterThan(1);
    let inner = 0;
    const outer = await store.bulkLoad(async () => {
      inner = await store.bulkLoad(threads);
      return threads();
    });
    expect({ inner, outer, after: await threads() }).toEqual({ inner: 1, outer: 1, after: usual });
    await expect(store.bulkLoad(() => Promise.reject(new Error('import failed')))).rejects.toThrow(
      'import failed',
    );
    expect(await threads()).toBe(usual);
    await store.close();
  });

  it('keeps the threads it was opened with, and gets them back after a bulk load', async () => {
    const store = await DuckDBStore.open(join(temp.dir, 'threads.duckdb'), { threads: 3 });
    const threads = async () =>
      Number((await store.query<{ t: bigint }>("SELECT current_setting('threads') AS t"))[0]!.t);
    expect(await threads()).toBe(3);
    expect(await store.bulkLoad(threads)).toBe(1);
    expect(await threads()).toBe(3);
    await store.close();
  });

  it('in a gateway leaves a core to the event loop, unless store.threads says otherwise', async () => {
    expect([1, 2, 4, 8].map((cores) => gatewayThreads(cores))).toEqual([1, 1, 3, 7]);
    const threadsOf = async (gateway: Gateway) =>
      Number((await gateway.store.query<{ t: bigint }>("SELECT current_setting('threads') AS t"))[0]!.t);
    const usual = await startGateway(join(temp.dir, 'usual'));
    const configured = await startGateway(join(temp.dir, 'configured'), {
      store: { kind: 'duckdb', path: join(temp.dir, 'configured', 'balise.duckdb'), threads: 5 },
    });
    try {
      expect(await threadsOf(usual)).toBe(gatewayThreads());
      expect(await threadsOf(configured)).toBe(5);
    } finally {
      await usual.close();
      await configured.close();
    }
  });

  it('bounds its memory during a bounded bulk load, doubling the bound for an insert that needs more', async () => {
    const store = await DuckDBStore.open(join(temp.dir, 'bounded.duckdb'));
    await store.migrate();
    // DuckDB reports its limit in MiB (64 MB → 61.0 MiB).
    const limitMb = async () => {
      const [setting] = await store.query<{ m: string }>("SELECT current_setting('memory_limit') AS m");
      const [, value, unit] = /^([\d.]+) (\w+)$/.exec(setting!.m)!;
      return (Number(value) * { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 }[unit!]!) / 1e6;
    };
    const usual = await limitMb();
    expect(usual).toBeGreaterThan(1_000);
    expect(await store.bulkLoad(limitMb, { memoryMb: 64 })).toBeCloseTo(64, 0);
    // Set back by value, as DuckDB prints it (rounded to 0.1 GiB).
    const near = (mb: number) => Math.abs(mb / usual - 1) < 0.01;
    expect(near(await limitMb())).toBe(true);
    // ≈ 4 MB of rows inserted under a 4 MB bound: refused by DuckDB, then inserted under a larger one.
    const rows = Array.from({ length: 12_000 }, (_, i) => ({
      ...row(i, Date.UTC(2026, 10, 22, 12, 0, 0, i)),
      path: `/${'x'.repeat(i % 700)}${i}`,
    }));
    const file = join(temp.dir, 'bounded.csv');
    writeFileSync(file, rows.map(rowCsvLine).join(''));
    const told = { minTs: rows[0]!.ts, maxTs: rows.at(-1)!.ts, hours: [Math.floor(rows[0]!.ts / 3_600_000)] };
    const during = await store.bulkLoad(
      async () => ({ inserted: (await store.appendCsv(file, told)).inserted, limit: await limitMb() }),
      { memoryMb: 4 },
    );
    expect(during.inserted).toBe(rows.length);
    expect(during.limit).toBeGreaterThan(4);
    expect(during.limit).toBeLessThan(usual);
    expect(near(await limitMb())).toBe(true);
    const [count] = await store.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM events');
    expect(count!.n).toBe(rows.length);
    await store.close();
  });

  it('applies the pending migrations in one transaction: one that fails leaves the store at its version', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const transaction = async (work: () => Promise<void>) => {
      await connection.run('BEGIN TRANSACTION');
      try {
        await work();
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK');
        throw error;
      }
    };
    const versions = async () =>
      (await connection.runAndReadAll('SELECT version FROM schema_migrations ORDER BY 1')).getRows().flat();
    const first = { version: 1, name: 'one', statements: ['CREATE TABLE one (x INTEGER)'] };
    await applyMigrations(connection, transaction, [first]);
    const next = [
      first,
      { version: 2, name: 'two', statements: ['CREATE TABLE two (x INTEGER)'] },
      { version: 3, name: 'broken', statements: ['CREATE TABLE three (x NOT_A_TYPE)'] },
    ];
    await expect(applyMigrations(connection, transaction, next)).rejects.toThrow(/NOT_A_TYPE/);
    expect(await versions()).toEqual([1]);
    const tables = await connection.runAndReadAll('SELECT table_name FROM duckdb_tables() ORDER BY 1');
    expect(tables.getRows().flat()).toEqual(['one', 'schema_migrations']);
    await applyMigrations(connection, transaction, next.slice(0, 2));
    expect(await versions()).toEqual([1, 2]);
    // Statements run as one text: one ending in a comment, a name with a quote.
    const commented = {
      version: 4,
      name: "four's",
      statements: [
        'CREATE TABLE four (x INTEGER) -- the next statement follows',
        'CREATE TABLE five (x INTEGER)',
      ],
    };
    await applyMigrations(connection, transaction, [...next.slice(0, 2), commented]);
    expect(await versions()).toEqual([1, 2, 4]);
    const names = await connection.runAndReadAll('SELECT name FROM schema_migrations WHERE version = 4');
    expect(names.getRows().flat()).toEqual(["four's"]);
    const all = await connection.runAndReadAll('SELECT table_name FROM duckdb_tables() ORDER BY 1');
    expect(all.getRows().flat()).toEqual(['five', 'four', 'one', 'schema_migrations', 'two']);
    connection.closeSync();
    instance.closeSync();
  });

  it('runs migrations once, however often migrate is called', async () => {
    const store = await DuckDBStore.open(join(temp.dir, 'migrate.duckdb'));
    await store.migrate();
    await store.migrate();
    const versions = await store.query('SELECT version FROM schema_migrations');
    await store.close();
    expect(versions).toEqual(DUCKDB_MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('binds parameters instead of interpolating them', async () => {
    const store = await DuckDBStore.open(':memory:');
    await store.migrate();
    await store.append([row(1)]);
    const hostile = "x' OR 1=1 --";
    const rows = await store.query('SELECT count(*)::INTEGER AS n FROM events WHERE site = $1', [hostile]);
    await store.close();
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('query time limit', () => {
  it('interrupts a query that runs too long, and the store stays usable', async () => {
    const { QueryTimeout } = await import('../src/store/store.js');
    const store = await DuckDBStore.open(':memory:');
    await store.migrate();
    const slow = store.query('SELECT count(*) FROM range(100000000) a, range(1000) b', [], {
      timeoutMs: 100,
    });
    await expect(slow).rejects.toBeInstanceOf(QueryTimeout);
    expect(await store.query('SELECT 42 AS answer')).toEqual([{ answer: 42 }]);
    await store.close();
  });
});
