import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { SqlWriter } from '../dialect.js';
import { localDayRanges, visitRows } from '../visits.js';

// The visits table (one row per visit, docs/insights.md#visits) kept from the events: the hours
// written since the last refresh (`visits_dirty`, filled from the rollup's dirty hours) name the
// local days whose visits are rebuilt, and in them the visitors whose visits are made again from
// all their events of the day.

/** How many local days of visits a refresh rebuilt (a day of two sites in one zone counts once). */
export interface VisitsRefresh {
  days: number;
}

async function rows(connection: DuckDBConnection, sql: string, params: DuckDBValue[] = []) {
  return (await connection.runAndReadAll(sql, params)).getRows();
}

/**
 * Rebuilds the visits of every local day holding a dirty hour, for the sites of `zones` (site →
 * the time zone its visitor hashes' salt days follow), sites of one zone in one statement per
 * run of days. A site whose zone is new or changed has all its days rebuilt. Runs in the
 * caller's transaction, under the store's lock.
 */
export async function rebuildVisits(
  connection: DuckDBConnection,
  zones: ReadonlyMap<string, string>,
): Promise<VisitsRefresh> {
  const known = new Map(
    (await rows(connection, 'SELECT site, tz FROM visit_zones')).map(([site, tz]) => [
      String(site),
      String(tz),
    ]),
  );
  for (const [site, tz] of zones) {
    if (known.get(site) === tz) continue;
    await connection.run('DELETE FROM visits WHERE site = $1', [site]);
    await connection.run(
      "INSERT OR IGNORE INTO visits_dirty SELECT DISTINCT date_trunc('hour', ts) FROM events WHERE site = $1",
      [site],
    );
    await connection.run('INSERT OR REPLACE INTO visit_zones VALUES ($1, $2)', [site, tz]);
  }
  const hours = (await rows(connection, 'SELECT epoch_ms(hour) // 3600000 FROM visits_dirty')).map(Number);
  if (hours.length === 0) return { days: 0 };
  const sitesByZone = new Map<string, string[]>();
  for (const [site, tz] of zones) sitesByZone.set(tz, [...(sitesByZone.get(tz) ?? []), site]);
  let days = 0;
  for (const [tz, sites] of sitesByZone) {
    for (const [start, end] of localDayRanges(hours, tz)) {
      days += Math.round((end - start) / 86_400_000);
      const sql = new SqlWriter('duckdb');
      const range = `site IN (${sql.list(sites)}) AND ts >= ${sql.instant(start)} AND ts < ${sql.instant(end)}`;
      // Only the visitors of those days with an event, or a visit starting, in a written hour:
      // their visits of the day are made again from all their events of the day (a visitor hash
      // lives one day), the others' stay as they are.
      const written = "date_trunc('hour', ts) IN (SELECT hour FROM visits_dirty)";
      await connection.run(
        `CREATE OR REPLACE TEMP TABLE visits_touched AS
         SELECT DISTINCT site, visitor_hash FROM events
         WHERE ${range} AND ${written} AND NOT is_bot AND visitor_hash IS NOT NULL
         UNION SELECT site, visitor_hash FROM visits WHERE ${range} AND ${written}`,
        sql.params,
      );
      const touched = (table: string) =>
        `EXISTS (SELECT 1 FROM visits_touched t WHERE t.site = ${table}.site AND t.visitor_hash = ${table}.visitor_hash)`;
      await connection.run(`DELETE FROM visits WHERE ${range} AND ${touched('visits')}`, sql.params);
      await connection.run(
        `INSERT INTO visits BY NAME SELECT * FROM ${visitRows(sql, `${range} AND ${touched('events')}`)}`,
        sql.params,
      );
    }
  }
  await connection.run('DROP TABLE IF EXISTS visits_touched');
  await connection.run('DELETE FROM visits_dirty');
  return { days };
}
