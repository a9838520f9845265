import { parse as parseJson } from 'secure-json-parse';

/** One HTTP request read from a log line, before the pipeline. Raw values live only in memory. */
export interface HttpRecord {
  kind: 'http';
  ts: number;
  ip: string;
  /** Host the request was for, when the log has it. */
  host: string | null;
  /** Path with its query, or an absolute URL. */
  target: string;
  status: number | null;
  bytes: number | null;
  referrer: string | null;
  userAgent: string;
  /** Values the log itself gives (CDN exports); they win over the IP and UA lookups. */
  country?: string | null;
  region?: string | null;
  asn?: number | null;
  deviceType?: string | null;
  node?: string | null;
}

/** One DNS query read from a log line. */
export interface DnsRecord {
  kind: 'dns';
  ts: number;
  ip: string;
  /** The queried name, lowercase, without a trailing dot. */
  name: string;
  /** Query type: A, AAAA, MX… */
  qtype: string;
}

/** What a format makes of a line: a record, or the reason it is a bad line. */
export type ParsedLine = HttpRecord | DnsRecord | { error: string };

/** A line format: text in, record or reason out. */
export type LineParser = (line: string) => ParsedLine;

/** A line parsed as a JSON object (prototype keys removed), or why it is a bad line. */
export function jsonObject(line: string): Record<string, unknown> | { error: string } {
  let object: unknown;
  try {
    object = parseJson(line, undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch {
    return { error: 'not valid JSON' };
  }
  if (object === null || typeof object !== 'object' || Array.isArray(object))
    return { error: 'not a JSON object' };
  return object as Record<string, unknown>;
}

/** True for the `{ error }` answer of a parse step. */
export const isError = (value: object): value is { error: string } =>
  'error' in value && typeof value.error === 'string';
