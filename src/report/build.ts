import { SqlWriter } from '../store/dialect.js';
import type { Config } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import { runDetector } from '../insights/detectors/run.js';
import { getSeries, resolveQuery, type SeriesRow } from '../insights/getSeries.js';
import type { StoreReader } from '../store/store.js';

/** What a report covers: the query model's scope fields plus the report's own choices. */
export interface ReportRequest {
  sites?: string[];
  group?: string;
  from: string;
  to: string;
  tz?: string;
  compare?: string;
  /** `requests`, `pageviews`…; default: requests when the scope has more requests than pageviews. */
  metric?: string;
  /** Local hour of the region table (0–23); default the hour of the largest change. */
  hour?: number;
}

/** A ranked finding as shown in a report. */
export interface ReportFinding {
  text: string;
  [field: string]: unknown;
}

/** Everything a report shows, as data (the `--format json` output; HTML and Markdown render it). */
export interface ReportData {
  title: string;
  generatedAt: string;
  scope: { sites: string[]; group?: string; tz: string; from: string; to: string; compare: string };
  metric: string;
  interval: string;
  total: { value: number; baseline: number | null; change: number | null };
  series: { time: string; value: number | null; baseline: number | null }[];
  spikes: ReportFinding[];
  dips: ReportFinding[];
  mobilePeaks: { time: string; value: number | null; baseline: number | null; change: number | null }[];
  regions: {
    time: string | null;
    rows: {
      region: string;
      label: string | null;
      value: number;
      baseline: number | null;
      change: number | null;
    }[];
  };
  /** Top countries and paths over the whole range, with the comparison's totals. */
  countries: Ranked[];
  paths: Ranked[];
  attacks: ReportFinding[];
  shifts: ReportFinding[];
  /**
   * GoAccess's panels, when the report counts requests (imported logs, proxied traffic): the
   * bytes answered, status codes, and the paths answered 404, with the comparison's totals.
   */
  requests?: {
    bandwidth: { value: number; baseline: number | null; change: number | null };
    statuses: Ranked[];
    notFound: Ranked[];
  };
}

/** A breakdown value summed over the range. */
export interface Ranked {
  key: string;
  label: string | null;
  value: number;
  baseline: number | null;
  change: number | null;
}

const DAY = 86_400_000;

