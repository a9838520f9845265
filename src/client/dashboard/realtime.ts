import { api, type Row } from './api.js';
import { lineChart, destroyCharts } from './chart.js';
import { card, el, number } from './dom.js';
import { ranked } from './overview.js';
import { scopeQuery, type Selection } from './selection.js';

/** Seconds between refreshes of the realtime view. */
export const REALTIME_REFRESH_S = 15;

const total = (rows: Row[]) => rows.reduce((n, r) => n + (typeof r.value === 'number' ? r.value : 0), 0);

/**
 * The last 30 minutes, minute by minute, against the same minutes a week earlier: pageviews,
 * events, and the pages being read. Refreshed every REALTIME_REFRESH_S seconds while shown.
 */
export async function renderRealtime(selection: Selection, target: HTMLElement): Promise<void> {
  const query = {
    ...scopeQuery(selection),
    ...(selection.tz ? { tz: selection.tz } : {}),
    last: '30m',
    interval: '1m',
  };
  const [pageviews, events, pages] = await Promise.all([
    api<{ rows: Row[]; tz: string }>('/api/v1/series', {
      ...query,
      metric: 'pageviews',
      compare: 'previous_week',
    }),
    api<{ rows: Row[] }>('/api/v1/series', { ...query, metric: 'events' }),
    ranked(query, 'pageviews', 'path'),
  ]);
  const box = el('div', {
    class: 'chart',
    role: 'img',
    'aria-label': 'Pageviews per minute, last 30 minutes',
  });
  const last = pageviews.rows[pageviews.rows.length - 1];
  target.replaceChildren(
    el(
      'p',
      { class: 'muted' },
      `Last 30 minutes, per minute, times in ${pageviews.tz}; updated ${new Date().toLocaleTimeString('en-GB', { timeZone: pageviews.tz })} and every ${REALTIME_REFRESH_S} s.`,
    ),
    el(
      'div',
      { class: 'cards' },
      card('Pageviews (30 min)', number(total(pageviews.rows))),
      card('Events (30 min)', number(total(events.rows))),
      card('Pageviews this minute', number(last?.value ?? 0)),
    ),
    el('h2', {}, 'Pageviews per minute against the previous week (dashed)'),
    box,
    el(
      'section',
      {},
      el('h2', {}, 'Pages read in the last 30 minutes'),
      pages.length
        ? el('ol', { class: 'findings' }, ...pages.map((p) => el('li', {}, `${p.key} — ${number(p.value)}`)))
        : el('p', { class: 'muted' }, 'No pageview in the last 30 minutes.'),
    ),
  );
  destroyCharts();
  lineChart(box, pageviews.rows, 'Pageviews', { tz: pageviews.tz });
}
