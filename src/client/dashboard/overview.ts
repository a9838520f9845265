import { api, type Row } from './api.js';
import { lineChart, type Annotation } from './chart.js';
import { card, el, findings, number, table } from './dom.js';
import { comparisonLabel, intervalOf, rangeQuery, spanDays, type Selection } from './selection.js';

const sum = (rows: Row[], key: 'value' | 'baseline') =>
  rows.reduce((total, r) => total + (typeof r[key] === 'number' ? r[key] : 0), 0);
const changeOf = (value: number, baseline: number) =>
  baseline ? Math.round(((value - baseline) / baseline) * 1000) / 10 : null;

/** A breakdown summed over the range's buckets, largest first (it adds up to the totals). */
export async function ranked(
  query: Record<string, unknown>,
  metric: string,
  breakdown: string,
  extra: Record<string, unknown> = {},
): Promise<{ key: string; value: number }[]> {
  const result = await api<{ rows: Row[] }>('/api/v1/series', {
    ...query,
    ...extra,
    metric,
    breakdown,
    top: 10,
  });
  const totals = new Map<string, number>();
  for (const row of result.rows) {
    const key = String(row.label ? `${row.label} (${String(row[breakdown])})` : row[breakdown]);
    totals.set(key, (totals.get(key) ?? 0) + (row.value ?? 0));
  }
  // Largest first; values folded into "(other)" come last whatever their sum.
  const rank = (key: string) => (key === '(other)' ? 1 : 0);
  return [...totals]
    .map(([key, value]) => ({ key, value }))
    .filter((r) => r.value > 0)
    .sort((a, b) => rank(a.key) - rank(b.key) || b.value - a.value);
}

/**
 * The values of the three custom properties the range's events carry most (events with each
 * value; docs/insights.md#custom-properties); nothing when no event has one.
 */
async function propertySections(query: Record<string, unknown>): Promise<HTMLElement[]> {
  const { interval: _interval, ...range } = query;
  const { properties } = await api<{ properties: { name: string }[] }>('/api/v1/properties', range);
  if (properties.length === 0) return [];
  const shown = properties.slice(0, 3);
  const values = await Promise.all(
    shown.map((p) => ranked(query, 'events', 'property', { property: p.name })),
  );
  return [
    el(
      'div',
      { class: 'grid' },
      ...shown.map((p, i) => table(`Custom property: ${p.name} (events)`, p.name, values[i])),
    ),
  ];
}

