import type { Config } from '../config/schema.js';
import { DuckDBStore } from './duckdb/duckdb-store.js';
import type { Store } from './store.js';

/** Opens the store named by the config (DuckDB now; ClickHouse joins here). */
export async function openStore(config: Config): Promise<Store> {
  switch (config.store.kind) {
    case 'duckdb':
      return DuckDBStore.open(config.store.path);
  }
}
