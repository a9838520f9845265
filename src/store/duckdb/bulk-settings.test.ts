import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkSettings } from './bulk-settings.js';

// A real DuckDB. Its JSON reader takes a 32 MiB buffer for any file: a statement that needs more
// than a 16 MB bound and fits in DuckDB's default.
let dir: string;
let file: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
const setting = async () =>
  String((await connection.runAndReadAll("SELECT current_setting('memory_limit')")).getRows()[0]?.[0]);
/** `18.7 GiB` → bytes: DuckDB prints its limit rounded (set back by value, it may print 18.6). */
function bytes(text: string): number {
  const m = /^([\d.]+) (KiB|MiB|GiB|TiB)$/.exec(text);
  if (!m) throw new Error(`not a DuckDB size: ${text}`);
  return Number(m[1]) * 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(m[2]!) + 1);
}
const near = (a: string, b: string) => Math.abs(bytes(a) / bytes(b) - 1) < 0.01;
const readFile = () =>
  connection.run(`SELECT count(*) FROM read_json('${file}', format = 'newline_delimited')`);
const settings = (writeBoundMb?: number) =>
  new BulkSettings(
    (sql) => connection.run(sql),
    async (sql) => (await connection.runAndReadAll(sql)).getRows()[0]?.[0],
    undefined,
    writeBoundMb,
  );

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

describe("a store's memory bound for writes (a gateway's live ingest)", () => {
  it('runs each write within the bound, doubling it for a write that needs more, then gives the default back', async () => {
    const before = await setting();
    const bulk = settings(16);
    const seen: string[] = [];
    await bulk.withinBound(async () => {
      seen.push(await setting());
      await readFile(); // 32 MiB: refused under 16 MB, then under 32 MB, run under 64 MB
    });
    expect(seen[0]).toMatch(/^1[45]\.\d+ MiB$/);
    expect(seen.length).toBeGreaterThan(2);
    expect(bytes(seen.at(-1)!)).toBeGreaterThan(32 * 1024 ** 2);
    expect(near(await setting(), before)).toBe(true);
    // DuckDB's own buffer pool is back at its default too (its `RESET memory_limit` leaves it
    // at the bound): the same statement runs outside a write.
    await expect(readFile()).resolves.toBeDefined();
  });

  it('leaves writes unbounded in a store without a write bound', async () => {
    const before = await setting();
    let during = '';
    await settings().withinBound(async () => {
      during = await setting();
    });
    expect(during).toBe(before);
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
