import type { Config, SiteConfig } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import { SqlWriter } from '../store/dialect.js';
import type { StoreReader } from '../store/store.js';
import { getSeries, resolveQuery } from './getSeries.js';
import { numberedEvents, VISIT_MARGIN_MS } from './visits.js';

/** A configured goal. */
export type Goal = SiteConfig['goals'][number];

/** One goal's numbers over a range. */
export interface GoalRow {
  name: string;
  /** Distinct visitor hashes that completed it (per day, as every visitor count). */
  visitors: number;
  /** Events that completed it. */
  events: number;
  /** Visitors who completed it, in percent of the site's visitors (one decimal). */
  conversionRate: number;
}

/** One funnel: how many visits reached each step, in order. */
export interface FunnelReport {
  name: string;
  steps: { goal: string; visits: number; dropOff: number; conversionRate: number }[];
}

/** Revenue of `Order Completed` events, per currency. */
export interface RevenueRow {
  currency: string;
  orders: number;
  total: number;
}

/** The goals report of a site over a range. */
export interface GoalsReport {
  site: string;
  tz: string;
  from: string;
  to: string;
  visitors: number;
  goals: GoalRow[];
  funnels: FunnelReport[];
  revenue: RevenueRow[];
}

/** A path pattern (`*` any run of characters) as an anchored RE2 expression. */
export function pathPattern(pattern: string): string {
  return `^${pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')}$`;
}

