import type { JsonlMapping } from '../../config/schema.js';
import { isError, jsonObject, type LineParser, type ParsedLine } from './record.js';
import { parseFlexibleTime } from './times.js';

/** The `jsonl:cloudflare` preset: Cloudflare HTTP request logs (docs/import.md). */
export const CLOUDFLARE: JsonlMapping = {
  time: 'EdgeStartTimestamp',
  ip: 'ClientIP',
  host: 'ClientRequestHost',
  path: 'ClientRequestURI|ClientRequestPath',
  userAgent: 'ClientRequestUserAgent',
  referrer: 'ClientRequestReferer',
  status: 'EdgeResponseStatus',
  bytes: 'EdgeResponseBytes',
  country: 'ClientCountry',
  region: 'ClientRegionCode',
  asn: 'ClientASN',
  deviceType: 'ClientDeviceType',
  node: 'EdgeColoCode',
};

/** Reads a field by dotted path; `a|b` takes the first present. */
function field(object: Record<string, unknown>, path: string | undefined): unknown {
  if (path === undefined) return undefined;
  for (const option of path.split('|')) {
    let value: unknown = object;
    for (const key of option.split('.')) {
      value =
        value !== null && typeof value === 'object' && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    if (value !== undefined && value !== null && value !== '') return value;
  }
  return undefined;
}

const text = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;

const integer = (value: unknown): number | null => {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
};

const DEVICE_TYPES = new Set(['desktop', 'mobile', 'tablet']);

/**
 * A parser for JSON lines with a field mapping. A line must be a JSON object with a readable
 * time and, without `--site`, a host; every other field is optional and unknown fields are
 * ignored. The country is upper-cased; a region code is joined to it (`FR` + `IDF` → `FR-IDF`).
 */
export function jsonlParser(mapping: JsonlMapping): LineParser {
  return (line: string): ParsedLine => {
    const record = jsonObject(line);
    if (isError(record)) return record;
    const ts = parseFlexibleTime(field(record, mapping.time));
    if (ts === null) return { error: `no readable time in ${mapping.time}` };
    const country = text(field(record, mapping.country))?.toUpperCase() ?? null;
    const validCountry = country && /^[A-Z]{2}$/.test(country) ? country : null;
    const region = text(field(record, mapping.region))?.toUpperCase() ?? null;
    const device = text(field(record, mapping.deviceType))?.toLowerCase() ?? null;
    return {
      kind: 'http',
      ts,
      ip: text(field(record, mapping.ip)) ?? '',
      host: text(field(record, mapping.host))?.toLowerCase() ?? null,
      target: text(field(record, mapping.path)) ?? '/',
      status: integer(field(record, mapping.status)),
      bytes: integer(field(record, mapping.bytes)),
      referrer: text(field(record, mapping.referrer)),
      userAgent: text(field(record, mapping.userAgent)) ?? '',
      ...(mapping.country ? { country: validCountry } : {}),
      ...(mapping.region
        ? {
            region:
              validCountry && region && /^[A-Z0-9]{1,3}$/.test(region)
                ? `${validCountry}-${region}`
                : region && /^[A-Z]{2}-[A-Z0-9]{1,3}$/.test(region)
                  ? region
                  : null,
          }
        : {}),
      ...(mapping.asn ? { asn: integer(field(record, mapping.asn)) } : {}),
      ...(mapping.deviceType ? { deviceType: device && DEVICE_TYPES.has(device) ? device : null } : {}),
      ...(mapping.node ? { node: text(field(record, mapping.node))?.slice(0, 64) ?? null } : {}),
    };
  };
}
