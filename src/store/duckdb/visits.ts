import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { listValue } from './api.js';
import { SqlWriter } from '../dialect.js';
import { COUNT_SUMMARIES, DAILY_TWINS, groupings, MADE_WITH_VISITS, VISIT_SUMMARIES } from '../summaries.js';
import { goalMaskSql, type Goal, type SiteGoals } from '../goals.js';
import { localDayRanges, visitRows } from '../visits.js';

// The visits table (one row per visit, docs/insights.md#visits) kept from the events: the hours
// written since the last refresh (`visits_dirty`, filled from the rollup's dirty hours) name the
// local days whose visits are rebuilt, and in them the visitors whose visits are made again from
// all their events of the day.

/** How many local days of visits a refresh rebuilt (a day of two sites in one zone counts once). */
export interface VisitsRefresh {
  days: number;
}

async function rows(connection: DuckDBConnection, sql: string, params: DuckDBValue[] = []) {
  return (await connection.runAndReadAll(sql, params)).getRows();
}

/** Each site's time zone, that of its visitor hashes' salt days (site → zone). */
export type Zones = ReadonlyMap<string, string>;

/** One local day of visits to make again: the sites of one zone, and the day's UTC bounds. */
export interface VisitDay {
  sites: string[];
  start: number;
  end: number;
}

/**
 * What a refresh does: the days to make again, the written hours they stand for, and each
 * site's goals (the goals its visits record reaching).
 */
export interface VisitsPlan {
  days: VisitDay[];
  hours: number[];
  goals: Map<string, Goal[]>;
}

/**
 * Plans a refresh for the sites of `zones` (site → the time zone its visitor hashes' salt days
 * follow): every local day holding an hour written since (`visits_dirty`), per zone. A site whose
 * zone, or goals (`goals`: site → its goals; a site absent keeps the goals its visits were built
 * with), are new or changed has its visits deleted and all its days planned. Runs in the
 * caller's transaction, under the store's lock.
 */
export async function planVisits(
  connection: DuckDBConnection,
  zones: ReadonlyMap<string, string>,
  goals: SiteGoals = new Map(),
): Promise<VisitsPlan> {
  const known = new Map(
    (await rows(connection, 'SELECT site, tz, goals FROM visit_zones')).map(([site, tz, built]) => [
      String(site),
      { tz: String(tz), goals: typeof built === 'string' ? built : '[]' },
    ]),
  );
  const effective = new Map<string, Goal[]>();
  for (const [site, tz] of zones) {
    const was = known.get(site);
    const wanted = goals.has(site) ? JSON.stringify(goals.get(site)) : (was?.goals ?? '[]');
    effective.set(site, JSON.parse(wanted) as Goal[]);
    if (was?.tz === tz && was.goals === wanted) continue;
    for (const table of ['visits', ...MADE_WITH_VISITS])
      await connection.run(`DELETE FROM ${table} WHERE site = $1`, [site]);
    await connection.run(
      "INSERT OR IGNORE INTO visits_dirty SELECT DISTINCT date_trunc('hour', ts) FROM events WHERE site = $1",
      [site],
    );
    await connection.run('INSERT OR REPLACE INTO visit_zones (site, tz, goals) VALUES ($1, $2, $3)', [
      site,
      tz,
      wanted,
    ]);
  }
  const hours = (await rows(connection, 'SELECT epoch_ms(hour) // 3600000 FROM visits_dirty')).map(Number);
  const sitesByZone = new Map<string, string[]>();
  for (const [site, tz] of zones) sitesByZone.set(tz, [...(sitesByZone.get(tz) ?? []), site]);
  const days: VisitDay[] = [];
  for (const [tz, sites] of sitesByZone)
    for (const [start, end] of localDayRanges(hours, tz, false)) days.push({ sites, start, end });
  return { days, hours, goals: effective };
}

/** A day's rows (the sites of its zone, within its UTC bounds), the values bound in `sql`. */
function dayRange(sql: SqlWriter, day: VisitDay): string {
  return `site IN (${sql.list(day.sites)}) AND ts >= ${sql.instant(day.start)} AND ts < ${sql.instant(day.end)}`;
}

