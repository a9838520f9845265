/**
 * The Balise dashboard (served at {prefix}/ui/): login, then an overview of a site or group —
 * totals, the series against the previous week, top pages, referrers, countries and ranked
 * spikes. Every value shown comes from the public (paths, titles, referrers, event names), so it
 * is only ever written with textContent; the page runs under a CSP without inline code.
 */
interface SessionInfo {
  authenticated: boolean;
  csrf: string;
  prefix: string;
  sites: { host: string; group: string | null; timezone: string }[];
  groups: string[];
}
interface Row {
  time: string;
  value: number | null;
  baseline?: number | null;
  change?: number | null;
  label?: string;
  [key: string]: unknown;
}
declare const uPlot: new (options: unknown, data: unknown, target: HTMLElement) => { destroy(): void };

const app = document.getElementById('app')!;
const base = location.pathname.replace(/\/ui\/.*$/, '');
let session: SessionInfo | null = null;
let chart: { destroy(): void } | null = null;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children)
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

const number = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : v.toLocaleString('en-US');

async function api<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      ...(session ? { 'x-balise-csrf': session.csrf } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) {
    session = null;
    renderLogin();
    throw new Error('logged out');
  }
  const data = (await response.json().catch(() => ({}))) as T & { error?: { message: string } };
  if (!response.ok) throw new Error(data.error?.message ?? `HTTP ${response.status}`);
  return data;
}

function renderLogin(message = ''): void {
  const password = el('input', {
    type: 'password',
    id: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: '',
  });
  const error = el('p', { class: 'error', role: 'alert' }, message);
  const form = el(
    'form',
    { class: 'login' },
    el('h1', {}, 'Balise'),
    el('label', { for: 'password' }, 'Admin password', password),
    el('button', { type: 'submit' }, 'Log in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void fetch(`${base}/ui/login`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: password.value }),
    }).then(async (response) => {
      if (response.ok) return start();
      const data = (await response.json().catch(() => ({}))) as { error?: { message: string } };
      error.textContent = data.error?.message ?? `login failed (${response.status})`;
    });
  });
  app.replaceChildren(form);
  password.focus();
}

interface ViewChoice {
  scope: string;
  last: string;
}

function scopeQuery(selection: ViewChoice): Record<string, unknown> {
  return selection.scope.startsWith('group:')
    ? { group: selection.scope.slice(6) }
    : { sites: [selection.scope.slice(5)] };
}

function card(label: string, value: string, change?: number | null): HTMLElement {
  const delta =
    change === undefined || change === null
      ? el('span', { class: 'muted' }, change === null ? 'no previous week' : '')
      : el('span', { class: change < 0 ? 'down' : 'up' }, `${Math.abs(change)}% vs previous week`);
  return el(
    'div',
    { class: 'card' },
    el('div', { class: 'label' }, label),
    el('div', { class: 'value', 'data-metric': label }, value),
    delta,
  );
}

function table(title: string, column: string, rows: { key: string; value: number }[]): HTMLElement {
  const body = el('tbody');
  for (const row of rows)
    body.append(el('tr', {}, el('td', {}, row.key), el('td', { class: 'n' }, number(row.value))));
  return el(
    'section',
    {},
    el('h2', {}, title),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el('tr', {}, el('th', { scope: 'col' }, column), el('th', { scope: 'col', class: 'n' }, 'Count')),
      ),
      body,
    ),
  );
}

const sum = (rows: Row[], key: 'value' | 'baseline') =>
  rows.reduce((total, r) => total + (typeof r[key] === 'number' ? r[key] : 0), 0);
const changeOf = (value: number, baseline: number) =>
  baseline ? Math.round(((value - baseline) / baseline) * 1000) / 10 : null;

async function ranked(
  selection: ViewChoice,
  metric: string,
  breakdown: string,
): Promise<{ key: string; value: number }[]> {
  const result = await api<{ rows: Row[] }>('/api/v1/series', {
    ...scopeQuery(selection),
    metric,
    // The same buckets as the totals above, so the tables add up to them.
    interval: selection.last === '28d' ? '1d' : '1h',
    last: selection.last,
    breakdown,
    top: 10,
  });
  const totals = new Map<string, number>();
  for (const row of result.rows) {
    const key = String(row.label ? `${row.label} (${String(row[breakdown])})` : row[breakdown]);
    totals.set(key, (totals.get(key) ?? 0) + (row.value ?? 0));
  }
  return [...totals]
    .map(([key, value]) => ({ key, value }))
    .filter((r) => r.value > 0)
    .sort((a, b) => b.value - a.value);
}

