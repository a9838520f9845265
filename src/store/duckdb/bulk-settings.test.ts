import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkSettings, CHECKPOINT_ROWS, CHECKPOINT_WAL_BYTES } from './bulk-settings.js';
import { connectDuckDB } from './connect.js';

// A real DuckDB. Its JSON reader takes a 32 MiB buffer for any file: a statement that needs more
// than a 16 MB bound and fits in DuckDB's default.
let dir: string;
let file: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
/** DuckDB's memory limit as it prints it, on `on` (the shared connection unless said). */
const setting = async (on: () => DuckDBConnection = () => connection) =>
  String((await on().runAndReadAll("SELECT current_setting('memory_limit')")).getRows()[0]?.[0]);
/** `18.7 GiB` → bytes: DuckDB prints its limit rounded (set back by value, it may print 18.6). */
function bytes(text: string): number {
  const m = /^([\d.]+) (KiB|MiB|GiB|TiB)$/.exec(text);
  if (!m) throw new Error(`not a DuckDB size: ${text}`);
  return Number(m[1]) * 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(m[2]!) + 1);
}
const near = (a: string, b: string) => Math.abs(bytes(a) / bytes(b) - 1) < 0.01;
const readFile = () =>
  connection.run(`SELECT count(*) FROM read_json('${file}', format = 'newline_delimited')`);
/**
 * Settings whose statements run for real on `on()` (the connection of the moment: a test may
 * open the database again), with the memory limit in force at each CHECKPOINT recorded.
 */
