import type { CollectCounters } from '../collect/routes.js';

const label = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function counter(
  name: string,
  help: string,
  samples: [Record<string, string>, number][],
  type = 'counter',
): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${label(v)}"`)
      .join(',');
    lines.push(`${name}${text ? `{${text}}` : ''} ${value}`);
  }
  return lines.join('\n');
}

/** The node's counters in the Prometheus text format (per node; sum across gateways). */
export function prometheusText(counters: CollectCounters, pendingRows: number): string {
  return [
    counter('balise_events_accepted_total', 'Events accepted by collect (durable on disk).', [
      [{}, counters.accepted],
    ]),
    counter(
      'balise_events_dropped_total',
      'Events dropped by the pipeline, by reason.',
      Object.entries(counters.dropped).map(([reason, n]) => [{ reason }, n]),
    ),
    counter(
      'balise_requests_rejected_total',
      'Requests answered with an error, by code.',
      Object.entries(counters.rejected).map(([code, n]) => [{ code }, n]),
    ),
    counter(
      'balise_dlp_findings_total',
      'Personal data found by the DLP, by site and kind (never values).',
      Object.entries(counters.findings).flatMap(([site, kinds]) =>
        Object.entries(kinds).map(([kind, n]): [Record<string, string>, number] => [{ site, kind }, n]),
      ),
    ),
    counter('balise_pending_rows', 'Rows accepted but not yet in the store.', [[{}, pendingRows]], 'gauge'),
    '',
  ].join('\n');
}
