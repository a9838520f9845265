import { createHash } from 'node:crypto';
import type { Ranked, ReportData, ReportFinding } from './build.js';
import { lineChart } from './chart.js';
import { escapeHtml } from './escape.js';
import { groupDigits } from '../digits.js';

/** Escapes text for a Markdown table cell (pipes, backslashes, HTML, newlines). */
export function escapeMarkdown(value: string | number | null | undefined): string {
  return String(value ?? '')
    .replace(/[\\`*_[\]|<>#]/g, (c) => `\\${c}`)
    .replace(/[\r\n]+/g, ' ');
}

const number = (v: number | null | undefined) => (v === null || v === undefined ? '—' : groupDigits(v));
/** `-19` → `−19%` (a real minus sign), `12.5` → `+12.5%`. */
export const percent = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v)}%`;
const hour = (time: string | null) => (time ? time.slice(11, 16) : '');
const shortTime = (time: string) => `${time.slice(0, 10)} ${time.slice(11, 16)}`;

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;color:#1a1a1a;max-width:960px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .75rem;border-bottom:1px solid #e5e5e5;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.down{color:#a40000}.up{color:#00642e}
.muted{color:#555}svg{width:100%;height:auto;font-family:system-ui,sans-serif}`;

function findingsList(items: ReportFinding[], empty: string): string {
  if (items.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>`;
  return `<ol>${items.map((f) => `<li>${escapeHtml(f.text)}</li>`).join('')}</ol>`;
}

function rankedTable(title: string, metric: string, rows: Ranked[]): string {
  if (rows.length === 0) return '<p class="muted">No data.</p>';
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.label ? `${r.label} (${r.key})` : r.key)}</td><td class="n">${escapeHtml(number(r.value))}</td><td class="n">${escapeHtml(number(r.baseline))}</td>${changeCell(r.change)}</tr>`,
    )
    .join('');
  return `<table><thead><tr><th>${escapeHtml(title)}</th><th class="n">${escapeHtml(metric)}</th><th class="n">Baseline</th><th class="n">Change</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** Bytes as B, kB, MB, GB or TB (powers of 1000), one decimal. */
function bytes(value: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  for (; value >= 1000 && unit < units.length - 1; unit++) value /= 1000;
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** GoAccess's panels of a report on requests: bandwidth, status codes, paths answered 404. */
function requestsHtml(report: ReportData): string {
  if (!report.requests) return '';
  const { bandwidth, statuses, notFound } = report.requests;
  return `<h2>Bandwidth</h2><p><strong>${escapeHtml(bytes(bandwidth.value))}</strong> answered (${escapeHtml(percent(bandwidth.change))} against the ${escapeHtml(report.scope.compare.replace('_', ' '))}).</p>
<h2>Status codes</h2>${rankedTable('Status', report.metric, statuses)}
<h2>Paths answered 404</h2>${rankedTable('Path', report.metric, notFound)}
`;
}

const changeCell = (change: number | null) =>
  `<td class="n ${change !== null && change < 0 ? 'down' : change !== null && change > 0 ? 'up' : ''}">${escapeHtml(percent(change))}</td>`;

function totalComparison(report: ReportData): string {
  const against = report.scope.compare.replace('_', ' ');
  if (!report.total.baseline) return `no data for the ${against}`;
  return `${percent(report.total.change)} against the ${against}: ${number(report.total.baseline)}`;
}

/**
 * One self-contained HTML file: inline CSS (allowed by its hash in the page's own
 * Content-Security-Policy), inline SVG charts, no script and no network access.
 */
export function renderHtml(report: ReportData): string {
  const labels = report.series.map((r) =>
    report.interval === '1d' ? r.time.slice(5, 10) : shortTime(r.time).slice(5),
  );
  const chart = lineChart(`${report.metric}: this period against ${report.scope.compare}`, labels, [
    { name: `${report.metric}`, values: report.series.map((r) => r.value), color: '#1f4e9c' },
    {
      name: `${report.scope.compare.replace('_', ' ')}`,
      values: report.series.map((r) => r.baseline),
      dashed: true,
      color: '#777',
    },
  ]);
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  const regionRows = report.regions.rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.label ?? r.region)}</td><td>${escapeHtml(r.region)}</td><td class="n">${escapeHtml(number(r.value))}</td><td class="n">${escapeHtml(number(r.baseline))}</td>${changeCell(r.change)}</tr>`,
    )
    .join('');
  const mobileRows = report.mobilePeaks
    .map(
      (r) =>
        `<tr><td>${escapeHtml(shortTime(r.time))}</td><td class="n">${escapeHtml(r.value === null ? '—' : `${r.value}%`)}</td><td class="n">${escapeHtml(r.baseline === null ? '—' : `${r.baseline}%`)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-${styleHash}'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(report.title)}</title>
<style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(report.title)}</h1>
<p class="muted">Sites: ${escapeHtml(report.scope.sites.join(', '))}. Times are local (${escapeHtml(report.scope.tz)}). Generated ${escapeHtml(report.generatedAt)} by Balise.</p>
<p><strong>${escapeHtml(number(report.total.value))}</strong> ${escapeHtml(report.metric)} (${escapeHtml(totalComparison(report))}).</p>
<h2>Traffic against ${escapeHtml(report.scope.compare.replace('_', ' '))}</h2>
<figure>${chart}</figure>
<h2>Spikes</h2>${findingsList(report.spikes, 'No spike above the floor.')}
<h2>Dips</h2>${findingsList(report.dips, 'No dip above the floor.')}
<h2>Regions at ${escapeHtml(hour(report.regions.time))}${report.regions.time ? ` on ${escapeHtml(report.regions.time.slice(0, 10))}` : ''}</h2>
${
  report.regions.rows.length
    ? `<table><thead><tr><th>Region</th><th>Code</th><th class="n">${escapeHtml(report.metric)}</th><th class="n">Baseline</th><th class="n">Change</th></tr></thead><tbody>${regionRows}</tbody></table>`
    : '<p class="muted">No regional data (regions need a city database or a CDN log with region codes).</p>'
}
<h2>Countries</h2>${rankedTable('Country', report.metric, report.countries)}
<h2>Top paths</h2>${rankedTable('Path', report.metric, report.paths)}
${requestsHtml(report)}<h2>Mobile share peaks</h2>
${mobileRows ? `<table><thead><tr><th>Hour</th><th class="n">Mobile share</th><th class="n">Baseline</th></tr></thead><tbody>${mobileRows}</tbody></table>` : '<p class="muted">No data.</p>'}
<h2>Request-rate attacks</h2>${findingsList(report.attacks, 'No attack found.')}
<h2>Traffic shifts between serving nodes</h2>${findingsList(report.shifts, 'No shift found.')}
</main></body></html>
`;
}

/** The same report in Markdown (tables escaped; for a blog post or a ticket). */
export function renderMarkdown(report: ReportData): string {
  const lines = [
    `# ${escapeMarkdown(report.title)}`,
    '',
    `Sites: ${escapeMarkdown(report.scope.sites.join(', '))}. Times are local (${report.scope.tz}).`,
    '',
    `**${number(report.total.value)}** ${report.metric} (${totalComparison(report)}).`,
    '',
    '## Spikes',
    '',
    ...(report.spikes.length ? report.spikes.map((f) => `- ${escapeMarkdown(f.text)}`) : ['None.']),
    '',
    '## Dips',
    '',
    ...(report.dips.length ? report.dips.map((f) => `- ${escapeMarkdown(f.text)}`) : ['None.']),
    '',
    `## Regions at ${hour(report.regions.time)}${report.regions.time ? ` on ${report.regions.time.slice(0, 10)}` : ''}`,
    '',
  ];
  if (report.regions.rows.length) {
    lines.push(
      `| Region | Code | ${report.metric} | Baseline | Change |`,
      '| --- | --- | ---: | ---: | ---: |',
    );
    for (const r of report.regions.rows)
      lines.push(
        `| ${escapeMarkdown(r.label ?? r.region)} | ${escapeMarkdown(r.region)} | ${number(r.value)} | ${number(r.baseline)} | ${percent(r.change)} |`,
      );
  } else lines.push('No regional data.');
  for (const [title, rows] of [
    ['Countries', report.countries],
    ['Top paths', report.paths],
  ] as const) {
    lines.push(
      '',
      `## ${title}`,
      '',
      `| ${title === 'Countries' ? 'Country' : 'Path'} | ${report.metric} | Baseline | Change |`,
    );
    lines.push('| --- | ---: | ---: | ---: |');
    for (const r of rows)
      lines.push(
        `| ${escapeMarkdown(r.label ? `${r.label} (${r.key})` : r.key)} | ${number(r.value)} | ${number(r.baseline)} | ${percent(r.change)} |`,
      );
  }
  if (report.requests) {
    const { bandwidth, statuses, notFound } = report.requests;
    lines.push(
      '',
      '## Bandwidth',
      '',
      `**${bytes(bandwidth.value)}** answered (${percent(bandwidth.change)}).`,
    );
    for (const [title, column, rows] of [
      ['Status codes', 'Status', statuses],
      ['Paths answered 404', 'Path', notFound],
    ] as const) {
      lines.push(
        '',
        `## ${title}`,
        '',
        `| ${column} | requests | Baseline | Change |`,
        '| --- | ---: | ---: | ---: |',
      );
      for (const r of rows)
        lines.push(
          `| ${escapeMarkdown(r.key)} | ${number(r.value)} | ${number(r.baseline)} | ${percent(r.change)} |`,
        );
    }
  }
  const share = (v: number | null) => (v === null ? '—' : `${v}%`);
  lines.push('', '## Mobile share peaks', '', '| Hour | Mobile share | Baseline |', '| --- | ---: | ---: |');
  for (const r of report.mobilePeaks)
    lines.push(`| ${shortTime(r.time)} | ${share(r.value)} | ${share(r.baseline)} |`);
  lines.push('', '## Request-rate attacks', '');
  lines.push(
    ...(report.attacks.length ? report.attacks.map((f) => `- ${escapeMarkdown(f.text)}`) : ['None.']),
  );
  lines.push('', '## Traffic shifts between serving nodes', '');
  lines.push(...(report.shifts.length ? report.shifts.map((f) => `- ${escapeMarkdown(f.text)}`) : ['None.']));
  return `${lines.join('\n')}\n`;
}
