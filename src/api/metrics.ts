import type { WindowEntry } from '../tools/send-window.js';
import type { CollectCounters } from '../collect/routes.js';
import type { ToolStats } from '../tools/runtime.js';

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

/** The node's health as metrics show it: storage failing or not, connections open and refused. */
export interface NodeHealth {
  spoolFailing: boolean;
  storeFailing: boolean;
  connectionsOpen: number;
  connectionsRefusedPerAddress: number;
}

/** The node's counters in the Prometheus text format (per node; sum across gateways). */
export function prometheusText(
  counters: CollectCounters,
  pendingRows: number,
  tools: Record<string, ToolStats> = {},
  outboxPending = 0,
  health?: NodeHealth,
  outboxWindows: readonly WindowEntry[] = [],
  outboxOldestAgeSeconds = 0,
): string {
  const perTool = (pick: (s: ToolStats) => number): [Record<string, string>, number][] =>
    Object.entries(tools).map(([name, stats]) => {
      const [site, tool] = name.split('/') as [string, string];
      return [{ site, tool }, pick(stats)];
    });
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
    counter(
      'balise_untrusted_forwarded_total',
      'Collect requests whose X-Forwarded-For came from a peer server.trustedProxies does not list (not believed).',
      [[{}, counters.untrustedForwarded ?? 0]],
    ),
    counter('balise_pending_rows', 'Rows accepted but not yet in the store.', [[{}, pendingRows]], 'gauge'),
    counter(
      'balise_tool_events_total',
      'Events handed to a tool.',
      perTool((s) => s.events),
    ),
    counter(
      'balise_tool_deliveries_total',
      'Requests a tool queued in the outbox.',
      perTool((s) => s.deliveries),
    ),
    counter(
      'balise_tool_blocked_total',
      'Requests the egress guard refused.',
      perTool((s) => s.blocked),
    ),
    counter(
      'balise_tool_consent_denied_total',
      'Events not routed for lack of consent.',
      perTool((s) => s.consentDenied),
    ),
    counter(
      'balise_tool_errors_total',
      'Component errors (thrown).',
      perTool((s) => s.errors),
    ),
    counter(
      'balise_tool_timeouts_total',
      'Component hooks that timed out.',
      perTool((s) => s.timeouts),
    ),
    counter(
      'balise_tool_browser_requests_refused_total',
      'client.fetch/execute calls refused by the policy.',
      perTool((s) => s.refusedBrowserRequests),
    ),
    counter(
      'balise_tool_permission_denied_total',
      'Component calls its granted permissions do not allow.',
      perTool((s) => s.permissionDenied),
    ),
    counter(
      'balise_tool_overrides_dropped_total',
      'Event properties named like a setting (accessToken, __setting_…), removed before the tool saw them.',
      perTool((s) => s.overridesDropped),
    ),
    counter(
      'balise_tool_disabled',
      'Tools stopped for good (their sandbox ran out of memory or time), with the reason; 0 while a tool runs.',
      Object.entries(tools).map(([name, stats]): [Record<string, string>, number] => {
        const [site, tool] = name.split('/') as [string, string];
        return [
          stats.disabled ? { site, tool, reason: stats.disabled } : { site, tool },
          stats.disabled ? 1 : 0,
        ];
      }),
      'gauge',
    ),
    counter('balise_outbox_pending', 'Deliveries waiting in the outbox.', [[{}, outboxPending]], 'gauge'),
    counter(
      'balise_outbox_oldest_age_seconds',
      'How long the oldest delivery waiting in the outbox has waited (0 with none waiting).',
      [[{}, outboxOldestAgeSeconds]],
      'gauge',
    ),
    counter(
      'balise_outbox_window',
      'Requests a tool may have in flight now (outbox.concurrency, opened up to outbox.maxConcurrency while requests wait and its vendor answers).',
      outboxWindows.map((w): [Record<string, string>, number] => [{ tool: w.tool }, w.size]),
      'gauge',
    ),
    counter(
      'balise_outbox_in_flight',
      'Requests of a tool sent and not yet answered.',
      outboxWindows.map((w): [Record<string, string>, number] => [{ tool: w.tool }, w.sending]),
      'gauge',
    ),
    ...(health
      ? [
          counter(
            'balise_spool_failing',
            '1 while the spool cannot write (collect answers 503 storage_unavailable).',
            [[{}, health.spoolFailing ? 1 : 0]],
            'gauge',
          ),
          counter(
            'balise_store_failing',
            '1 while the store refuses batches (kept in the spool and retried).',
            [[{}, health.storeFailing ? 1 : 0]],
            'gauge',
          ),
          counter(
            'balise_connections_open',
            'Client connections open.',
            [[{}, health.connectionsOpen]],
            'gauge',
          ),
          counter(
            'balise_connections_refused_total',
            'Connections closed at once because their address held its share (server.limits.maxConnectionsPerAddress).',
            [[{}, health.connectionsRefusedPerAddress]],
          ),
        ]
      : []),
    '',
  ].join('\n');
}