const recording = (checkpointBoundMb?: number, on: () => DuckDBConnection = () => connection) => {
  const atCheckpoint: string[] = [];
  const bulk = new BulkSettings(
    async (sql) => {
      if (sql === 'CHECKPOINT') atCheckpoint.push(await setting(on));
      return on().run(sql);
    },
    async (sql) => (await on().runAndReadAll(sql)).getRows()[0]?.[0],
    undefined,
    checkpointBoundMb,
  );
  return { bulk, atCheckpoint };
};
const settings = (checkpointBoundMb?: number) => recording(checkpointBoundMb).bulk;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'balise-bulk-settings-'));
  file = join(dir, 'rows.jsonl');
  writeFileSync(file, '{"a":1}\n{"a":2}\n');
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
afterAll(() => {
  connection.closeSync();
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe("a store's memory bound for its checkpoints (a gateway's)", () => {
  it('checkpoints within the bound, then gives DuckDB its default back', async () => {
    const before = await setting();
    const { bulk, atCheckpoint } = recording(16);
    await bulk.checkpoint();
    expect(atCheckpoint).toHaveLength(1);
    expect(atCheckpoint[0]).toMatch(/^1[45]\.\d+ MiB$/);
    expect(near(await setting(), before)).toBe(true);
    // DuckDB's own buffer pool is back at its default too (its `RESET memory_limit` leaves it
    // at the bound): a statement needing 32 MiB runs.
    await expect(readFile()).resolves.toBeDefined();
  });

  it('checkpoints once 100,000 rows were written or the WAL holds 32 MiB, and DuckDB only far past it', async () => {
    const wal = join(dir, 'store.duckdb.wal');
    const { bulk, atCheckpoint } = recording(16);
    await bulk.checkpointIfDue(wal, 10); // no WAL yet
    writeFileSync(wal, '');
    truncateSync(wal, CHECKPOINT_WAL_BYTES - 1);
    await bulk.checkpointIfDue(wal, CHECKPOINT_ROWS - 11);
    expect(atCheckpoint).toHaveLength(0);
    await bulk.checkpointIfDue(wal, 1); // 100,000 rows
    expect(atCheckpoint).toHaveLength(1);
    await bulk.checkpointIfDue(wal, CHECKPOINT_ROWS - 1); // counted from the last checkpoint
    expect(atCheckpoint).toHaveLength(1);
    truncateSync(wal, CHECKPOINT_WAL_BYTES);
    await bulk.checkpointIfDue(wal, 0);
    expect(atCheckpoint).toHaveLength(2);
    // An import's rows (written to the file as they are inserted) are not counted.
    truncateSync(wal, 0);
    await bulk.enter(undefined);
    await bulk.checkpointIfDue(wal, CHECKPOINT_ROWS);
    await bulk.leave();
    await bulk.checkpointIfDue(wal, 0);
    expect(atCheckpoint).toHaveLength(2);
    // A store without a bound leaves checkpoints to DuckDB.
    const plain = recording();
    truncateSync(wal, CHECKPOINT_WAL_BYTES);
    await plain.bulk.checkpointIfDue(wal, CHECKPOINT_ROWS);
    expect(plain.atCheckpoint).toHaveLength(0);
    const threshold = async (own: boolean) => {
      const { instance, connection: c } = await connectDuckDB(':memory:', 1, own);
      const value = (
        await c.runAndReadAll("SELECT current_setting('checkpoint_threshold')")
      ).getRows()[0]?.[0];
      c.closeSync();
      instance.closeSync();
      return String(value);
    };
    expect(await threshold(false)).toBe('16.0 MiB');
    expect(await threshold(true)).toBe('244.1 MiB'); // 256 MB
  });

  it('checkpoints unbounded in a store without a bound, and during a bulk load', async () => {
    const before = await setting();
    const plain = recording();
    await plain.bulk.checkpoint();
    expect(plain.atCheckpoint).toEqual([before]);
    const loading = recording(16);
    await loading.bulk.enter(undefined);
    await loading.bulk.checkpoint();
    await loading.bulk.leave();
    expect(loading.atCheckpoint).toEqual([before]);
  });

  it('doubles the bound for a write that needs more', async () => {
    const bulk = settings(16);
    await bulk.enter(16);
    const seen: string[] = [];
    await bulk.withinBound(async () => {
      seen.push(await setting());
      await readFile(); // 32 MiB: refused under 16 MB, then under 32 MB, run under a larger bound
    });
    await bulk.leave();
    expect(seen[0]).toMatch(/^1[45]\.\d+ MiB$/);
    expect(seen.length).toBeGreaterThan(2);
    expect(bytes(seen.at(-1)!)).toBeGreaterThan(32 * 1024 ** 2);
  });

  it('bounds an import, and gives the default back when it ends', async () => {
    const before = await setting();
    const bulk = settings(16);
    await bulk.enter(16);
    expect(await setting()).toMatch(/^1[45]\.\d+ MiB$/);
    await expect(readFile()).rejects.toThrow(/Out of Memory/);
    await bulk.leave();
    expect(near(await setting(), before)).toBe(true);
    await expect(readFile()).resolves.toBeDefined();
  });
});

describe('a checkpoint that fails under its bound (DuckDB invalidates the database)', () => {
  it("doubles the next one's bound, up to DuckDB's default, and the rows stay in the WAL", async () => {
    const path = join(dir, 'failing.duckdb');
    let db = await DuckDBInstance.create(path);
    let c = await db.connect();
    await c.run('CREATE TABLE t (n INTEGER, s VARCHAR)');
    const reopen = async () => {
      try {
        c.closeSync();
        db.closeSync();
      } catch {
        // an invalidated instance may refuse to close cleanly, as in the store
      }
      db = await DuckDBInstance.create(path);
      c = await db.connect();
    };
    const { bulk, atCheckpoint } = recording(16, () => c);
    // DuckDB's own fault injection: the checkpoint fails as one short of memory does, fatally.
    const failNext = async (batch: number) => {
      await c.run(
        `INSERT INTO t SELECT range, 'row ' || range FROM range(${batch * 1000}, ${batch * 1000 + 1000})`,
      );
      await c.run("SET debug_checkpoint_abort = 'before_header'");
    };
    for (let batch = 0; batch < 3; batch++) {
      await failNext(batch);
      await expect(bulk.checkpoint()).rejects.toThrow(/FATAL|invalidated/);
      await reopen();
    }
    await bulk.checkpoint();
    // DuckDB reads `16MB` as 16,000,000 bytes (it prints 15.2 MiB).
    expect(atCheckpoint.map((limit) => Math.round(bytes(limit) / 1e6))).toEqual([16, 32, 64, 128]);
    const rows = (await c.runAndReadAll('SELECT count(*) FROM t')).getRows()[0]?.[0];
    expect(rows).toBe(3000n);
    // Past DuckDB's default: unbounded.
    const big = recording(4096, () => c).bulk;
    await failNext(3);
    await expect(big.checkpoint()).rejects.toThrow(/FATAL|invalidated/);
    await reopen();
    const before = await setting(() => c);
    await big.checkpoint();
    expect(await setting(() => c)).toBe(before);
    c.closeSync();
    db.closeSync();
  });
});