async function renderOverview(selection: ViewChoice): Promise<void> {
  const info = session!;
  const scope = el('select', { id: 'scope', 'aria-label': 'Site or group' });
  for (const group of info.groups) scope.append(el('option', { value: `group:${group}` }, `Group ${group}`));
  for (const site of info.sites) scope.append(el('option', { value: `site:${site.host}` }, site.host));
  scope.value = selection.scope;
  const range = el('select', { id: 'range', 'aria-label': 'Range' });
  for (const [value, text] of [
    ['24h', 'Last 24 hours'],
    ['7d', 'Last 7 days'],
    ['28d', 'Last 28 days'],
  ])
    range.append(el('option', { value: value }, text));
  range.value = selection.last;
  const logout = el('button', { type: 'button', class: 'secondary' }, 'Log out');
  logout.addEventListener('click', () => {
    void fetch(`${base}/ui/logout`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-balise-csrf': info.csrf },
    }).then(() => {
      session = null;
      renderLogin('Logged out.');
    });
  });
  const change = () => void renderOverview({ scope: scope.value, last: range.value });
  scope.addEventListener('change', change);
  range.addEventListener('change', change);
  const status = el('p', { class: 'muted' }, 'Loading…');
  app.replaceChildren(
    el('h1', {}, 'Overview'),
    el(
      'div',
      { class: 'bar' },
      el('label', {}, 'Site or group', scope),
      el('label', {}, 'Range', range),
      logout,
    ),
    status,
  );
  const interval = selection.last === '28d' ? '1d' : '1h';
  const query = { ...scopeQuery(selection), interval, last: selection.last, compare: 'previous_week' };
  const [pageviews, visitors, mobile] = await Promise.all([
    api<{ rows: Row[]; tz: string }>('/api/v1/series', { ...query, metric: 'pageviews' }),
    api<{ rows: Row[] }>('/api/v1/series', {
      ...query,
      metric: 'visitors',
      interval: '1d',
      last: selection.last === '24h' ? '1d' : selection.last,
    }),
    api<{ rows: Row[] }>('/api/v1/series', { ...query, metric: 'mobile_share' }),
  ]);
  const total = sum(pageviews.rows, 'value');
  const mobileValues = mobile.rows.map((r) => r.value).filter((v): v is number => typeof v === 'number');
  const cards = el(
    'div',
    { class: 'cards' },
    card('Pageviews', number(total), changeOf(total, sum(pageviews.rows, 'baseline'))),
    card('Visitors (sum of days)', number(sum(visitors.rows, 'value'))),
    card(
      'Mobile share (mean)',
      mobileValues.length
        ? `${Math.round((mobileValues.reduce((a, b) => a + b, 0) / mobileValues.length) * 10) / 10}%`
        : '—',
    ),
  );
  const chartBox = el('div', {
    class: 'chart',
    role: 'img',
    'aria-label': 'Pageviews against the previous week',
  });
  const [pages, referrers, countries, spikes] = await Promise.all([
    ranked(selection, 'pageviews', 'path'),
    ranked(selection, 'pageviews', 'referrer_host'),
    ranked(selection, 'pageviews', 'country'),
    api<{ findings: { text: string }[] }>('/api/v1/detect/spikes', {
      ...query,
      metric: 'pageviews',
      limit: 5,
    }),
  ]);
  const [egress, dlp] = await Promise.all([
    api<{ records: Record<string, string | number | null>[] }>('/api/v1/egress?since=7d&limit=20'),
    api<{ since: string; findings: Record<string, Record<string, number>> }>('/api/v1/dlp'),
  ]);
  const egressBody = el('tbody');
  for (const r of egress.records)
    egressBody.append(
      el(
        'tr',
        {},
        ...[r.time, r.site, r.tool, r.host, r.path, r.outcome, r.status ?? '—'].map((v) =>
          el('td', {}, String(v)),
        ),
      ),
    );
  const egressTable = egress.records.length
    ? el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['Time (UTC)', 'Site', 'Tool', 'Host', 'Path', 'Outcome', 'Status'].map((h) =>
              el('th', { scope: 'col' }, h),
            ),
          ),
        ),
        egressBody,
      )
    : el('p', { class: 'muted' }, 'Nothing left for a tool in the last 7 days.');
  const dlpRows: { key: string; value: number }[] = [];
  for (const [site, kinds] of Object.entries(dlp.findings))
    for (const [kind, count] of Object.entries(kinds))
      dlpRows.push({ key: `${site} — ${kind}`, value: count });
  const spikeList = el('ol', { class: 'findings' });
  for (const finding of spikes.findings) spikeList.append(el('li', {}, finding.text));
  status.replaceWith(
    el('p', { class: 'muted' }, `Times in ${pageviews.tz}.`),
    cards,
    el('h2', {}, 'Pageviews against the previous week (dashed)'),
    chartBox,
    el(
      'div',
      { class: 'grid' },
      table('Top pages', 'Path', pages),
      table('Referrers', 'Host', referrers),
      table('Countries', 'Country', countries),
    ),
    el(
      'section',
      {},
      el('h2', {}, 'Spikes'),
      spikes.findings.length ? spikeList : el('p', { class: 'muted' }, 'No spike.'),
    ),
    el('section', {}, el('h2', {}, 'What left for the tools (egress log)'), egressTable),
    dlpRows.length
      ? table(`Personal data masked since ${dlp.since}`, 'Site — kind', dlpRows)
      : el(
          'section',
          {},
          el('h2', {}, 'Personal data masked'),
          el('p', { class: 'muted' }, `None since ${dlp.since}.`),
        ),
  );
  chart?.destroy();
  chart = new uPlot(
    {
      width: Math.min(1060, app.clientWidth || 1000),
      height: 260,
      series: [
        {},
        { label: 'Pageviews', stroke: '#1f4e9c', width: 2 },
        { label: 'Previous week', stroke: '#767676', width: 2, dash: [6, 4] },
      ],
      axes: [{}, {}],
    },
    [
      pageviews.rows.map((r) => Date.parse(r.time) / 1000),
      pageviews.rows.map((r) => r.value),
      pageviews.rows.map((r) => (typeof r.baseline === 'number' ? r.baseline : null)),
    ],
    chartBox,
  );
}

async function start(): Promise<void> {
  try {
    const response = await fetch(`${base}/ui/session`, { credentials: 'same-origin' });
    const info = (await response.json()) as SessionInfo;
    if (!response.ok || !info.authenticated) return renderLogin();
    session = info;
    const first = session.groups[0] ? `group:${session.groups[0]}` : `site:${session.sites[0].host}`;
    await renderOverview({ scope: first, last: '7d' });
  } catch (error) {
    if (session)
      app.append(
        el('p', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error)),
      );
  }
}

void start();
