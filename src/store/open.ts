import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Store } from './store.js';

/**
 * The threads DuckDB gets in a gateway unless `store.threads` says: every core but one, so that
 * the event loop, which answers collect, always has one. DuckDB on every core starved it while a
 * batch was written (its requests' p99 at half the gateway's rate, two cores: 19–76 ms against
 * 14–17 with one DuckDB thread, in turn; BENCHMARKS.md).
 */
export function gatewayThreads(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/**
 * DuckDB's memory bound (MB) while a gateway's store checkpoints (queries and writes keep DuckDB's
 * default). DuckDB's own checkpoints, unbounded, peaked higher as the store grew: 60 s of maximum
 * load peaked at 272–314 MB, against 207–226 bounded (2.1M rows written live: 348–362 against 228),
 * for no more CPU. A checkpoint that runs out of it fails (DuckDB invalidates the database; the
 * store opens it again) and the next gets twice the bound (`BulkSettings.checkpoint`).
 */
export const LIVE_CHECKPOINT_MEMORY_MB = 64;

/**
 * Opens the store named by the config: an embedded DuckDB file, or a ClickHouse server. Only
 * the module of that kind is loaded (a command starts without the other's client). `serving`:
 * for a gateway (DuckDB then leaves a core to the event loop, `gatewayThreads`, and the store
 * checkpoints within `LIVE_CHECKPOINT_MEMORY_MB`).
 */
export async function openStore(config: Config, options: { serving?: boolean } = {}): Promise<Store> {
  const store = config.store;
  switch (store.kind) {
    case 'duckdb': {
      const threads = store.threads ?? (options.serving ? gatewayThreads() : undefined);
      return (await import('./duckdb/duckdb-store.js')).DuckDBStore.open(store.path, {
        threads,
        ...(options.serving ? { checkpointMemoryMb: LIVE_CHECKPOINT_MEMORY_MB } : {}),
      });
    }
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
