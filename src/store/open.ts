import type { Config } from '../config/schema.js';
import type { Store } from './store.js';

/**
 * Opens the store named by the config: an embedded DuckDB file, or a ClickHouse server. Only
 * the module of that kind is loaded (a command starts without the other's client).
 */
export async function openStore(config: Config): Promise<Store> {
  const store = config.store;
  switch (store.kind) {
    case 'duckdb':
      return (await import('./duckdb/duckdb-store.js')).DuckDBStore.open(store.path);
    case 'clickhouse': {
      const { ClickHouseStore } = await import('./clickhouse/clickhouse-store.js');
      return ClickHouseStore.open({
        url: store.url,
        database: store.database,
        requestTimeoutMs: store.requestTimeoutMs,
        ...(store.username ? { username: store.username } : {}),
        ...(store.password ? { password: store.password } : {}),
      });
    }
  }
}

/** Where the configured store is, in words (messages, the demo's banner). */
export function describeStore(config: Config): string {
  const store = config.store;
  return store.kind === 'duckdb' ? store.path : `ClickHouse ${store.url} database ${store.database}`;
}
