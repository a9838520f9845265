import type { Config } from '../config/schema.js';
import { SqlWriter } from '../store/dialect.js';
import type { StoreReader } from '../store/store.js';
import { resolveQuery } from './getSeries.js';

/** A custom event property and how many events of the range carry it. */
export interface PropertyCount {
  name: string;
  events: number;
}

/** Most property names listed. */
const LIMIT = 20;

/**
 * The custom properties of the events of a range (`sites` or `group`, `last` or `from`/`to`,
 * `tz`: the query model's fields), most used first, counting every event as the `events` metric
 * does (bots' too): the names a breakdown by `property` can ask for
 * (docs/insights.md#custom-properties).
 */
export async function topProperties(
  store: StoreReader,
  config: Config,
  input: Record<string, unknown>,
  now = Date.now(),
): Promise<{ properties: PropertyCount[] }> {
  const { sites, start, end } = resolveQuery(config, { ...input, metric: 'events', interval: '1d' }, now);
  const sql = new SqlWriter(store.dialect);
  const where = [
    `site IN (${sql.list(sites)})`,
    `ts >= ${sql.instant(start)}`,
    `ts < ${sql.instant(end)}`,
    'props IS NOT NULL',
  ].join(' AND ');
  const rows = await store.query<{ name: string; events: number }>(
    `SELECT k AS name, ${sql.count()} AS events FROM (SELECT ${sql.jsonKeys('props')} AS k FROM events WHERE ${where})
     GROUP BY k ORDER BY events DESC, k LIMIT ${LIMIT}`,
    sql.params,
  );
  return { properties: rows.map((row) => ({ name: String(row.name), events: Number(row.events) })) };
}
