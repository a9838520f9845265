/**
 * The stores a store-level suite runs on. `BALISE_TEST_STORES` (comma-separated: duckdb,
 * clickhouse) chooses them; `npm test` runs the suites on DuckDB, then `npm run test:clickhouse`
 * runs the same files on ClickHouse (a ClickHouse 26.7 server the global setup starts).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { ConfigInput } from '../src/config/schema.js';
import { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import type { Store } from '../src/store/store.js';

/** A store kind a suite runs on. */
export type StoreKind = 'duckdb' | 'clickhouse';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The ClickHouse test server's URL, when the run includes ClickHouse. */
    clickhouseUrl: string;
  }
}

/** The kinds this run tests (default: DuckDB). */
export function storeKinds(): StoreKind[] {
  const named = (process.env.BALISE_TEST_STORES ?? 'duckdb').split(',').map((k) => k.trim());
  return named.filter((k): k is StoreKind => k === 'duckdb' || k === 'clickhouse');
}

/** A fresh ClickHouse database name. */
export function freshDatabase(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** The `store:` settings for a gateway on `kind` (a DuckDB file under `dir`, or a fresh ClickHouse database). */
export function storeSettings(
  kind: StoreKind,
  dir: string,
  database = freshDatabase(),
): ConfigInput['store'] {
  return kind === 'duckdb'
    ? { kind: 'duckdb', path: join(dir, 'balise.duckdb') }
    : { kind: 'clickhouse', url: inject('clickhouseUrl'), database, spoolDir: join(dir, 'balise.spool') };
}

/** Opens and migrates a fresh, empty store of `kind` (DuckDB in memory or a file under `dir`). */
export async function openTestStore(kind: StoreKind, dir?: string): Promise<Store> {
  const store =
    kind === 'duckdb'
      ? await DuckDBStore.open(dir ? join(dir, `${freshDatabase()}.duckdb`) : ':memory:')
      : ClickHouseStore.open({ url: inject('clickhouseUrl'), database: freshDatabase() });
  await store.migrate();
  return store;
}
