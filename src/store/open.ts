import type { Config } from '../config/schema.js';
import { ClickHouseStore } from './clickhouse/clickhouse-store.js';
import { DuckDBStore } from './duckdb/duckdb-store.js';
import type { Store } from './store.js';

/** Opens the store named by the config: an embedded DuckDB file, or a ClickHouse server. */
export async function openStore(config: Config): Promise<Store> {
  const store = config.store;
  switch (store.kind) {
    case 'duckdb':
      return DuckDBStore.open(store.path);
    case 'clickhouse':
      return ClickHouseStore.open({
        url: store.url,
        database: store.database,
        requestTimeoutMs: store.requestTimeoutMs,
        ...(store.username ? { username: store.username } : {}),
        ...(store.password ? { password: store.password } : {}),
      });
  }
}

/** Where the configured store is, in words (messages, the demo's banner). */
export function describeStore(config: Config): string {
  const store = config.store;
  return store.kind === 'duckdb' ? store.path : `ClickHouse ${store.url} database ${store.database}`;
}