/** Bytes as B, kB, MB, GB or TB (powers of 1000), one decimal. */
function bytes(value: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * GoAccess's panels for the range's requests (imported or proxied logs): requests, bandwidth and
 * bots' requests, then status codes, the paths answered 404 and the bots by name; nothing when
 * the range has no request.
 */
async function requestSections(query: Record<string, unknown>): Promise<HTMLElement[]> {
  const total = async (metric: string, extra: Record<string, unknown> = {}) =>
    sum((await api<{ rows: Row[] }>('/api/v1/series', { ...query, ...extra, metric })).rows, 'value');
  const requests = await total('requests');
  if (requests === 0) return [];
  const bots = { filters: { device_type: 'bot' } };
  const [volume, botRequests, statuses, notFound, botNames] = await Promise.all([
    total('bandwidth'),
    total('requests', bots),
    ranked(query, 'requests', 'status'),
    ranked(query, 'requests', 'path', { filters: { status: '404' } }),
    ranked(query, 'requests', 'browser', bots),
  ]);
  return [
    el('h2', {}, 'Requests (logs and proxied traffic)'),
    el(
      'div',
      { class: 'cards' },
      card('Requests', number(requests)),
      card('Bandwidth', bytes(volume)),
      card('Bot requests', `${number(botRequests)} (${Math.round((botRequests / requests) * 1000) / 10}%)`),
    ),
    el(
      'div',
      { class: 'grid' },
      table('Status codes (requests)', 'Status', statuses),
      table('Not found: paths answered 404', 'Path', notFound),
      table('Bots (requests)', 'Bot', botNames),
    ),
  ];
}

/** The goals report's answer (insights/goals.ts), as the dashboard reads it. */
interface GoalsAnswer {
  goals: { name: string; visitors: number; conversionRate: number }[];
  funnels: { name: string; steps: { goal: string; visits: number; conversionRate: number }[] }[];
  revenue: { currency: string; orders: number; total: number }[];
}

/**
 * A site's goals (visitors who completed each, and the conversion rate), its funnels (visits
 * reaching each step in order) and its revenue per currency; nothing for a group or a site
 * without goals.
 */
async function goalSections(selection: Selection): Promise<HTMLElement[]> {
  if (!selection.scope.startsWith('site:')) return [];
  const { sites: _sites, ...range } = rangeQuery(selection);
  const report = await api<GoalsAnswer>('/api/v1/goals', { ...range, site: selection.scope.slice(5) });
  if (report.goals.length === 0 && report.revenue.length === 0) return [];
  const percent = (rate: number) => `${rate.toFixed(1)}%`;
  return [
    el(
      'div',
      { class: 'grid' },
      table(
        'Goals (visitors, conversion rate)',
        'Goal',
        report.goals.map((g) => ({ key: `${g.name} — ${percent(g.conversionRate)}`, value: g.visitors })),
      ),
      ...report.funnels.map((funnel) =>
        table(
          `Funnel: ${funnel.name} (visits reaching each step in order)`,
          'Step',
          funnel.steps.map((step, i) => ({
            key: `${i + 1}. ${step.goal} — ${percent(step.conversionRate)}`,
            value: step.visits,
          })),
        ),
      ),
      table(
        'Revenue (orders completed)',
        'Currency',
        report.revenue.map((r) => ({ key: `${r.currency} ${r.total.toFixed(2)}`, value: r.orders })),
      ),
    ),
  ];
}

/**
 * The overview of a site or group: pageviews, visitors, visits, bounce rate, visit duration and
 * mobile share (pageviews with the change against the chosen comparison), the series against
 * it, mobile share over time, top pages, entry pages, campaigns, browsers, operating
 * systems, referrer hosts and classes, countries and regions, ranked spikes and dips.
 */
export async function renderOverview(selection: Selection, target: HTMLElement): Promise<void> {
  const interval = intervalOf(selection);
  const query = { ...rangeQuery(selection), interval };
  // The chosen comparison; spikes and dips need one (the previous week when none is chosen).
  const against = comparisonLabel(selection);
  const comparing = selection.compare !== 'none';
  const compared = comparing ? { ...query, compare: selection.compare } : query;
  const detected = { ...query, compare: comparing ? selection.compare : 'previous_week' };
  const days = spanDays(selection);
  const daily = {
    ...rangeQuery(selection),
    ...(selection.range === '24h' ? { last: '1d' } : {}),
    interval: '1d',
  };
  const [pageviews, visitors, mobile, visits, bounces, durations] = await Promise.all([
    api<{ rows: Row[]; tz: string }>('/api/v1/series', { ...compared, metric: 'pageviews' }),
    api<{ rows: Row[] }>('/api/v1/series', {
      ...rangeQuery(selection),
      ...(selection.range === '24h' ? { last: '1d' } : {}),
      metric: 'visitors',
      interval: '1d',
    }),
    api<{ rows: Row[] }>('/api/v1/series', { ...compared, metric: 'mobile_share' }),
    api<{ rows: Row[] }>('/api/v1/series', { ...daily, metric: 'visits' }),
    api<{ rows: Row[] }>('/api/v1/series', { ...daily, metric: 'bounce_rate' }),
    api<{ rows: Row[] }>('/api/v1/series', { ...daily, metric: 'visit_duration' }),
  ]);
  // Rates and means of the days, weighted by each day's visits.
  const visitCount = sum(visits.rows, 'value');
  const weighted = (rows: Row[]) =>
    visitCount
      ? rows.reduce((total, r, i) => total + (r.value ?? 0) * (visits.rows[i]?.value ?? 0), 0) / visitCount
      : null;
  const bounceRate = weighted(bounces.rows);
  const duration = weighted(durations.rows);
  const total = sum(pageviews.rows, 'value');
  const mobileValues = mobile.rows.map((r) => r.value).filter((v): v is number => typeof v === 'number');
  const cards = el(
    'div',
    { class: 'cards' },
    card(
      'Pageviews',
      number(total),
      comparing ? changeOf(total, sum(pageviews.rows, 'baseline')) : undefined,
      against,
    ),
    card(days > 1 ? 'Visitors (sum of days)' : 'Visitors (today)', number(sum(visitors.rows, 'value'))),
    card('Visits', number(visitCount)),
    card('Bounce rate', bounceRate === null ? '—' : `${Math.round(bounceRate)}%`),
    card(
      'Visit duration',
      duration === null
        ? '—'
        : `${Math.floor(duration / 60)} min ${String(Math.round(duration % 60)).padStart(2, '0')} s`,
    ),
    card(
      'Mobile share (mean)',
      mobileValues.length
        ? `${Math.round((mobileValues.reduce((a, b) => a + b, 0) / mobileValues.length) * 10) / 10}%`
        : '—',
    ),
  );
  const [
    pages,
    entries,
    sources,
    campaigns,
    browsers,
    systems,
    screens,
    referrers,
    classes,
    countries,
    regions,
    spikes,
    dips,
  ] = await Promise.all([
    ranked(query, 'pageviews', 'path'),
    ranked(query, 'visits', 'entry_page'),
    // Campaigns by visits, as Plausible ranks them (a visit takes its first event's campaign).
    ranked(query, 'visits', 'utm_source'),
    ranked(query, 'visits', 'utm_campaign'),
    ranked(query, 'pageviews', 'browser'),
    ranked(query, 'pageviews', 'os'),
    ranked(query, 'pageviews', 'screen_class'),
    ranked(query, 'pageviews', 'referrer_host'),
    ranked(query, 'pageviews', 'referrer_class'),
    ranked(query, 'pageviews', 'country'),
    ranked(query, 'pageviews', 'region'),
    api<{ findings: { text: string }[] }>('/api/v1/detect/spikes', {
      ...detected,
      metric: 'pageviews',
      limit: 5,
    }),
    api<{ findings: { text: string }[] }>('/api/v1/detect/dips', {
      ...detected,
      metric: 'pageviews',
      limit: 5,
    }),
  ]);
  const seriesBox = el('div', {
    class: 'chart',
    role: 'img',
    'aria-label': comparing ? `Pageviews against ${against}` : 'Pageviews',
  });
  const mobileBox = el('div', {
    class: 'chart',
    role: 'img',
    'aria-label': comparing ? `Mobile share against ${against}` : 'Mobile share over time',
  });
  target.replaceChildren(
    el('p', { class: 'muted' }, `Times in ${pageviews.tz}.`),
    cards,
    el('h2', {}, comparing ? `Pageviews against ${against} (dashed)` : 'Pageviews'),
    seriesBox,
    el('h2', {}, comparing ? `Mobile share (%) against ${against} (dashed)` : 'Mobile share (%)'),
    mobileBox,
    el(
      'div',
      { class: 'grid' },
      table('Top pages', 'Path', pages),
      table('Entry pages (visits)', 'Path', entries),
      table('Campaign sources (visits)', 'utm_source', sources),
      table('Campaigns (visits)', 'utm_campaign', campaigns),
      table('Browsers', 'Browser', browsers),
      table('Operating systems', 'OS', systems),
      table('Screen sizes (window width)', 'Screen', screens),
      table('Referrers', 'Host', referrers),
      table('Referrer classes', 'Class', classes),
      table('Countries', 'Country', countries),
      table('Regions', 'Region', regions),
    ),
    ...(await goalSections(selection)),
    ...(await propertySections(query)),
    ...(await requestSections(query)),
    findings('Spikes', spikes.findings, 'No spike.'),
    findings('Dips', dips.findings, 'No dip.'),
  );
  // The baseline's legend: "Previous week", "Previous period"…; none without a comparison.
  const legend = against.replace(/^the /, '');
  const baseline = comparing ? legend.charAt(0).toUpperCase() + legend.slice(1) : false;
  const annotations = await alertMarks(selection, pageviews.rows[0]?.time);
  lineChart(seriesBox, pageviews.rows, 'Pageviews', { tz: pageviews.tz, baseline, annotations });
  lineChart(mobileBox, mobile.rows, 'Mobile share', { unit: '%', tz: pageviews.tz, baseline });
}

/** The alerts since the chart's first bucket, for the scope's site, as marks on the pageviews chart. */
async function alertMarks(selection: Selection, first: string | undefined): Promise<Annotation[]> {
  if (!first) return [];
  const site = selection.scope.startsWith('site:') ? selection.scope.slice(5) : '';
  const query = new URLSearchParams({
    since: new Date(Date.parse(first)).toISOString().slice(0, 16) + 'Z',
    limit: '200',
  });
  if (site) query.set('site', site);
  try {
    const { alerts } = await api<{ alerts: { time: string; state: string; detector: string }[] }>(
      `/api/v1/alerts?${query.toString()}`,
    );
    return alerts.map((a) => ({
      ts: Date.parse(a.time) / 1000,
      label: `${a.state === 'start' ? '▲' : '▼'} ${a.detector}`,
    }));
  } catch {
    return [];
  }
}
