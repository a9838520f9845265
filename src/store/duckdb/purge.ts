import type { DuckDBConnection } from '@duckdb/node-api';
import { SUMMARY_TABLES } from '../summaries.js';

/**
 * Deletes what is older than `beforeTs` (epoch ms) — events, hourly rollups, egress records,
 * visits and summaries, and their dirty marks — inside the caller's transaction; the hour the
 * cutoff falls in is marked dirty when events went (its rollup is made again). Returns the rows
 * deleted.
 */
export async function purgeBefore(
  connection: DuckDBConnection,
  beforeTs: number,
): Promise<{ events: number; hourly: number; egress: number }> {
  const cutoff = [Math.trunc(beforeTs)];
  const purge = (table: string, column = 'ts') =>
    connection.run(`DELETE FROM ${table} WHERE ${column} < epoch_ms($1::BIGINT)`, cutoff);
  const events = await purge('events');
  const hourly = await purge('events_hourly');
  await purge('rollup_dirty', 'hour');
  const egress = await purge('egress');
  // Visits go by their first event's time, summaries by their hour or day; the cutoff's
  // hour and day are made again from its hour below.
  for (const table of ['visits', ...SUMMARY_TABLES]) await purge(table);
  await purge('visits_dirty', 'hour');
  // The hour the cutoff falls in may have lost some of its rows: its rollup is made again.
  if (events.rowsChanged > 0)
    await connection.run(
      "INSERT OR IGNORE INTO rollup_dirty VALUES (date_trunc('hour', epoch_ms($1::BIGINT)))",
      cutoff,
    );
  return { events: events.rowsChanged, hourly: hourly.rowsChanged, egress: egress.rowsChanged };
}
