// The ClickHouse store's SQL and wire helpers: the rows' structures as input() reads them, the
// egress log's insert, parameter bindings and request bodies. Values are always bound parameters.
import { Readable } from 'node:stream';
import type { SqlParam } from '../store.js';

// The rows of a spool segment or an append: EventRow JSON lines, keys as EventRow names them.
export const JSON_STRUCTURE =
  'id String, ts Int64, site String, type String, name Nullable(String), path Nullable(String), ' +
  'title Nullable(String), referrerHost Nullable(String), referrerClass Nullable(String), ' +
  'country Nullable(String), region Nullable(String), asn Nullable(UInt32), deviceType Nullable(String), ' +
  'browser Nullable(String), os Nullable(String), isBot Bool, visitorHash Nullable(String), ' +
  'sessionHash Nullable(String), node Nullable(String), status Nullable(UInt16), bytes Nullable(UInt64), ' +
  'source String, props Nullable(String), utmSource Nullable(String), utmMedium Nullable(String), ' +
  'utmCampaign Nullable(String), utmTerm Nullable(String), utmContent Nullable(String), paid Bool, ' +
  'screenClass Nullable(String)';

// The same columns by position (row CSV, store/csv.ts).
export const CSV_STRUCTURE = JSON_STRUCTURE;

// Either file's columns as `events` stores them, in its order.
export const AS_STORED = `toUUID(id), fromUnixTimestamp64Milli(ts, 'UTC'), site, type, name, path, title, referrerHost,
  referrerClass, country, region, asn, deviceType, browser, os, isBot, CAST(visitorHash AS Nullable(UInt64)),
  CAST(sessionHash AS Nullable(UInt64)), node, status, bytes, source, props, utmSource, utmMedium, utmCampaign,
  utmTerm, utmContent, paid, screenClass`;

// CSV as store/csv.ts writes it: an empty field is NULL, `""` the empty string.
export const CSV_SETTINGS = {
  format_csv_null_representation: '',
  input_format_csv_empty_as_default: 0,
} as const;

// ClickHouse refusing a line of a file (not the server being away).
export const UNREADABLE =
  /CANNOT_PARSE|INCORRECT_DATA|CANNOT_READ_ALL_DATA|TYPE_MISMATCH|CANNOT_CONVERT_TYPE|Cannot parse/;

export const TIMEOUT = /TIMEOUT_EXCEEDED|Timeout exceeded/;

// The egress log's rows as JSON lines, times as epoch ms, into `egress` through input().
export const INSERT_EGRESS = `INSERT INTO egress SELECT fromUnixTimestamp64Milli(ts, 'UTC'), site, tool, host, path, bytes, sha256,
        policy, outcome, status, reason, delivery_id, deliveries, fields
        FROM input('ts Int64, site String, tool String, host String, path String, bytes Int64, sha256 String,
          policy String, outcome String, status Nullable(Int32), reason Nullable(String), delivery_id String,
          deliveries Int32, fields Nullable(String)') FORMAT JSONEachRow`;

/** `params[N-1]` as the binding of `{pN:…}`. */
export function bindings(params: readonly SqlParam[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  params.forEach((value, index) => {
    out[`p${index + 1}`] = typeof value === 'bigint' ? value.toString() : value;
  });
  return out;
}

/** A request body as a stream (what the client sends `exec` values as). */
export function toStream(data: Readable | string): Readable {
  return typeof data === 'string' ? Readable.from([data]) : data;
}

/** Resolves once a response body has been read to its end (the statement is done). */
export function drained(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('end', () => resolve());
    stream.resume();
  });
}
