import { session } from './api.js';
import { el } from './dom.js';

/** What the insights views show: a site or group, a range, and the time zone of the times. */
export interface Selection {
  /** `group:NAME` or `site:HOST`. */
  scope: string;
  range: '24h' | '7d' | '28d' | 'custom';
  /** Local dates (YYYY-MM-DD) of a custom range, both included. */
  from: string;
  to: string;
  /** An IANA zone, or '' for the zone of the (first) site. */
  tz: string;
  /** What the overview compares with (the query model's `compare`), or `none`. */
  compare: 'previous_week' | 'previous_period' | 'median_weeks:4' | 'none';
}

/** The comparisons offered, with the words that follow "vs" or "against". */
export const COMPARISONS: [Selection['compare'], string][] = [
  ['previous_week', 'the previous week'],
  ['previous_period', 'the previous period'],
  ['median_weeks:4', 'the median of the last 4 weeks'],
  ['none', 'nothing'],
];

/** The words for the selection's comparison ("the previous week"). */
export function comparisonLabel(selection: Selection): string {
  return COMPARISONS.find(([value]) => value === selection.compare)?.[1] ?? 'the previous week';
}

const RANGES: [Selection['range'], string][] = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['28d', 'Last 28 days'],
  ['custom', 'Custom dates'],
];

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The first selection after login: the first group (or site), the last 7 days, the site's zone. */
export function defaultSelection(): Selection {
  const info = session()!;
  const now = Date.now();
  return {
    scope: info.groups[0] ? `group:${info.groups[0]}` : `site:${info.sites[0]?.host ?? ''}`,
    range: '7d',
    from: isoDate(now - 6 * 86_400_000),
    to: isoDate(now),
    tz: '',
    compare: 'previous_week',
  };
}

/** The sites or group part of a query. */
export function scopeQuery(selection: Selection): Record<string, unknown> {
  return selection.scope.startsWith('group:')
    ? { group: selection.scope.slice(6) }
    : { sites: [selection.scope.slice(5)] };
}

/** Days covered by the selection. */
export function spanDays(selection: Selection): number {
  if (selection.range !== 'custom')
    return selection.range === '24h' ? 1 : Number(selection.range.slice(0, -1));
  return Math.round((Date.parse(selection.to) - Date.parse(selection.from)) / 86_400_000) + 1;
}

/** Scope, range and zone as query fields (a custom range's `to` is the day after its last day). */
export function rangeQuery(selection: Selection): Record<string, unknown> {
  const tz = selection.tz ? { tz: selection.tz } : {};
  if (selection.range !== 'custom') return { ...scopeQuery(selection), last: selection.range, ...tz };
  return {
    ...scopeQuery(selection),
    from: selection.from,
    to: isoDate(Date.parse(selection.to) + 86_400_000),
    ...tz,
  };
}

/** Hourly buckets up to 8 days, daily beyond. */
export function intervalOf(selection: Selection): '1h' | '1d' {
  return spanDays(selection) > 8 ? '1d' : '1h';
}

function zones(): string[] {
  const supported = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  const list = supported ? supported('timeZone') : [];
  const mine = session()!.sites.map((s) => s.timezone);
  return [...new Set(['UTC', ...mine, ...list])];
}

/**
 * The scope, range (with custom dates) and time-zone pickers; `change` gets the new selection.
 * Without `withRange` (the realtime view: always the last 30 minutes) there is no range picker.
 */
export function pickers(
  selection: Selection,
  change: (next: Selection) => void,
  withRange = true,
): HTMLElement {
  const info = session()!;
  const scope = el('select', { id: 'scope' });
  for (const group of info.groups) scope.append(el('option', { value: `group:${group}` }, `Group ${group}`));
  for (const site of info.sites) scope.append(el('option', { value: `site:${site.host}` }, site.host));
  scope.value = selection.scope;
  const range = el('select', { id: 'range' });
  for (const [value, text] of RANGES) range.append(el('option', { value }, text));
  range.value = selection.range;
  const from = el('input', { type: 'date', id: 'from', value: selection.from });
  const to = el('input', { type: 'date', id: 'to', value: selection.to });
  const custom = el(
    'span',
    { class: 'custom-range' },
    el('label', { for: 'from' }, 'From', from),
    el('label', { for: 'to' }, 'To (included)', to),
  );
  custom.hidden = selection.range !== 'custom';
  const tz = el('select', { id: 'tz' });
  tz.append(el('option', { value: '' }, 'Site’s time zone'));
  for (const zone of zones()) tz.append(el('option', { value: zone }, zone));
  tz.value = selection.tz;
  const compare = el('select', { id: 'compare' });
  for (const [value, text] of COMPARISONS) compare.append(el('option', { value }, text));
  compare.value = selection.compare;
  const apply = () => {
    const next: Selection = {
      scope: scope.value,
      range: range.value as Selection['range'],
      from: from.value || selection.from,
      to: to.value || selection.to,
      tz: tz.value,
      compare: compare.value as Selection['compare'],
    };
    if (next.range === 'custom' && next.to < next.from) return;
    change(next);
  };
  for (const control of [scope, range, from, to, tz, compare]) control.addEventListener('change', apply);
  return el(
    'div',
    { class: 'bar' },
    el('label', { for: 'scope' }, 'Site or group', scope),
    ...(withRange
      ? [
          el('label', { for: 'range' }, 'Range', range),
          custom,
          el('label', { for: 'compare' }, 'Compare with', compare),
        ]
      : []),
    el('label', { for: 'tz' }, 'Time zone', tz),
  );
}
