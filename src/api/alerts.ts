import type { FastifyInstance, FastifyRequest } from 'fastify';
import { alertFilter, MAX_NOTE, type AlertLog } from '../alerts/alert-log.js';
import type { AlertCounters } from '../alerts/watch.js';
import { BaliseError } from '../errors.js';

/**
 * `GET {prefix}/api/v1/alerts`: the recorded alerts, newest first — `site`, `detector`, `since`
 * (ISO date or date-time, UTC unless it says otherwise) and `limit` (1–1000, default 100);
 * `POST {prefix}/api/v1/alerts/:id/note`: an operator's note on one.
 */
export function registerAlertRoutes(
  app: FastifyInstance,
  base: string,
  log: AlertLog,
  authorize: (request: FastifyRequest) => void,
): void {
  app.get(`${base}/alerts`, (request) => {
    authorize(request);
    const q = (request.query ?? {}) as Record<string, string | undefined>;
    return { alerts: log.list(alertFilter(q)) };
  });

  // An operator's note on an alert: `{"text": "planned maintenance"}` (an empty text removes it).
  app.post(`${base}/alerts/:id/note`, async (request) => {
    authorize(request);
    const { id } = request.params as { id: string };
    const body = request.body as { text?: unknown } | null;
    const text = typeof body?.text === 'string' ? body.text.trim() : undefined;
    if (text === undefined || text.length > MAX_NOTE || [...text].some((c) => c < ' ' || c === '\u007f'))
      throw new BaliseError(
        'invalid_request',
        `send {"text": "…"}: one line of at most ${MAX_NOTE} characters`,
        'text',
      );
    const alert = await log.annotate(id, text);
    if (!alert) throw new BaliseError('no_such_alert', `no alert ${id}`, 'id');
    return alert;
  });
}

/** The live detection's counters in Prometheus text. */
export function alertsMetricsText(counters: AlertCounters): string {
  const lines = [
    '# HELP balise_alerts_total Alerts recorded (starts and ends), by detector.',
    '# TYPE balise_alerts_total counter',
    ...Object.entries(counters.alerts).map(([d, n]) => `balise_alerts_total{detector="${d}"} ${n}`),
    "# HELP balise_alert_notifications_total What became of the alerts' notifications.",
    '# TYPE balise_alert_notifications_total counter',
    ...Object.entries(counters.notified).map(
      ([o, n]) => `balise_alert_notifications_total{outcome="${o}"} ${n}`,
    ),
    '# HELP balise_alert_look_errors_total Live detector runs that failed.',
    '# TYPE balise_alert_look_errors_total counter',
    `balise_alert_look_errors_total ${counters.lookErrors}`,
  ];
  return `${lines.join('\n')}\n`;
}
