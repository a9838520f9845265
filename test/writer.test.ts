import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import type { FileRows, Store } from '../src/store/store.js';
import { spoolLine } from '../src/store/spool.js';
import { DurableWriter } from '../src/store/writer.js';
import { tempDir } from './helpers.js';

function row(n: number): EventRow {
  const ts = Date.UTC(2026, 10, 22, 12, 0, 0) + n;
  return blankRow({
    id: deterministicId(ts, String(n)),
    ts,
    site: 's',
    type: 'pageview',
    source: 'browser',
    path: '/',
    deviceType: 'desktop',
  });
}

async function count(store: Store): Promise<number> {
  const [r] = await store.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM events');
  return r?.n ?? -1;
}

describe('DurableWriter', () => {
  it('replays segments left by a previous process, ignoring a torn last line, and deletes them', async () => {
    const { dir, cleanup } = tempDir();
    const spoolDir = join(dir, 'spool');
    mkdirSync(spoolDir);
    const lines = [row(1), row(2)].map((r) => JSON.stringify(r)).join('\n');
    writeFileSync(join(spoolDir, 'segment-000000000007.jsonl'), `${lines}\n{"id":"torn`);
    const store = await DuckDBStore.open(join(dir, 'db.duckdb'));
    await store.migrate();
    const { writer, replayed } = await DurableWriter.start(store, {
      spoolDir,
      batchRows: 100,
      flushMs: 10_000,
      maxPendingRows: 10_000,
    });
    expect(replayed).toBe(2);
    expect(await count(store)).toBe(2);
    expect(readdirSync(spoolDir)).toEqual([]);
    await writer.write([row(3)]);
    // The next segment continues the numbering of the old one.
    expect(readdirSync(spoolDir)).toEqual(['segment-000000000008.jsonl']);
    await writer.close();
    expect(await count(store)).toBe(3);
    await store.close();
    cleanup();
  });

  it('tells the store the time range and hours, so the rollup sees every hour (rows, or lines made elsewhere)', async () => {
    const { dir, cleanup } = tempDir();
    const real = await DuckDBStore.open(join(dir, 'db.duckdb'));
    await real.migrate();
    const told: (FileRows | undefined)[] = [];
    const store: Store = Object.assign(Object.create(real) as DuckDBStore, {
      appendJsonLines: (path: string, rows?: FileRows) => {
        told.push(rows);
        return real.appendJsonLines(path, rows);
      },
    });
    const { writer } = await DurableWriter.start(store, {
      spoolDir: join(dir, 'spool'),
      batchRows: 100,
      flushMs: 10_000,
      maxPendingRows: 10_000,
    });
    const hour = 3_600_000;
    const rows = [row(5), { ...row(6), ts: row(6).ts + 2 * hour }, { ...row(7), ts: row(7).ts - hour }];
    await writer.write(rows.slice(0, 2));
    // The earliest row as spool lines another thread made (the proxy's recording thread).
    await writer.write({ text: `${spoolLine(rows[2]!)}\n`, ts: [rows[2]!.ts] });
    expect(writer.pendingRows).toBe(3);
    await writer.flush();
    const h = (ts: number) => Math.floor(ts / hour);
    expect(told).toHaveLength(1);
    expect({ ...told[0]!, hours: [...told[0]!.hours].sort() }).toEqual({
      minTs: rows[2]!.ts,
      maxTs: rows[1]!.ts,
      hours: [h(rows[2]!.ts), h(rows[0]!.ts), h(rows[1]!.ts)].sort(),
    });
    await real.refreshRollups();
    const [hourly] = await real.query<{ hours: number; n: number }>(
      'SELECT count(*)::INTEGER AS hours, sum(n)::INTEGER AS n FROM events_hourly',
    );
    expect(hourly).toEqual({ hours: 3, n: 3 });
    await writer.close();
    await real.close();
    cleanup();
  });

  it('keeps rows on disk and retries when the store refuses a batch', async () => {
    const { dir, cleanup } = tempDir();
    const real = await DuckDBStore.open(join(dir, 'db.duckdb'));
    await real.migrate();
    let failing = true;
    const errors: unknown[] = [];
    const away = () => Promise.reject(new Error('store away'));
    const flaky: Store = {
      dialect: real.dialect,
      migrate: () => real.migrate(),
      query: (sql, params) => real.query(sql, params),
      ensureSalt: (d, k) => real.ensureSalt(d, k),
      ensureSecret: (name) => real.ensureSecret(name),
      revokeSession: (nonce, expires) => real.revokeSession(nonce, expires),
      revokedSessions: (now) => real.revokedSessions(now),
      publishSettings: (value) => real.publishSettings(value),
      publishedSettings: () => real.publishedSettings(),
      refreshRollups: () => real.refreshRollups(),
      markAllDirty: () => real.markAllDirty(),
      purgeBefore: (ts) => real.purgeBefore(ts),
      importLineIds: () => real.importLineIds(),
      appendEgress: (records) => real.appendEgress(records),
      close: () => real.close(),
      append: (rows) => (failing ? away() : real.append(rows)),
      appendJsonLines: (path) => (failing ? away() : real.appendJsonLines(path)),
      appendCsv: (path, range) => (failing ? away() : real.appendCsv(path, range)),
    };
    const spoolDir = join(dir, 'spool');
    const { writer } = await DurableWriter.start(flaky, {
      spoolDir,
      batchRows: 100,
      flushMs: 10_000,
      maxPendingRows: 10_000,
      onStoreError: (e) => errors.push(e),
    });
    await writer.write([row(1), row(2)]);
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(writer.pendingRows).toBe(2);
    expect(readdirSync(spoolDir)).toHaveLength(1);
    failing = false;
    await writer.flush();
    expect(writer.pendingRows).toBe(0);
    expect(readdirSync(spoolDir)).toHaveLength(0);
    expect(await count(real)).toBe(2);
    await writer.close();
    await real.close();
    cleanup();
  });

  it('group-commits concurrent writes into one spool segment', async () => {
    const { dir, cleanup } = tempDir();
    const store = await DuckDBStore.open(join(dir, 'db.duckdb'));
    await store.migrate();
    const spoolDir = join(dir, 'spool');
    const { writer } = await DurableWriter.start(store, {
      spoolDir,
      batchRows: 10_000,
      flushMs: 10_000,
      maxPendingRows: 100_000,
    });
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.write([row(i)])));
    expect(writer.pendingRows).toBe(200);
    expect(readdirSync(spoolDir)).toHaveLength(1);
    await writer.close();
    expect(await count(store)).toBe(200);
    expect(existsSync(spoolDir)).toBe(true);
    expect(readdirSync(spoolDir)).toHaveLength(0);
    await store.close();
    cleanup();
  });

  it('a flush called while another runs also stores the rows written after that one began', async () => {
    // What a test saw under CI load: the timer's flush sealed the spool between two writes, and
    // the caller's flush returned that running flush, leaving the second row out of the store.
    const { dir, cleanup } = tempDir();
    const store = await DuckDBStore.open(join(dir, 'db.duckdb'));
    await store.migrate();
    const { writer } = await DurableWriter.start(store, {
      spoolDir: join(dir, 'spool'),
      batchRows: 10_000,
      flushMs: 10_000,
      maxPendingRows: 100_000,
    });
    await writer.write([row(1)]);
    const running = writer.flush();
    await writer.write([row(2)]);
    const [first, second] = [writer.flush(), writer.flush()];
    await Promise.all([running, first, second]);
    expect(await count(store)).toBe(2);
    expect(writer.pendingRows).toBe(0);
    await writer.close();
    await store.close();
    cleanup();
  });
});
