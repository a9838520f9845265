import type { Config } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import { SqlWriter } from '../store/dialect.js';
import { QueryTimeout, type StoreReader } from '../store/store.js';
import { formatLocal } from '../time.js';
import { zodPath } from '../zod-path.js';
import { plausibleQuerySchema, VISIT_METRICS, type PlausibleQuery } from './query.js';
import { resolveRange } from './range.js';
import { siteGoals, siteZones } from '../insights/visits.js';
import { isEventFilter, plausibleStatement, readsVisits, type TimeBucket } from './sql.js';

/** One row of an answer, as Plausible writes it. */
export interface PlausibleRow {
  metrics: number[];
  dimensions: string[];
}

/** The answer of `POST /api/v2/query`, in Plausible's shape. */
export interface PlausibleAnswer {
  results: PlausibleRow[];
  meta: { total_rows?: number; imports_included?: boolean };
  query: Omit<PlausibleQuery, 'date_range'> & { date_range: [string, string] };
}

const DAY = 86_400_000;

const invalid = (message: string, path?: string) => new BaliseError('invalid_query', message, path);

/** Plausible's device names. */
const DEVICES: Record<string, string> = {
  desktop: 'Desktop',
  mobile: 'Mobile',
  tablet: 'Tablet',
  bot: 'Bot',
};

/**
 * Answers a Plausible Stats API v2 query (the part docs/plausible.md lists) from the store:
 * metrics over the site's events, or over its visits when a metric, dimension or filter is about
 * visits; grouped by the dimensions, ordered, paginated, rounded as Plausible rounds.
 */
export async function plausibleQuery(
  store: StoreReader,
  config: Config,
  input: unknown,
  now = Date.now(),
): Promise<PlausibleAnswer> {
  const parsed = plausibleQuerySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(issue.message, zodPath(issue.path));
  }
  const query = parsed.data;
  const site = config.sites.find((s) => s.host === query.site_id);
  if (!site)
    throw invalid(
      `unknown site_id ${query.site_id} (sites: ${config.sites.map((s) => s.host).join(', ')})`,
      'site_id',
    );
  if (query.include.time_labels) throw invalid('include.time_labels is not answered', 'include.time_labels');
  const visitMetric = query.metrics.some((m) => VISIT_METRICS.has(m));
  const overVisits = readsVisits(query, visitMetric);
  checkGoals(
    query,
    site.goals.map((goal) => goal.name),
  );
  const eventDimension = query.dimensions.find(
    (d) => d === 'event:page' || d === 'event:name' || d === 'event:goal',
  );
  if (overVisits && eventDimension)
    throw invalid(
      `${eventDimension} is answered with visitors, pageviews and events and filters on where, on what device, only; use visit:entry_page or visit:exit_page for pages of visits`,
      'dimensions',
    );
  for (const [i, [key]] of (query.order_by ?? []).entries())
    if (!query.metrics.includes(key) && !query.dimensions.includes(key))
      throw invalid(`order_by ${key} is neither a metric nor a dimension of the query`, `order_by.${i}`);

  const firstEvent = query.date_range === 'all' ? await firstEventOf(store, site.host) : null;
  const { start, end } = resolveRange(query.date_range, site.timezone, now, firstEvent);
  if (end <= start) throw invalid('the date range ends before it starts', 'date_range');
  const span = end - start;
  const time: TimeBucket = span <= 2 * DAY ? 'hour' : span <= 40 * DAY ? 'day' : 'month';
  // conversion_rate is the row's visitors over the visitors of the same query without its goal.
  const internal = {
    ...query,
    metrics: query.metrics.map((m) => (m === 'conversion_rate' ? 'visitors' : m)),
  };
  // Visits from the store's visits table when it keeps one and no filter is on any event of a
  // visit (plausibleStatement reads it then; brought up to date first).
  const visitsTable = overVisits && store.refreshVisits !== undefined && !query.filters.some(isEventFilter);
  if (visitsTable) await store.refreshVisits!(siteZones(config), siteGoals(config));
  const scan = {
    query: internal,
    site: site.host,
    tz: site.timezone,
    start,
    end,
    time,
    goals: site.goals,
    visitsTable,
  };
  const rows = await run(store, (sql) => plausibleStatement(sql, scan, overVisits));
  let base = 0;
  if (query.metrics.includes('conversion_rate')) {
    const all = {
      ...internal,
      metrics: ['visitors'],
      dimensions: [],
      filters: query.filters.filter(([, name]) => name !== 'event:goal'),
    };
    const [total] = await run(store, (sql) => plausibleStatement(sql, { ...scan, query: all }, overVisits));
    base = Number(total?.m0 ?? 0);
  }
  let results: PlausibleRow[] = rows.map((row) => ({
    dimensions: query.dimensions.map((d, i) => {
      const value = String(row[`d${i}`]);
      return d === 'visit:device' ? (DEVICES[value] ?? value) : value;
    }),
    // Over no visit, a rate, duration or mean is 0, as Plausible answers.
    metrics: query.metrics.map((metric, i) => {
      const value = Number(row[`m${i}`] ?? 0);
      return metric === 'conversion_rate' ? (base ? Math.round((10_000 * value) / base) / 100 : 0) : value;
    }),
  }));
  results.sort(comparator(query));
  const total = results.length;
  results = results.slice(query.pagination.offset, query.pagination.offset + query.pagination.limit);
  return {
    results,
    meta: { imports_included: false, ...(query.include.total_rows ? { total_rows: total } : {}) },
    query: {
      ...query,
      date_range: [formatLocal(start, site.timezone), formatLocal(end - 1000, site.timezone)],
    },
  };
}

