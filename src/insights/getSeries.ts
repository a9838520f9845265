import type { Config } from '../config/schema.js';
import { BaliseError, type ErrorCode } from '../errors.js';
import { QueryTimeout, type StoreReader } from '../store/store.js';
import { zodPath } from '../zod-path.js';
import { bucketStart, enumerateBuckets, intervalMs, type Bucket } from './buckets.js';
import { labelFor } from './labels.js';
import { MAX_BUCKETS, querySchema, type Query } from './model.js';
import { choosePlan, type Plan } from './plan.js';
import { MADE_WITH_VISITS } from '../store/summaries.js';
import { siteGoals, siteZones } from './visits.js';
import {
  isCount,
  ROLLUP_DIMENSIONS,
  seriesStatement,
  topValuesStatement,
  type Scan,
  type Source,
  type Statement,
} from './sql.js';
import { addLocalDays, localParts, localToUtc, parseLocal, wallClockKey } from '../time.js';

/** One row of a series: the bucket's local time with offset, the value, and the comparison. */
export interface SeriesRow {
  time: string;
  value: number | null;
  baseline?: number | null;
  change?: number | null;
  [dimension: string]: string | number | null | undefined;
}

/** A resolved query: what was asked, for which sites, in which zone, over which UTC range. */
export interface SeriesResult {
  query: Query;
  sites: string[];
  tz: string;
  from: string;
  to: string;
  /**
   * Where the numbers were read: the hourly rollup, a summary kept at ingest, the visits table or
   * the raw events (identical results).
   */
  plan: Source;
  rows: SeriesRow[];
}

/** Options of `getSeries`; `plan: 'raw'` forces the raw table (tests compare both plans). */
export interface SeriesOptions {
  plan?: 'auto' | 'raw';
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Longest a single insights SQL statement may run (docs/threats.md: expensive queries). */
export const QUERY_TIMEOUT_MS = 10_000;

/** Turns a store timeout into a 503 that says what to do. */
async function timed<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof QueryTimeout) {
      throw new BaliseError(
        'query_timeout',
        `the query ran longer than ${error.timeoutMs / 1000} s; use a shorter range or a larger interval`,
      );
    }
    throw error;
  }
}

function invalid(code: ErrorCode, message: string, path?: string): BaliseError {
  return new BaliseError(code, message, path);
}

/** Validates a query and resolves its sites, zone and UTC range; throws 400 errors that say what is allowed. */
export function resolveQuery(config: Config, input: unknown, now: number) {
  const parsed = querySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid('invalid_query', issue.message, zodPath(issue.path));
  }
  const query = parsed.data;
  const known = config.sites;
  let sites: string[];
  if (query.group) {
    sites = known.filter((s) => s.group === query.group).map((s) => s.host);
    const groups = [...new Set(known.map((s) => s.group).filter(Boolean))].join(', ') || 'none configured';
    if (sites.length === 0)
      throw invalid('invalid_query', `no site in group ${query.group} (groups: ${groups})`, 'group');
  } else {
    sites = query.sites ?? [];
    const unknown = sites.find((host) => !known.some((s) => s.host === host));
    if (unknown)
      throw invalid(
        'invalid_query',
        `unknown site ${unknown} (sites: ${known.map((s) => s.host).join(', ')})`,
        'sites',
      );
  }
  const tz = query.tz ?? known.find((s) => s.host === sites[0])?.timezone ?? 'Europe/Paris';
  let start: number;
  let end: number;
  if (query.last) {
    const amount = Number(query.last.slice(0, -1));
    const unit = query.last.slice(-1) as keyof typeof UNIT_MS;
    const current = bucketStart(now, query.interval, tz);
    end =
      query.interval === '1d'
        ? localToUtc(addLocalDays(localParts(current, tz), 1), tz)
        : current + intervalMs(query.interval);
    start = end - amount * UNIT_MS[unit];
  } else {
    start = localToUtc(parseLocal(query.from!)!, tz);
    end = localToUtc(parseLocal(query.to!)!, tz);
    if (end <= start) throw invalid('invalid_query', 'to must be after from', 'to');
  }
  const width = intervalMs(query.interval);
  if ((end - start) / width > MAX_BUCKETS) {
    throw invalid(
      'range_too_large',
      `at most ${MAX_BUCKETS} buckets per query; use a larger interval or a shorter range`,
      'interval',
    );
  }
  return { query, sites, tz, start, end };
}

