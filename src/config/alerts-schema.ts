import { z } from 'zod';

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .describe('Where the alert is POSTed as JSON');

/** The detectors whose findings become alerts. */
export const ALERT_DETECTORS = ['anomalies', 'attacks', 'shifts', 'outages'] as const;

/**
 * `alerts:` — live detection and notifications: the anomaly detector on each site's per-minute
 * and hourly series, the attack, shift and outage detectors on the last minutes, each start and
 * end of what they find sent to signed webhooks and by e-mail (docs/alerts.md).
 */
export const alertsSchema = z
  .strictObject({
    dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Directory of the alert log and the detectors\' states (default: the DuckDB path + ".alerts", or ./data/balise.alerts for ClickHouse)',
      ),
    enabled: z.boolean().default(true).describe('Run the live detectors (and record alerts) on this gateway'),
    node: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Only the gateway whose server.node is this name detects and notifies (several gateways on one ClickHouse: one alerts)',
      ),
    everySeconds: z
      .number()
      .int()
      .min(5)
      .max(3600)
      .default(60)
      .describe('Seconds between two looks at the series'),
    detectors: z
      .array(z.enum(ALERT_DETECTORS))
      .default([...ALERT_DETECTORS])
      .describe('Which detectors alert'),
    metrics: z
      .array(z.enum(['pageviews', 'events', 'requests']))
      .min(1)
      .default(['pageviews'])
      .describe('Series watched by the live anomaly detector, per site, per minute and per hour'),
    breakdowns: z
      .array(z.enum(['region', 'country', 'node', 'asn']))
      .default(['region', 'node'])
      .describe(
        "Also watch the hourly series of each site's five busiest values of these dimensions (where the traffic has them)",
      ),
    minCount: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe(
        "An anomaly is alerted only when the bucket or its series' usual value reaches this count (quiet sites stay quiet)",
      ),
    quietMinutes: z
      .number()
      .int()
      .min(1)
      .max(1440)
      .default(10)
      .describe('An attack, shift or outage ends after this many minutes without the detector finding it'),
    maxPerHour: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(30)
      .describe('Notifications sent per hour at most (the rest are recorded, marked rate_limited)'),
    webhooks: z
      .array(
        z.strictObject({
          url: httpUrl,
          secret: z
            .string()
            .min(16, 'must be at least 16 characters (it signs each alert)')
            .describe('HMAC-SHA256 key of the X-Balise-Signature header (use ${ENV_NAME})'),
        }),
      )
      .default([]),
    email: z
      .strictObject({
        smtp: z.strictObject({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65535).default(587),
          secure: z
            .boolean()
            .default(false)
            .describe('TLS from the start (port 465); else STARTTLS when offered'),
          user: z.string().min(1).optional(),
          pass: z.string().min(1).optional().describe('Use ${ENV_NAME} or ${file:PATH}'),
        }),
        from: z.email(),
        to: z.array(z.email()).min(1),
      })
      .optional(),
  })
  .prefault({});

/** The `alerts:` section. */
export type AlertsConfig = z.infer<typeof alertsSchema>;
