import { api } from './api.js';
import { el } from './dom.js';

interface Evidence {
  site: string;
  tool: string | null;
  ok: boolean;
  config: string;
  observed: string;
}

interface Report {
  period: { from: string; to: string };
  ok: boolean;
  failed: string[];
  conditions: { id: string; title: string; ok: boolean; evidence: Evidence[] }[];
  hosts: {
    site: string;
    tool: string;
    host: string;
    region: string;
    sent: number;
    blocked: number;
    failed: number;
    fields: string[];
  }[];
}

/**
 * The CNIL analytics-proxy audit of the last 30 days (`/api/v1/audit`): each condition met or
 * not, with its evidence per site and tool, and the hosts the tools contacted. Text only.
 */
export async function renderAudit(target: HTMLElement): Promise<void> {
  const report = await api<Report>('/api/v1/audit?since=30d');
  const summary = el(
    'p',
    { class: report.ok ? 'ok' : 'error', role: 'status' },
    report.ok
      ? `Every condition is met (${report.period.from.slice(0, 10)} to ${report.period.to.slice(0, 10)}).`
      : `Failed: ${report.failed.join(', ')}.`,
  );
  const sections = report.conditions.map((condition) =>
    el(
      'section',
      { class: 'audit-condition', 'data-condition': condition.id },
      el('h2', {}, `${condition.ok ? '✓' : '✗'} ${condition.title}`),
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['', 'Site', 'Tool', 'Configuration', 'Egress log'].map((h) => el('th', { scope: 'col' }, h)),
          ),
        ),
        el(
          'tbody',
          {},
          ...condition.evidence.map((e) =>
            el(
              'tr',
              { class: e.ok ? '' : 'failed' },
              el('td', {}, e.ok ? '✓' : '✗'),
              el('td', {}, e.site),
              el('td', {}, e.tool ?? 'store'),
              el('td', {}, e.config),
              el('td', {}, e.observed),
            ),
          ),
        ),
      ),
    ),
  );
  const hosts = el(
    'section',
    {},
    el('h2', {}, 'Hosts contacted'),
    report.hosts.length === 0
      ? el('p', { class: 'muted' }, 'No host contacted in the period.')
      : el(
          'table',
          {},
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...[
                'Site',
                'Tool',
                'Host',
                'Region',
                'Sent',
                'Blocked',
                'Retried or dead',
                'Fields sent (names)',
                'Fields sent (names)',
              ].map((h) => el('th', { scope: 'col' }, h)),
            ),
          ),
          el(
            'tbody',
            {},
            ...report.hosts.map((h) =>
              el(
                'tr',
                {},
                ...[
                  h.site,
                  h.tool,
                  h.host,
                  h.region,
                  String(h.sent),
                  String(h.blocked),
                  String(h.failed),
                  h.fields.join(', '),
                ].map((v) => el('td', {}, v)),
              ),
            ),
          ),
        ),
  );
  target.replaceChildren(summary, ...sections, hosts);
}
