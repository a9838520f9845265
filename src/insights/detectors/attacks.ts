import { SqlWriter } from '../../store/dialect.js';
import type { Config } from '../../config/schema.js';
import type { StoreReader } from '../../store/store.js';
import { resolveQuery } from '../getSeries.js';
import { formatLocal } from '../../time.js';

/** One request-rate attack on a target (site and path). */
export interface Attack {
  site: string;
  path: string;
  start: string;
  end: string;
  durationSeconds: number;
  peakRps: number;
  totalRequests: number;
  /** The target's ordinary rate over the range (requests per second). */
  baselineRps: number;
  text: string;
}

/** Settings of the attack detector. */
export interface AttackOptions {
  /** A second counts as attack when its rate is at least this many times the target's baseline… */
  factor?: number;
  /** …and at least this many requests per second. */
  minRps?: number;
  /** Seconds below the threshold that do not end an attack. */
  gapSeconds?: number;
  limit?: number;
}

/**
 * Request-rate attacks per target at 1-second resolution: seconds whose count is at least
 * `factor` × the target's mean rate over the range and at least `minRps`, joined into runs
 * (gaps up to `gapSeconds`), reported with peak, start, end, duration and total, largest first.
 */
export async function detectAttacks(
  store: StoreReader,
  config: Config,
  input: Record<string, unknown>,
  options: AttackOptions = {},
  now = Date.now(),
): Promise<{ attacks: Attack[]; tz: string; sites: string[] }> {
  const { sites, tz, start, end } = resolveQuery(config, { ...input, interval: '1h' }, now);
  const factor = options.factor ?? 10;
  const minRps = options.minRps ?? 20;
  const gap = options.gapSeconds ?? 5;
  const seconds = Math.max(1, (end - start) / 1000);
  const sql = new SqlWriter(store.dialect);
  const range = `ts >= ${sql.instant(start)} AND ts < ${sql.instant(end)} AND site IN (${sql.list(sites)})`;
  const rows = await store.query<{ site: string; path: string; s: number; n: number; base: number }>(
    `WITH scoped AS (
       SELECT site, coalesce(path, '') AS path, ${sql.secondMs('ts')} AS s
       FROM events WHERE ${range}),
     base AS (SELECT site, path, ${sql.count()} / ${sql.bind(seconds, 'Float64')} AS base FROM scoped GROUP BY ALL),
     per_second AS (SELECT site, path, s, ${sql.count()} AS n FROM scoped GROUP BY ALL)
     SELECT p.site AS site, p.path AS path, p.s AS s, p.n AS n, b.base AS base
     FROM per_second p JOIN base b USING (site, path)
     WHERE p.n >= ${sql.bind(minRps, 'Float64')} AND p.n >= ${sql.bind(factor, 'Float64')} * b.base
     ORDER BY p.site, p.path, p.s`,
    sql.params,
  );
  const attacks: Attack[] = [];
  let current: {
    site: string;
    path: string;
    first: number;
    last: number;
    peak: number;
    total: number;
    base: number;
  } | null = null;
  const close = () => {
    if (!current) return;
    const duration = (current.last - current.first) / 1000 + 1;
    const startText = formatLocal(current.first, tz);
    attacks.push({
      site: current.site,
      path: current.path,
      start: startText,
      end: formatLocal(current.last + 999, tz),
      durationSeconds: duration,
      peakRps: current.peak,
      totalRequests: current.total,
      baselineRps: Math.round(current.base * 1000) / 1000,
      text: `${current.site}${current.path} ${startText.slice(0, 19).replace('T', ' ')} local: ${current.peak} rps peak, ${duration} s, ${current.total} requests (usual ${Math.round(current.base * 1000) / 1000} rps)`,
    });
    current = null;
  };
  for (const row of rows) {
    const s = Number(row.s);
    if (
      current &&
      (current.site !== row.site || current.path !== row.path || s - current.last > (gap + 1) * 1000)
    )
      close();
    if (!current)
      current = {
        site: row.site,
        path: row.path,
        first: s,
        last: s,
        peak: 0,
        total: 0,
        base: Number(row.base),
      };
    current.last = s;
    current.peak = Math.max(current.peak, Number(row.n));
    current.total += Number(row.n);
  }
  close();
  attacks.sort((a, b) => b.peakRps - a.peakRps || a.start.localeCompare(b.start));
  return { attacks: attacks.slice(0, Math.max(1, Math.min(100, options.limit ?? 20))), tz, sites };
}
