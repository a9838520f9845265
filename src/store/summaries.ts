// The summaries the embedded store keeps at ingest beside its rollup and visits table
// (docs/insights.md, "Query plans"): per UTC hour, one grouping per dimension — a row per hour,
// site, dimension (`dim`) and value — so that a ranked table or a total reads a few rows per hour
// instead of the events or the rollup's every combination of dimensions. High-cardinality
// dimensions (pages) have tables of their own, so that the others stay small.

/** Count summaries (`n` per hour, site, type, bot flag, dimension and value), by table. */
export const COUNT_SUMMARIES = {
  pages_hourly: ['path', 'referrer_host'],
  dims_hourly: [
    'device_type',
    'country',
    'region',
    'browser',
    'os',
    'referrer_class',
    'node',
    'screen_class',
  ],
} as const;

/**
 * Visit summaries (visits, bounces, duration and pages per hour of the visits' start, site,
 * dimension and value), by table; `''` is the total (value NULL).
 */
export const VISIT_SUMMARIES = {
  visits_hourly: [
    '',
    'utm_source',
    'utm_medium',
    'utm_campaign',
    'utm_term',
    'utm_content',
    'referrer_class',
    'country',
    'region',
    'device_type',
    'browser',
    'os',
    'screen_class',
  ],
  visit_pages_hourly: ['entry_page', 'exit_page', 'referrer_host'],
} as const;

/** A count summary's table. */
export type CountSummary = keyof typeof COUNT_SUMMARIES;
/** A visit summary's table. */
export type VisitSummary = keyof typeof VISIT_SUMMARIES;

/** The table of `kind` keeping dimension `dim` (undefined when none does). */
export function summaryOf<K extends string>(
  tables: Record<K, readonly string[]>,
  dim: string,
): K | undefined {
  return (Object.keys(tables) as K[]).find((table) => tables[table].includes(dim));
}

/**
 * The SELECT columns `dim` and `value` and the GROUPING SETS of a summary over `dims` (the
 * total `''` as the set of `keys` alone), for a statement grouping by `keys` too.
 */
export function groupings(dims: readonly string[], keys: string): { columns: string; sets: string } {
  const named = dims.filter((dim) => dim !== '');
  const first = (then: (dim: string) => string, otherwise: string) =>
    `CASE ${named.map((dim) => `WHEN grouping(${dim}) = 0 THEN ${then(dim)}`).join(' ')} ELSE ${otherwise} END`;
  return {
    columns: `${first((dim) => `'${dim}'`, "''")} AS dim, ${first((dim) => `${dim}::VARCHAR`, 'NULL')} AS value`,
    sets: dims.map((dim) => (dim === '' ? `(${keys})` : `(${keys}, ${dim})`)).join(', '),
  };
}