/** The condition an event completes `goal` under (its columns named by `column`). */
export function goalSql(
  sql: SqlWriter,
  goal: Goal,
  column: (name: string) => string = (name) => name,
): string {
  const [type, name, path] = [column('type'), column('name'), column('path')];
  if (goal.event !== undefined)
    return `(${type} IN ('event', 'ecommerce') AND ${name} = ${sql.bind(goal.event, 'String')})`;
  // A pattern without `*` is one path; one with `*` starts with its text before the first `*`:
  // said before the regular expression, so that most paths are refused without running it.
  const pattern = goal.path!;
  const [prefix] = pattern.split('*');
  if (prefix === pattern)
    return `(${type} IN ('pageview', 'request') AND ${path} = ${sql.bind(pattern, 'String')})`;
  const starts = prefix ? `${sql.startsWith(path, sql.bind(prefix, 'String'))} AND ` : '';
  return `(${type} IN ('pageview', 'request') AND ${starts}${sql.matches(path, sql.bind(pathPattern(pattern), 'String'))})`;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * Goals, funnels and revenue of one site over a range (`from`/`to` or `last`, in the site's
 * zone): per goal the visitors and events that completed it and the conversion rate; per funnel
 * the visits that reached each step in order within the visit; per currency the orders and
 * revenue of `Order Completed` events (their `revenue`, else `total`, property).
 */
export async function goalsReport(
  store: StoreReader,
  config: Config,
  input: { site?: unknown; from?: unknown; to?: unknown; last?: unknown },
  now = Date.now(),
): Promise<GoalsReport> {
  const site = config.sites.find((s) => s.host === input.site);
  if (!site)
    throw new BaliseError(
      'invalid_query',
      `give site, one of: ${config.sites.map((s) => s.host).join(', ')}`,
      'site',
    );
  const range = {
    ...(input.from !== undefined ? { from: input.from, to: input.to } : { last: input.last ?? '7d' }),
  };
  const resolved = resolveQuery(config, { sites: [site.host], interval: '1d', ...range }, now);
  const { start, end, tz } = resolved;
  const scope = (sql: SqlWriter) =>
    `site = ${sql.bind(site.host, 'String')} AND ts >= ${sql.instant(start)} AND ts < ${sql.instant(end)} AND NOT is_bot`;

  // The site's visitors, as every visitor count (distinct hashes of each salt day, added up: a
  // hash lives one day of the site's zone, so the same as distinct over the range), read where
  // the planner finds them (the visitors per day kept by the embedded store).
  const series = await getSeries(
    store,
    config,
    { sites: [site.host], metric: 'visitors', interval: '1d', ...range },
    now,
  );
  const visitors = series.rows.reduce((sum, row) => sum + Number(row.value ?? 0), 0);
  // The goals' visitors and events, in one scan of the range's events (none without goals).
  const counts = new SqlWriter(store.dialect);
  const where = scope(counts);
  const columns = site.goals.flatMap((goal, i) => {
    const condition = goalSql(counts, goal);
    return [`${counts.distinct('visitor_hash', condition)} AS v${i}`, `${counts.count(condition)} AS e${i}`];
  });
  const [totals] = columns.length
    ? await store.query<Record<string, unknown>>(
        `SELECT ${columns.join(', ')} FROM events WHERE ${where}`,
        counts.params,
      )
    : [];
  const goals = site.goals.map((goal, i) => {
    const reached = Number(totals?.[`v${i}`] ?? 0);
    return {
      name: goal.name,
      visitors: reached,
      events: Number(totals?.[`e${i}`] ?? 0),
      conversionRate: visitors ? round1((100 * reached) / visitors) : 0,
    };
  });

  return {
    site: site.host,
    tz,
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    visitors,
    goals,
    funnels: await Promise.all(site.funnels.map((funnel) => funnelReport(store, site, funnel, start, end))),
    revenue: await revenueRows(store, scope),
  };
}

/** The visits that reached each step of `funnel`, in order, among the visits starting in the range. */
async function funnelReport(
  store: StoreReader,
  site: SiteConfig,
  funnel: SiteConfig['funnels'][number],
  start: number,
  end: number,
): Promise<FunnelReport> {
  const sql = new SqlWriter(store.dialect);
  const goals = funnel.steps.map((name) => site.goals.find((g) => g.name === name)!);
  const range = `site = ${sql.bind(site.host, 'String')} AND ts >= ${sql.instant(start - VISIT_MARGIN_MS)} AND ts < ${sql.instant(end + VISIT_MARGIN_MS)}`;
  const numbered = numberedEvents(sql, range);
  // Each event's step (the first whose goal it completes), and each visit's steps in time order.
  const step = `CASE ${goals.map((goal, i) => `WHEN ${goalSql(sql, goal)} THEN ${i + 1}`).join(' ')} ELSE 0 END`;
  const visits = `SELECT min(ms) AS started, max(reached) AS any_step, ${sql.orderedText('step', 'ms')} AS steps
    FROM (SELECT ms, site, visitor_hash, visit, ${step} AS step, CASE WHEN ${step} > 0 THEN 1 ELSE 0 END AS reached FROM ${numbered}) AS s
    GROUP BY site, visitor_hash, visit`;
  const rows = await store.query<{ started: number; steps: string }>(
    `SELECT started, steps FROM (${visits}) AS v WHERE any_step = 1 AND started >= ${sql.bind(Math.trunc(start), 'Int64')} AND started < ${sql.bind(Math.trunc(end), 'Int64')}`,
    sql.params,
  );
  const reached = new Array<number>(goals.length).fill(0);
  for (const row of rows) {
    let next = 1;
    for (const s of String(row.steps).split(',')) if (Number(s) === next) next++;
    for (let k = 0; k < next - 1; k++) reached[k]!++;
  }
  return {
    name: funnel.name,
    steps: funnel.steps.map((goal, k) => ({
      goal,
      visits: reached[k]!,
      dropOff: k === 0 ? 0 : reached[k - 1]! - reached[k]!,
      conversionRate: reached[0] ? round1((100 * reached[k]!) / reached[0]) : 0,
    })),
  };
}

/** Orders and revenue per currency of `Order Completed` events (property `revenue`, else `total`). */
async function revenueRows(store: StoreReader, scope: (sql: SqlWriter) => string): Promise<RevenueRow[]> {
  const sql = new SqlWriter(store.dialect);
  const where = scope(sql);
  const amount = `coalesce(${sql.jsonNumber('props', sql.bind('revenue', 'String'))}, ${sql.jsonNumber('props', sql.bind('total', 'String'))})`;
  const currency = `upper(coalesce(${sql.jsonText('props', sql.bind('currency', 'String'))}, '(none)'))`;
  const rows = await store.query<{ currency: string; orders: number; total: number | null }>(
    `SELECT ${currency} AS currency, ${sql.count()} AS orders, sum(${amount}) AS total
     FROM events WHERE ${where} AND name = 'Order Completed' GROUP BY currency ORDER BY currency`,
    sql.params,
  );
  return rows.map((r) => ({
    currency: String(r.currency),
    orders: Number(r.orders),
    total: Math.round(Number(r.total ?? 0) * 100) / 100,
  }));
}