/**
 * Makes again the visits of one day: those of the visitors with an event, or a visit starting, in
 * a written hour, from all their events of the day (a visitor hash lives one day); the others'
 * stay as they are. Runs in the caller's transaction, under the store's lock.
 */
export async function rebuildVisitDay(
  connection: DuckDBConnection,
  day: VisitDay,
  goals: SiteGoals = new Map(),
): Promise<void> {
  const sql = new SqlWriter('duckdb');
  const range = dayRange(sql, day);
  const written = "date_trunc('hour', ts) IN (SELECT hour FROM visits_dirty)";
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE visits_touched AS
     SELECT DISTINCT site, visitor_hash FROM events
     WHERE ${range} AND ${written} AND NOT is_bot AND visitor_hash IS NOT NULL
     UNION SELECT site, visitor_hash FROM visits WHERE ${range} AND ${written}`,
    sql.params,
  );
  const touched = (table: string) =>
    `EXISTS (SELECT 1 FROM visits_touched t WHERE t.site = ${table}.site AND t.visitor_hash = ${table}.visitor_hash)`;
  // The hours whose visits change: those of the touched visitors' visits, before and after.
  const changedHours = `SELECT DISTINCT date_trunc('hour', ts) AS hour FROM visits WHERE ${range} AND ${touched('visits')}`;
  await connection.run(`CREATE OR REPLACE TEMP TABLE visits_hours AS ${changedHours}`, sql.params);
  await connection.run(`DELETE FROM visits WHERE ${range} AND ${touched('visits')}`, sql.params);
  // Each visit with the goals it reached, in order: a mask per event that completed any (a
  // statement of its own parameters: the others do not bind the goals').
  const insert = new SqlWriter('duckdb');
  const insertRange = dayRange(insert, day);
  const mask = goalMaskSql(insert, new Map(day.sites.map((site) => [site, goals.get(site) ?? []])));
  const reached = 'list(e.goal_mask ORDER BY e.ms) FILTER (WHERE e.goal_mask > 0) AS goal_masks';
  await connection.run(
    `INSERT INTO visits BY NAME SELECT * FROM ${visitRows(insert, `${insertRange} AND ${touched('events')}`, [reached], [`${mask} AS goal_mask`])}`,
    insert.params,
  );
  await connection.run(
    `INSERT INTO visits_hours ${changedHours} EXCEPT SELECT hour FROM visits_hours`,
    sql.params,
  );
  await connection.run('DROP TABLE visits_touched');
  await summarizeVisitDay(connection, day);
  await connection.run('DROP TABLE visits_hours');
}

const HOUR = 3_600_000;

/**
 * Makes again a day's summaries where its visits changed (`visits_hours`): visits per hour of
 * their start (total and per summary dimension: count, bounces, duration, pages), each hour
 * whole (a half-hour zone's boundary hour holds two days' visits: both are read), and each
 * site's distinct visitor hashes of the day.
 */
async function summarizeVisitDay(connection: DuckDBConnection, day: VisitDay): Promise<void> {
  const sql = new SqlWriter('duckdb');
  const wholeHours = {
    ...day,
    start: Math.floor(day.start / HOUR) * HOUR,
    end: Math.ceil(day.end / HOUR) * HOUR,
  };
  // Bounded by the changed hours' first and last too: a live refresh reads an hour, not a day.
  const hours = `${dayRange(sql, wholeHours)}
    AND ts >= (SELECT min(hour) FROM visits_hours) AND ts < (SELECT max(hour) FROM visits_hours) + INTERVAL 1 HOUR
    AND date_trunc('hour', ts) IN (SELECT hour FROM visits_hours)`;
  for (const [table, dims] of Object.entries(VISIT_SUMMARIES)) {
    const { columns, sets } = groupings(dims, 'h, site');
    await connection.run(`DELETE FROM ${table} WHERE ${hours}`, sql.params);
    await connection.run(
      `INSERT INTO ${table}
       SELECT date_trunc('hour', ts) AS h, site, ${columns}, count(*), count(*) FILTER (WHERE events = 1),
              coalesce(sum(duration_ms), 0)::BIGINT, coalesce(sum(pages), 0)::BIGINT
       FROM visits WHERE ${hours}
       GROUP BY GROUPING SETS (${sets})
       ORDER BY dim, h`,
      sql.params,
    );
  }
  await summarizeDay(connection, day);
}

/**
 * Makes again a day's daily summaries, each under the day's first instant: each site's
 * distinct visitor hashes, its page counts (from the events) and its visits by page.
 */
async function summarizeDay(connection: DuckDBConnection, day: VisitDay): Promise<void> {
  const sql = new SqlWriter('duckdb');
  // The day's first instant, bound once: the bounds of its rows and the value it writes.
  const start = sql.instant(day.start);
  const inDay = `site IN (${sql.list(day.sites)}) AND ts >= ${start} AND ts < ${sql.instant(day.end)}`;
  const daily = (table: string) => `DELETE FROM ${table} WHERE ${inDay}`;
  await connection.run(daily('visitors_daily'), sql.params);
  await connection.run(
    `INSERT INTO visitors_daily SELECT ${start}, site, count(DISTINCT visitor_hash) FROM visits WHERE ${inDay} GROUP BY site`,
    sql.params,
  );
  // A day of whole UTC hours is the sum of its hours' summaries (current by now: the rollup's
  // were refreshed first, the visits' just above); a half-hour zone's is made from its rows.
  const wholeHours = day.start % HOUR === 0 && day.end % HOUR === 0;
  const pages = groupings(COUNT_SUMMARIES.pages_hourly, 'site, type, is_bot');
  await connection.run(daily(DAILY_TWINS.pages_hourly), sql.params);
  await connection.run(
    `INSERT INTO ${DAILY_TWINS.pages_hourly} ${
      wholeHours
        ? `SELECT ${start}, site, type, is_bot, dim, value, sum(n)::BIGINT FROM pages_hourly WHERE ${inDay}
           GROUP BY site, type, is_bot, dim, value`
        : `SELECT ${start}, site, type, is_bot, ${pages.columns}, count(*) FROM events WHERE ${inDay}
           GROUP BY GROUPING SETS (${pages.sets})`
    }`,
    sql.params,
  );
  const visits = groupings(VISIT_SUMMARIES.visit_pages_hourly, 'site');
  await connection.run(daily(DAILY_TWINS.visit_pages_hourly), sql.params);
  await connection.run(
    `INSERT INTO ${DAILY_TWINS.visit_pages_hourly} ${
      wholeHours
        ? `SELECT ${start}, site, dim, value, sum(visits)::BIGINT, sum(bounces)::BIGINT,
                  sum(duration_ms)::BIGINT, sum(pages)::BIGINT
           FROM visit_pages_hourly WHERE ${inDay} GROUP BY site, dim, value`
        : `SELECT ${start}, site, ${visits.columns}, count(*), count(*) FILTER (WHERE events = 1),
                  coalesce(sum(duration_ms), 0)::BIGINT, coalesce(sum(pages), 0)::BIGINT
           FROM visits WHERE ${inDay} GROUP BY GROUPING SETS (${visits.sets})`
    }`,
    sql.params,
  );
}

/**
 * Clears the written hours a plan stood for (hours written since stay for the next refresh);
 * then, with `checkpoint`, writes the database file.
 */
export async function finishVisits(
  connection: DuckDBConnection,
  plan: VisitsPlan,
  checkpoint = false,
): Promise<void> {
  if (plan.hours.length === 0) return;
  await connection.run(
    'DELETE FROM visits_dirty WHERE epoch_ms(hour) // 3600000 IN (SELECT unnest($1::BIGINT[]))',
    [listValue(plan.hours.map((hour) => BigInt(hour)))],
  );
  if (checkpoint) await connection.run('CHECKPOINT');
}