/** Runs a statement, a timeout turned into the API's answer. */
async function run(
  store: StoreReader,
  build: (sql: SqlWriter) => string,
): Promise<Record<string, unknown>[]> {
  const sql = new SqlWriter(store.dialect);
  const statement = build(sql);
  try {
    return await store.query<Record<string, unknown>>(statement, sql.params);
  } catch (error) {
    if (error instanceof QueryTimeout)
      throw new BaliseError(
        'query_timeout',
        'the query ran too long; use a shorter date range or fewer dimensions',
      );
    throw error;
  }
}

/** Goals in a query: the site's own, `is`/`is_not` only; `conversion_rate` needs one. */
function checkGoals(query: PlausibleQuery, goals: string[]): void {
  const byGoal = query.dimensions.includes('event:goal');
  for (const [i, [operator, name, values]] of query.filters.entries()) {
    if (name !== 'event:goal') continue;
    if (operator !== 'is' && operator !== 'is_not')
      throw invalid(`event:goal filters take is or is_not`, `filters.${i}.0`);
    const unknown = values.map(String).find((value) => !goals.includes(value));
    if (unknown !== undefined)
      throw invalid(
        `goal ${unknown} is not configured for this site (goals: ${goals.join(', ') || 'none'})`,
        `filters.${i}.2`,
      );
  }
  if (byGoal && goals.length === 0)
    throw invalid('this site has no goals configured (sites[].goals)', 'dimensions');
  const goalFilter = query.filters.some(([, name]) => name === 'event:goal');
  if (query.metrics.includes('conversion_rate') && !byGoal && !goalFilter)
    throw invalid('conversion_rate needs an event:goal dimension or filter', 'metrics');
}

/** Plausible's order: as asked, else by time when a time dimension is asked, else by the first metric, descending. */
function comparator(query: PlausibleQuery): (a: PlausibleRow, b: PlausibleRow) => number {
  const timeIndex = query.dimensions.findIndex((d) => d.startsWith('time'));
  const order: [string, 'asc' | 'desc'][] =
    query.order_by ??
    (timeIndex >= 0 ? [[query.dimensions[timeIndex]!, 'asc']] : [[query.metrics[0]!, 'desc']]);
  const keys = order.map(([key]) => {
    const metric = query.metrics.indexOf(key);
    const dimension = query.dimensions.indexOf(key);
    return (row: PlausibleRow) =>
      metric >= 0 ? (row.metrics[metric] ?? -Infinity) : row.dimensions[dimension]!;
  });
  return (a, b) => {
    for (const [i, key] of keys.entries()) {
      const [x, y] = [key(a), key(b)];
      const sign = order[i]![1] === 'asc' ? 1 : -1;
      if (x < y) return -sign;
      if (x > y) return sign;
    }
    // Ties in a stable, readable order: by the dimensions.
    return a.dimensions.join('\u0000') < b.dimensions.join('\u0000') ? -1 : 1;
  };
}

/** The time of a site's first stored event (for `date_range: all`), or null. */
async function firstEventOf(store: StoreReader, site: string): Promise<number | null> {
  const sql = new SqlWriter(store.dialect);
  const [row] = await store.query<{ first: number | null }>(
    `SELECT min(${sql.ms('ts')}) AS first FROM events WHERE site = ${sql.bind(site, 'String')}`,
    sql.params,
  );
  // ClickHouse's min over no row is 0, DuckDB's NULL: neither is a first event.
  const first = Number(row?.first ?? 0);
  return first > 0 ? first : null;
}
