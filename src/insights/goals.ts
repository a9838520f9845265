import type { Config, SiteConfig } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import { SqlWriter } from '../store/dialect.js';
import type { StoreReader } from '../store/store.js';
import { getSeries, resolveQuery } from './getSeries.js';
import { goalSql } from '../store/goals.js';
import { numberedEvents, siteGoals, siteZones, VISIT_MARGIN_MS } from './visits.js';

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
    funnels: await funnelReports(store, config, site, start, end),
    revenue: await revenueRows(store, scope),
  };
}

/**
 * The site's funnels: from the visits table where the store keeps one (each visit keeps the
 * goals it reached, in order), else numbered from the events.
 */
async function funnelReports(
  store: StoreReader,
  config: Config,
  site: SiteConfig,
  start: number,
  end: number,
): Promise<FunnelReport[]> {
  if (site.funnels.length === 0) return [];
  if (!store.keepsSummaries || !store.refreshVisits)
    return Promise.all(site.funnels.map((funnel) => funnelReport(store, site, funnel, start, end)));
  await store.refreshVisits(siteZones(config), siteGoals(config));
  return Promise.all(
    site.funnels.map(async (funnel) =>
      report(funnel, await reachedFromVisits(store, site, funnel, start, end)),
    ),
  );
}

/**
 * How many visits starting in the range reached each step of `funnel` in order, from the goals
 * each visit reached (`goal_masks`: one mask per event that completed any goal, bit i the site's
 * goal i): a visit's progress is walked along its masks, a step counting only after the one
 * before it.
 */
async function reachedFromVisits(
  store: StoreReader,
  site: SiteConfig,
  funnel: SiteConfig['funnels'][number],
  start: number,
  end: number,
): Promise<number[]> {
  const sql = new SqlWriter(store.dialect);
  const bits = funnel.steps.map((name) => site.goals.findIndex((goal) => goal.name === name));
  // An event's step: the first of the funnel's whose goal it completed (as the events' path does).
  const stepOf = `CASE ${bits.map((bit, i) => `WHEN ((m >> ${bit}) & 1) = 1 THEN ${i + 1}`).join(' ')} ELSE 0 END`;
  const progress = `list_reduce(goal_masks, lambda acc, m: CASE WHEN ${stepOf} = acc + 1 THEN acc + 1 ELSE acc END, 0::BIGINT)`;
  const counts = funnel.steps.map((_, k) => `${sql.count(`p >= ${k + 1}`)} AS r${k}`);
  const [row] = await store.query<Record<string, unknown>>(
    `SELECT ${counts.join(', ')} FROM (SELECT ${progress} AS p FROM visits
     WHERE site = ${sql.bind(site.host, 'String')} AND ts >= ${sql.instant(start)} AND ts < ${sql.instant(end)}
       AND goal_masks IS NOT NULL)`,
    sql.params,
  );
  return funnel.steps.map((_, k) => Number(row?.[`r${k}`] ?? 0));
}

/** A funnel's report from the visits that reached each of its steps. */
function report(funnel: SiteConfig['funnels'][number], reached: number[]): FunnelReport {
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
  return report(funnel, reached);
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
