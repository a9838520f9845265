// Rows into and out of DuckDB: the appender's order for events, the egress log's records in one
// statement, and the plain JavaScript values read back (with a query's time limit).
import type { DuckDBAppender, DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { egressLine, type EgressRecord } from '../egress.js';
import type { EventRow } from '../row.js';
import { QueryTimeout, type SqlParam } from '../store.js';

/** Appends one event row, in the staging table's column order. */
export function appendRow(appender: DuckDBAppender, row: EventRow): void {
  const text = (v: string | null): void => (v === null ? appender.appendNull() : appender.appendVarchar(v));
  const int = (v: number | null): void =>
    v === null ? appender.appendNull() : appender.appendBigInt(BigInt(v));
  appender.appendVarchar(row.id);
  appender.appendBigInt(BigInt(Math.trunc(row.ts)));
  appender.appendVarchar(row.site);
  appender.appendVarchar(row.type);
  text(row.name);
  text(row.path);
  text(row.title);
  text(row.referrerHost);
  text(row.referrerClass);
  text(row.country);
  text(row.region);
  int(row.asn);
  text(row.deviceType);
  text(row.browser);
  text(row.os);
  appender.appendBoolean(row.isBot);
  text(row.visitorHash);
  text(row.sessionHash);
  text(row.node);
  if (row.status === null) appender.appendNull();
  else appender.appendInteger(row.status);
  int(row.bytes);
  appender.appendVarchar(row.source);
  text(row.props);
  text(row.utmSource);
  text(row.utmMedium);
  text(row.utmCampaign);
  text(row.utmTerm);
  text(row.utmContent);
  appender.appendBoolean(row.paid);
  text(row.screenClass);
  appender.endRow();
}

/** A value read back as plain JavaScript: 64-bit integers as numbers when exact, else as text. */
export function toJs(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}

// Egress-log records as one JSON text, inserted by one statement: DuckDB parses, converts and
// commits them off the event loop. Through an appender, its synchronous close took ≈ 6 ms (up to
// 10) of the event loop at every flush of a gateway under load (BENCHMARKS.md).
const INSERT_EGRESS = `INSERT INTO egress
    (ts, site, tool, host, path, bytes, sha256, policy, outcome, status, reason, delivery_id, deliveries, fields)
  SELECT make_timestamp(r.ts * 1000), r.site, r.tool, r.host, r.path, r.bytes, r.sha256, r.policy, r.outcome,
    r.status, r.reason, r.delivery_id, r.deliveries, r.fields
  FROM (SELECT unnest(from_json($1::VARCHAR, '[{"ts": "BIGINT", "site": "VARCHAR", "tool": "VARCHAR",
    "host": "VARCHAR", "path": "VARCHAR", "bytes": "BIGINT", "sha256": "VARCHAR", "policy": "VARCHAR",
    "outcome": "VARCHAR", "status": "INTEGER", "reason": "VARCHAR", "delivery_id": "VARCHAR",
    "deliveries": "INTEGER", "fields": "VARCHAR"}]')) AS r)`;

/** Appends egress-log records to the `egress` table. The caller holds the store's lock. */
export async function appendEgressRows(
  connection: DuckDBConnection,
  records: readonly EgressRecord[],
): Promise<void> {
  await connection.run(INSERT_EGRESS, [`[${records.map(egressLine).join(',')}]`]);
}

/**
 * Runs a query and returns its rows as plain objects; with `timeoutMs`, a query still running
 * then is interrupted and rejects with QueryTimeout. The caller holds the store's lock.
 */
export async function readRows<T>(
  connection: DuckDBConnection,
  sql: string,
  params: readonly SqlParam[],
  timeoutMs?: number,
): Promise<T[]> {
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          connection.interrupt();
        }, timeoutMs);
  let reader;
  try {
    reader = await connection.runAndReadAll(sql, params as DuckDBValue[]);
  } catch (error) {
    if (timedOut) throw new QueryTimeout(timeoutMs!);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  // Converted a column at a time (the same JS values as row objects, a third of the time on
  // thousands of rows: BENCHMARKS.md), then put together as rows.
  const columns = reader.getColumnsJS();
  const names = reader.columnNames();
  const rows: T[] = [];
  for (let i = 0; i < reader.currentRowCount; i++) {
    const out: Record<string, unknown> = {};
    for (let j = 0; j < names.length; j++) out[names[j]!] = toJs(columns[j]![i]);
    rows.push(out as T);
  }
  return rows;
}
