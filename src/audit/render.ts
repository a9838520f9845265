import type { AuditReport } from './audit.js';

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The audit as plain text for a terminal: each condition, then its evidence per site and tool. */
export function auditText(report: AuditReport): string {
  const lines = [
    `CNIL analytics-proxy audit, ${report.period.from.slice(0, 10)} to ${report.period.to.slice(0, 10)}: ${report.ok ? 'every condition met' : `${report.failed.length} condition(s) failed: ${report.failed.join(', ')}`}`,
  ];
  for (const condition of report.conditions) {
    lines.push('', `${condition.ok ? 'ok  ' : 'FAIL'} ${condition.id} — ${condition.title}`);
    for (const e of condition.evidence)
      lines.push(
        `     ${e.ok ? ' ' : '✗'} ${e.site}${e.tool ? ` / ${e.tool}` : ' (store)'}: ${e.config}${e.observed === '—' ? '' : `; observed: ${e.observed}`}`,
      );
  }
  if (report.hosts.length > 0) {
    lines.push('', 'hosts contacted');
    for (const h of report.hosts)
      lines.push(
        `  ${h.site} / ${h.tool} → ${h.host} (${h.region}): ${h.sent} sent, ${h.blocked} blocked, ${h.failed} retried or dead`,
      );
  }
  return lines.join('\n');
}

/** The audit as one self-contained HTML page (no script, every value escaped). */
export function auditHtml(report: AuditReport): string {
  const rows = report.conditions
    .map((c) => {
      const evidence = c.evidence
        .map(
          (e) =>
            `<tr class="${e.ok ? 'ok' : 'fail'}"><td>${e.ok ? '✓' : '✗'}</td><td>${escapeHtml(e.site)}</td><td>${escapeHtml(e.tool ?? 'store')}</td><td>${escapeHtml(e.config)}</td><td>${escapeHtml(e.observed)}</td></tr>`,
        )
        .join('');
      return `<section><h2 class="${c.ok ? 'ok' : 'fail'}">${c.ok ? '✓' : '✗'} ${escapeHtml(c.title)} <code>${c.id}</code></h2>
<table><thead><tr><th></th><th>site</th><th>tool</th><th>configuration</th><th>egress log</th></tr></thead><tbody>${evidence}</tbody></table></section>`;
    })
    .join('\n');
  const hosts = report.hosts
    .map(
      (h) =>
        `<tr><td>${escapeHtml(h.site)}</td><td>${escapeHtml(h.tool)}</td><td>${escapeHtml(h.host)}</td><td>${escapeHtml(h.region)}</td><td>${h.sent}</td><td>${h.blocked}</td><td>${h.failed}</td><td>${escapeHtml(h.fields.join(', '))}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Balise — CNIL audit</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}.ok{color:#1a6b2c}.fail{color:#a3151b}code{font-size:.85em;color:#555}</style>
</head><body>
<h1>CNIL analytics-proxy audit</h1>
<p>Period: ${escapeHtml(report.period.from)} to ${escapeHtml(report.period.to)} · generated ${escapeHtml(report.generatedAt)}</p>
<p class="${report.ok ? 'ok' : 'fail'}"><strong>${report.ok ? 'Every condition is met.' : `Failed: ${report.failed.map(escapeHtml).join(', ')}`}</strong></p>
${rows}
<section><h2>Hosts contacted</h2><table><thead><tr><th>site</th><th>tool</th><th>host</th><th>region</th><th>sent</th><th>blocked</th><th>retried or dead</th><th>fields sent (names)</th></tr></thead><tbody>${hosts || '<tr><td colspan="8">none in the period</td></tr>'}</tbody></table></section>
</body></html>
`;
}
