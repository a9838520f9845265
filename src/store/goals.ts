import type { SiteConfig } from '../config/schema.js';
import type { SqlWriter } from './dialect.js';

// A site's goals (configuration: docs/insights.md#goals) as SQL conditions on the events, for
// the goals report and for the visits table, which keeps the goals each visit reached.

/** One goal of a site: an event name, or a page path pattern. */
export type Goal = SiteConfig['goals'][number];

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

/** Each site's goals, in their configured order (site → goals). */
export type SiteGoals = ReadonlyMap<string, readonly Goal[]>;

/** The most goals a site has (the configuration's limit): one bit each in a BIGINT mask. */
const MAX_GOALS = 50;

/**
 * The goals an event completes, as a mask (bit i: the site's goal i), for the sites of `goals`
 * (site → its goals, in their configured order); 0 for an event of a site without goals.
 */
export function goalMaskSql(sql: SqlWriter, goals: SiteGoals): string {
  const sites = [...goals].filter(([, list]) => list.length > 0);
  if (sites.length === 0) return '0::BIGINT';
  const mask = (list: readonly Goal[]) =>
    list
      .slice(0, MAX_GOALS)
      .map((goal, i) => `(CASE WHEN ${goalSql(sql, goal)} THEN ${2 ** i} ELSE 0 END)::BIGINT`)
      .join(' + ');
  return `CASE ${sites.map(([site, list]) => `WHEN site = ${sql.bind(site, 'String')} THEN ${mask(list)}`).join(' ')} ELSE 0::BIGINT END`;
}
