import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from './api.js';
import { SAFETY_CHECKPOINT } from './bulk-settings.js';
import { CREATE_STAGING } from './sql.js';

/**
 * Opens a DuckDB file (`:memory:`: none) and its one connection, with the store's staging table.
 * `threads`: DuckDB's (default: one per core); `ownCheckpoints`: the store checkpoints itself
 * (`BulkSettings.checkpointIfDue`), DuckDB's own threshold then only a safety net far past it.
 */
export async function connectDuckDB(
  path: string,
  threads: number | undefined,
  ownCheckpoints: boolean,
): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  const instance = await DuckDBInstance.create(
    path,
    threads === undefined ? undefined : { threads: String(threads) },
  );
  try {
    const connection = await instance.connect();
    await connection.run(CREATE_STAGING);
    if (ownCheckpoints) await connection.run(`SET checkpoint_threshold = '${SAFETY_CHECKPOINT}'`);
    return { instance, connection };
  } catch (error) {
    instance.closeSync();
    throw error;
  }
}
