import { csvText } from './csv.js';
import type { EventRow } from './row.js';

/*
 * Row CSV (store/csv.ts) written straight into bytes: the same bytes as `rowCsvLine` encoded as
 * UTF-8 (tested equal), without the line's string. An import's worker wrote each row as a string
 * of some sixty concatenated parts and then encoded it: a quarter of the bytes it allocated and
 * ≈ 10 % of its time (BENCHMARKS.md). ASCII text, which log fields almost always are, is copied
 * code unit by code unit; a field with anything else goes through Buffer's own UTF-8 encoder.
 */

const QUOTE = 0x22;
const COMMA = 0x2c;

/** Room enough for any row's CSV line: 3 bytes per UTF-16 unit of text, quotes and numbers. */
export function rowCsvBound(row: EventRow): number {
  let units = row.id.length + row.site.length + row.type.length + row.source.length;
  units += (row.visitorHash?.length ?? 0) + (row.sessionHash?.length ?? 0);
  units += (row.name?.length ?? 0) + (row.path?.length ?? 0) + (row.title?.length ?? 0);
  units += (row.referrerHost?.length ?? 0) + (row.referrerClass?.length ?? 0) + (row.country?.length ?? 0);
  units += (row.region?.length ?? 0) + (row.deviceType?.length ?? 0) + (row.browser?.length ?? 0);
  units += (row.os?.length ?? 0) + (row.node?.length ?? 0) + (row.props?.length ?? 0);
  units += (row.utmSource?.length ?? 0) + (row.utmMedium?.length ?? 0) + (row.utmCampaign?.length ?? 0);
  units += (row.utmTerm?.length ?? 0) + (row.utmContent?.length ?? 0) + (row.screenClass?.length ?? 0);
  // A doubled quote is 2 bytes for 1 unit, a non-ASCII unit at most 3; 30 fields of at most 2
  // quotes and a separator (the last a newline), four numbers of at most 24 characters each, and
  // two booleans of at most 5.
  return 3 * units + 3 * 30 + 4 * 24 + 2 * 5;
}

/**
 * Writes `row`'s CSV line (newline included) into `out` at `at` and returns the offset after it.
 * `out` must have `rowCsvBound(row)` bytes free from `at`.
 */
export function writeRowCsv(row: EventRow, out: Buffer, at: number): number {
  at = ascii(out, at, row.id);
  out[at++] = COMMA;
  at = time(out, at, row.ts);
  out[at++] = COMMA;
  at = text(out, at, row.site);
  out[at++] = COMMA;
  at = ascii(out, at, row.type);
  out[at++] = COMMA;
  at = text(out, at, row.name);
  out[at++] = COMMA;
  at = text(out, at, row.path);
  out[at++] = COMMA;
  at = text(out, at, row.title);
  out[at++] = COMMA;
  at = text(out, at, row.referrerHost);
  out[at++] = COMMA;
  at = text(out, at, row.referrerClass);
  out[at++] = COMMA;
  at = text(out, at, row.country);
  out[at++] = COMMA;
  at = text(out, at, row.region);
  out[at++] = COMMA;
  at = number(out, at, row.asn);
  out[at++] = COMMA;
  at = text(out, at, row.deviceType);
  out[at++] = COMMA;
  at = text(out, at, row.browser);
  out[at++] = COMMA;
  at = text(out, at, row.os);
  out[at++] = COMMA;
  at = bool(out, at, row.isBot);
  out[at++] = COMMA;
  at = ascii(out, at, row.visitorHash ?? '');
  out[at++] = COMMA;
  at = ascii(out, at, row.sessionHash ?? '');
  out[at++] = COMMA;
  at = text(out, at, row.node);
  out[at++] = COMMA;
  at = number(out, at, row.status);
  out[at++] = COMMA;
  at = number(out, at, row.bytes);
  out[at++] = COMMA;
  at = ascii(out, at, row.source);
  out[at++] = COMMA;
  at = text(out, at, row.props);
  out[at++] = COMMA;
  at = text(out, at, row.utmSource);
  out[at++] = COMMA;
  at = text(out, at, row.utmMedium);
  out[at++] = COMMA;
  at = text(out, at, row.utmCampaign);
  out[at++] = COMMA;
  at = text(out, at, row.utmTerm);
  out[at++] = COMMA;
  at = text(out, at, row.utmContent);
  out[at++] = COMMA;
  at = bool(out, at, row.paid);
  out[at++] = COMMA;
  at = text(out, at, row.screenClass);
  out[at++] = 0x0a;
  return at;
}

/** A field written as it is (`${value}` in rowCsvLine): ids, hashes, enums. */
function ascii(out: Buffer, at: number, value: string): number {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) return at + out.write(value, at, 'utf8');
    out[at + i] = c;
  }
  return at + n;
}

/** A text field as `csvText` writes it: empty for null, quoted when it must be or is empty. */
function text(out: Buffer, at: number, value: string | null): number {
  if (value === null) return at;
  const n = value.length;
  if (n === 0) {
    out[at] = QUOTE;
    out[at + 1] = QUOTE;
    return at + 2;
  }
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    // Anything but plain ASCII: written again from the start by the general path.
    if (c >= 0x80 || c === QUOTE || c === COMMA || c === 0x0d || c === 0x0a) return otherText(out, at, value);
    out[at + i] = c;
  }
  return at + n;
}

/** A text field that is not plain ASCII: `csvText`'s own string, encoded. */
function otherText(out: Buffer, at: number, value: string): number {
  return at + out.write(csvText(value), at, 'utf8');
}

/** A number field as `csvNumber` writes it: empty for null. */
function number(out: Buffer, at: number, value: number | null): number {
  return value === null ? at : decimal(out, at, value);
}

/** The time field as `csvTime` writes it: whole milliseconds. */
function time(out: Buffer, at: number, ts: number): number {
  return decimal(out, at, Math.trunc(ts));
}

/** `String(value)`'s digits; whole numbers from 0 to 2^53 without making the string. */
function decimal(out: Buffer, at: number, value: number): number {
  if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Math.floor(value) === value))
    return ascii(out, at, String(value));
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = at + digits - 1; i >= at; i--) {
    const next = Math.floor(rest / 10);
    out[i] = 0x30 + (rest - next * 10);
    rest = next;
  }
  return at + digits;
}

function bool(out: Buffer, at: number, value: boolean): number {
  return ascii(out, at, value ? 'true' : 'false');
}
