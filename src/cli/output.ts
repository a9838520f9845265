/** Rows as printed by the CLI: an aligned table, JSON, or CSV. */
export type OutputFormat = 'table' | 'json' | 'csv';

type Cell = string | number | null | undefined;

/** CSV cell: quoted when needed; text starting with = + - @ is prefixed with ' (formula injection). */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Strips control characters (terminal escapes) from text shown on a terminal. */
export function printable(value: Cell): string {
  if (value === null || value === undefined) return '';
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Formats rows (objects with the same keys) in one of the output formats. */
export function formatRows(
  rows: Record<string, Cell>[],
  format: OutputFormat,
  extra: Record<string, unknown> = {},
): string {
  if (format === 'json') return JSON.stringify({ ...extra, rows }, null, 2);
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (format === 'csv') {
    return [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n');
  }
  const cells = rows.map((r) => columns.map((c) => printable(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (/^-?[\d.]+$/.test(v) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