/**
 * A query whose range starts `days` local days earlier (same zone, same end), for detectors that
 * need history before the range they report on; also returns the original UTC range.
 */
export function withHistory(config: Config, input: Record<string, unknown>, now: number, days: number) {
  const resolved = resolveQuery(config, input, now);
  const { from: _from, to: _to, last: _last, ...rest } = input;
  const wall = (ms: number) => wallClockKey(ms, resolved.tz);
  const from = wall(localToUtc(addLocalDays(localParts(resolved.start, resolved.tz), -days), resolved.tz));
  return { ...resolved, input: { ...rest, tz: resolved.tz, from, to: wall(resolved.end) } };
}

/** Runs one insights statement under the query time limit. */
function run<T>(store: StoreReader, statement: Statement): Promise<T[]> {
  return timed(() => store.query<T>(statement.sql, statement.params, { timeoutMs: QUERY_TIMEOUT_MS }));
}

/** The metric per bucket (and breakdown value); keys come back as numbers (UTC ms) or dates, buckets name them as text. */
async function aggregateRows(
  store: StoreReader,
  scan: Scan,
  top: string[] | 'raw' | null,
): Promise<{ k: string; d?: string; v: number | null }[]> {
  const rows = await run<{ k: string | number; d?: string; v: number | null }>(
    store,
    seriesStatement(scan, top),
  );
  for (const row of rows) row.k = String(row.k);
  return rows as { k: string; d?: string; v: number | null }[];
}

/** Metric values by bucket key, then by breakdown value ('' without a breakdown). */
type Values = Map<string, Map<string, number | null>>;

