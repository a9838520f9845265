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

/**
 * The page summaries' twins by local day of each site's zone (`ts`: the day's first instant),
 * made with the visits table, which knows the zones: a daily query over whole days of the
 * sites' zone reads a row per page and day instead of one per page and hour.
 */
export const DAILY_TWINS = { pages_hourly: 'pages_daily', visit_pages_hourly: 'visit_pages_daily' } as const;

/** A daily twin's table. */
export type DailySummary = (typeof DAILY_TWINS)[keyof typeof DAILY_TWINS];

/** True for a table of counts (`n`): a count summary or its daily twin. */
export function isCountSummary(table: string): boolean {
  return table in COUNT_SUMMARIES || table === DAILY_TWINS.pages_hourly;
}

/** True for a table of visit sums (visits, bounces, duration, pages): a visit summary or its daily twin. */
export function isVisitSummary(table: string): boolean {
  return table in VISIT_SUMMARIES || table === DAILY_TWINS.visit_pages_hourly;
}

/**
 * The summaries made with the visits table, by local day of each site's zone (so a site's are
 * made again with its visits when its zone or goals change): the visit summaries, the daily
 * twins, the daily visitors. The others are made with the hourly rollup.
 */
export const MADE_WITH_VISITS: readonly string[] = [
  ...Object.keys(VISIT_SUMMARIES),
  ...Object.values(DAILY_TWINS),
  'visitors_daily',
];

/** Every summary table. */
export const SUMMARY_TABLES: readonly string[] = [...Object.keys(COUNT_SUMMARIES), ...MADE_WITH_VISITS];

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