/** Builds a report's data from the insights engine: series, detectors and the region table. */
export async function buildReport(
  store: StoreReader,
  config: Config,
  request: ReportRequest,
  now = Date.now(),
): Promise<ReportData> {
  const scope = {
    ...(request.group ? { group: request.group } : { sites: request.sites }),
    from: request.from,
    to: request.to,
    ...(request.tz ? { tz: request.tz } : {}),
  };
  const compare = request.compare ?? 'previous_week';
  // Validates the scope and range (400-style errors with the failing path).
  const resolved = resolveQuery(config, { ...scope, interval: '1h' }, now);
  const interval = resolved.end - resolved.start <= 15 * DAY ? '1h' : '1d';
  let metric = request.metric;
  if (!metric) {
    const sql = new SqlWriter(store.dialect);
    const counts = await store.query<{ requests: number; pageviews: number }>(
      `SELECT ${sql.count("type = 'request'")} AS requests, ${sql.count("type = 'pageview'")} AS pageviews
       FROM events WHERE ts >= ${sql.instant(resolved.start)} AND ts < ${sql.instant(resolved.end)}
         AND site IN (${sql.list(resolved.sites)})`,
      sql.params,
    );
    metric = (counts[0]?.requests ?? 0) > (counts[0]?.pageviews ?? 0) ? 'requests' : 'pageviews';
  }
  const base = { ...scope, metric, interval, compare };
  const series = await getSeries(store, config, base, now);
  const value = series.rows.reduce((sum, r) => sum + (r.value ?? 0), 0);
  const baselineRows = series.rows.filter((r) => typeof r.baseline === 'number');
  const baseline = baselineRows.length
    ? baselineRows.reduce((sum, r) => sum + (r.baseline as number), 0)
    : null;
  const detector = async (name: string, extra: Record<string, unknown>) =>
    (await runDetector(store, config, name, { ...scope, ...extra })).findings.map((f) => f);
  const spikes = await detector('spikes', { metric, interval, compare, limit: 5 });
  const dips = await detector('dips', { metric, interval, compare, limit: 5 });
  const mobile = await getSeries(store, config, { ...base, metric: 'mobile_share', interval: '1h' }, now);
  const mobilePeaks = mobile.rows
    .filter((r) => typeof r.value === 'number')
    .sort((a, b) => (b.value as number) - (a.value as number))
    .slice(0, 5)
    .map((r) => ({ time: r.time, value: r.value, baseline: r.baseline ?? null, change: r.change ?? null }));

  // The region table at one local hour: the given one (latest day with it), or the largest change.
  const hourly =
    interval === '1h' ? series : await getSeries(store, config, { ...base, interval: '1h' }, now);
  const candidates = hourly.rows.filter(
    (r) =>
      (request.hour === undefined || Number(r.time.slice(11, 13)) === request.hour) &&
      typeof r.change === 'number' &&
      typeof r.value === 'number',
  );
  const chosen: SeriesRow | undefined =
    request.hour === undefined
      ? [...candidates].sort((a, b) => Math.abs(b.change as number) - Math.abs(a.change as number))[0]
      : candidates.at(-1);
  let regions: ReportData['regions'] = { time: null, rows: [] };
  if (chosen) {
    const start = chosen.time.slice(0, 16);
    const end = new Date(Date.parse(`${start}:00Z`) + 3_600_000).toISOString().slice(0, 16);
    const table = await getSeries(
      store,
      config,
      { ...base, interval: '1h', from: start, to: end, breakdown: 'region', top: 20, tz: series.tz },
      now,
    );
    regions = {
      time: chosen.time,
      rows: table.rows
        .filter((r) => r.time === chosen.time && r.region !== '(other)' && (r.value || r.baseline))
        .map((r) => ({
          region: String(r.region),
          label: typeof r.label === 'string' ? r.label : null,
          value: r.value ?? 0,
          baseline: r.baseline ?? null,
          change: r.change ?? null,
        }))
        .sort((a, b) => (a.change ?? 0) - (b.change ?? 0)),
    };
  }
  const ranked = async (
    breakdown: 'country' | 'path' | 'status',
    filters: Record<string, string> = {},
  ): Promise<Ranked[]> => {
    const result = await getSeries(
      store,
      config,
      { ...base, interval: '1d', breakdown, top: 10, filters },
      now,
    );
    const sums = new Map<string, Ranked>();
    for (const r of result.rows) {
      const key = String(r[breakdown]);
      const entry = sums.get(key) ?? {
        key,
        label: typeof r.label === 'string' ? r.label : null,
        value: 0,
        baseline: null,
        change: null,
      };
      entry.value += r.value ?? 0;
      if (typeof r.baseline === 'number') entry.baseline = (entry.baseline ?? 0) + r.baseline;
      sums.set(key, entry);
    }
    return [...sums.values()]
      .filter((e) => e.value > 0)
      .map((e) => ({
        ...e,
        change: e.baseline ? Math.round(((e.value - e.baseline) / e.baseline) * 1000) / 10 : null,
      }))
      .sort((a, b) => (a.key === '(other)' ? 1 : b.key === '(other)' ? -1 : b.value - a.value));
  };
  const countries = await ranked('country');
  const paths = await ranked('path');
  let requests: ReportData['requests'];
  if (metric === 'requests') {
    const bytes = await getSeries(store, config, { ...base, metric: 'bandwidth' }, now);
    const sent = bytes.rows.reduce((sum, r) => sum + (r.value ?? 0), 0);
    const before = bytes.rows.some((r) => typeof r.baseline === 'number')
      ? bytes.rows.reduce((sum, r) => sum + (r.baseline ?? 0), 0)
      : null;
    requests = {
      bandwidth: {
        value: sent,
        baseline: before,
        change: before ? Math.round(((sent - before) / before) * 1000) / 10 : null,
      },
      statuses: await ranked('status'),
      notFound: await ranked('path', { status: '404' }),
    };
  }
  const attacks = await detector('attacks', { interval: '1h', limit: 5 });
  const shifts = await detector('shifts', { metric, interval, breakdown: 'node', limit: 5 }).catch(
    (error: unknown) => {
      if (error instanceof BaliseError) return [];
      throw error;
    },
  );
  const who = request.group ? `group ${request.group}` : series.sites.join(', ');
  return {
    title: `Traffic report — ${who} — ${request.from} to ${request.to} (${series.tz})`,
    generatedAt: new Date(now).toISOString(),
    scope: {
      sites: series.sites,
      ...(request.group ? { group: request.group } : {}),
      tz: series.tz,
      from: series.from,
      to: series.to,
      compare,
    },
    metric,
    interval,
    total: {
      value,
      baseline,
      change: baseline ? Math.round(((value - baseline) / baseline) * 1000) / 10 : null,
    },
    series: series.rows.map((r) => ({ time: r.time, value: r.value, baseline: r.baseline ?? null })),
    spikes,
    dips,
    mobilePeaks,
    regions,
    ...(requests ? { requests } : {}),
    countries,
    paths,
    attacks,
    shifts,
  };
}