function groupsAt(values: Values, key: string): Map<string, number | null> {
  let groups = values.get(key);
  if (!groups) values.set(key, (groups = new Map<string, number | null>()));
  return groups;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Wall-clock key shifted by whole local days (the same local hour `days` days earlier). */
function shiftWall(wall: string, days: number): string {
  const parts = parseLocal(wall)!;
  const shifted = addLocalDays(parts, days);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${shifted.year}-${pad(shifted.month)}-${pad(shifted.day)}T${pad(shifted.hour)}:${pad(shifted.minute)}`;
}

/**
 * Runs a series query: gap-filled buckets in local time, one row per bucket (per breakdown value
 * with a breakdown), with the comparison's baseline and change in percent.
 */
export async function getSeries(
  store: StoreReader,
  config: Config,
  input: unknown,
  now = Date.now(),
  options: SeriesOptions = {},
): Promise<SeriesResult> {
  const { query, sites, tz, start, end } = resolveQuery(config, input, now);
  const buckets = enumerateBuckets(start, end, query.interval, tz);
  // One scan covers the range and every comparison range before it: bucket keys are absolute
  // (UTC instants, or local dates), so one map serves them all.
  const weeks =
    !query.compare || query.compare === 'previous_period'
      ? 0
      : query.compare === 'previous_week'
        ? 1
        : Number(query.compare.split(':')[1]);
  const span = end - start;
  const scanStart =
    query.compare === 'previous_period'
      ? start - span
      : weeks > 0
        ? localToUtc(addLocalDays(localParts(start, tz), -7 * weeks), tz)
        : start;
  const scanFrom = Math.min(start, scanStart);
  const zones = siteZones(config);
  const visits = store.refreshVisits ? { zones, sites, summaries: store.keepsSummaries === true } : null;
  const chosen: Plan =
    options.plan === 'raw' ? { source: 'raw' } : choosePlan(query, tz, scanFrom, end, visits);
  const plan = chosen.source;
  // The visits and the summaries made with them are brought up to date with them; the others
  // with the rollup.
  if (plan === 'visits' || MADE_WITH_VISITS.includes(plan))
    await timed(() => store.refreshVisits!(zones, siteGoals(config)));
  else if (plan !== 'raw') await timed(() => store.refreshRollups());
  // One scan covers the range and every comparison range before it.
  const scan: Scan = {
    dialect: store.dialect,
    source: plan,
    query,
    sites,
    tz,
    start: scanFrom,
    end,
    dim: chosen.dim,
  };
  let top: string[] | null = null;
  let values: Values;
  if (query.breakdown && isCount(query.metric) && ROLLUP_DIMENSIONS.has(query.breakdown)) {
    // Counts add up: read every value per bucket once, rank and fold in memory.
    const raw = await aggregateRows(store, scan, 'raw');
    const current = new Set(buckets.map((b) => b.key));
    const totals = new Map<string, number>();
    for (const r of raw) if (current.has(r.k)) totals.set(r.d!, (totals.get(r.d!) ?? 0) + Number(r.v ?? 0));
    top = [...totals]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, query.top)
      .map(([d]) => d);
    const kept = new Set(top);
    values = new Map();
    for (const r of raw) {
      const groups = groupsAt(values, r.k);
      const group = kept.has(r.d!) ? r.d! : '(other)';
      groups.set(group, (groups.get(group) ?? 0) + Number(r.v ?? 0));
    }
  } else {
    if (query.breakdown) {
      // Ranked over the range itself, not the comparison before it.
      const ranked = await run<{ d: string }>(store, topValuesStatement({ ...scan, start }, query.top));
      top = ranked.map((r) => r.d);
    }
    values = new Map();
    for (const r of await aggregateRows(store, scan, top))
      groupsAt(values, r.k).set(r.d ?? '', r.v === null ? null : Number(r.v));
  }
  const groups = query.breakdown ? [...(top ?? []), '(other)'] : [''];
  const empty = isCount(query.metric) ? 0 : null;
  const valueAt = (map: Values, key: string, group: string) => map.get(key)?.get(group) ?? empty;

  // Baselines, keyed by the current bucket's key and group.
  let baseline: ((bucket: Bucket, index: number, group: string) => number | null) | null = null;
  if (query.compare === 'previous_period') {
    const previous = values;
    const earlier = enumerateBuckets(start - span, start, query.interval, tz);
    baseline = (_bucket, index, group) =>
      earlier[index] ? valueAt(previous, earlier[index].key, group) : null;
  } else if (query.compare) {
    // For each current bucket, the key of the bucket at the same local wall-clock time 1…k
    // weeks earlier (absent when that week has no such time, e.g. a skipped DST hour).
    const wallId = (wall: string) => (query.interval === '1d' ? wall.slice(0, 10) : wall);
    const weekKeys: Map<string, string>[] = [];
    for (let w = 1; w <= weeks; w++) {
      const from = localToUtc(addLocalDays(localParts(start, tz), -7 * w), tz);
      const to = localToUtc(addLocalDays(localParts(end, tz), -7 * w), tz);
      const keys = new Map<string, string>();
      for (const bucket of enumerateBuckets(from, to, query.interval, tz)) {
        const id = wallId(bucket.wall);
        if (!keys.has(id)) keys.set(id, bucket.key);
      }
      weekKeys.push(keys);
    }
    const baseKeys = buckets.map((bucket) =>
      weekKeys
        .map((keys, i) => keys.get(wallId(shiftWall(bucket.wall, -7 * (i + 1)))))
        .filter((key): key is string => key !== undefined),
    );
    baseline = (_bucket, index, group) => {
      const keys = baseKeys[index]!;
      if (weeks === 1) {
        // One week: its value, without the arrays a median needs (this runs per row).
        const value = keys.length ? valueAt(values, keys[0]!, group) : null;
        return typeof value === 'number' ? value : null;
      }
      const found = keys
        .map((key) => valueAt(values, key, group))
        .filter((v): v is number => typeof v === 'number');
      return median(found);
    };
  }

  const labels = new Map(
    groups.map((group) => [group, query.breakdown ? labelFor(query.breakdown, group) : undefined]),
  );
  const rows: SeriesRow[] = [];
  buckets.forEach((bucket, index) => {
    for (const group of groups) {
      // Key order as documented: time, the dimension (with a breakdown), value, baseline, change.
      const row = (
        query.breakdown ? { time: bucket.label, [query.breakdown]: group } : { time: bucket.label }
      ) as SeriesRow;
      const label = labels.get(group);
      if (label) row.label = label;
      row.value = valueAt(values, bucket.key, group);
      if (baseline) {
        const base = baseline(bucket, index, group);
        row.baseline = base;
        row.change = base && row.value !== null ? Math.round(((row.value - base) / base) * 1000) / 10 : null;
      }
      rows.push(row);
    }
  });
  return {
    query,
    sites,
    tz,
    from: buckets[0]?.label ?? '',
    to: wallClockKey(end, tz),
    plan,
    rows,
  };
}
