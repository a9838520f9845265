import { z } from 'zod';
import { isTimeZone } from '../config/schema.js';
import { INTERVALS } from './buckets.js';
import { parseLocal } from '../time.js';

/** Metrics a query can ask for. */
export const METRICS = [
  'requests',
  'pageviews',
  'visitors',
  'events',
  'mobile_share',
  'bot_share',
  'bandwidth',
  'visits',
  'bounce_rate',
  'visit_duration',
  'views_per_visit',
] as const;

/**
 * Metrics of visits (docs/insights.md#visits): a visit is a run of one visitor hash's events
 * with no gap longer than 30 minutes; it counts in the bucket where it starts, and its
 * dimensions are those of its first event (its entry page, `exit_page` its last).
 */
export const VISIT_METRICS: ReadonlySet<string> = new Set([
  'visits',
  'bounce_rate',
  'visit_duration',
  'views_per_visit',
]);

/** Dimensions for filters and breakdowns, each a column of the events table. */
export const DIMENSIONS = {
  country: 'country',
  region: 'region',
  device_type: 'device_type',
  browser: 'browser',
  os: 'os',
  referrer_class: 'referrer_class',
  referrer_host: 'referrer_host',
  path: 'path',
  node: 'node',
  asn: 'asn',
  status: 'status',
  type: 'type',
  name: 'name',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  utm_term: 'utm_term',
  utm_content: 'utm_content',
  screen_class: 'screen_class',
  entry_page: 'entry_page',
  exit_page: 'exit_page',
  // A custom event property, named by the query's `property` (its value in the event's props).
  property: 'props',
} as const;

/** A dimension name. */
export type Dimension = keyof typeof DIMENSIONS;

const localTime = z
  .string()
  .refine((v) => parseLocal(v) !== null, 'must be a local date or date-time: YYYY-MM-DD[THH:MM]');

/** Longest span a query may cover at each interval (docs/threats.md: expensive queries). */
export const MAX_BUCKETS = 5000;

/**
 * The one query model shared by the CLI, the HTTP API and the dashboard. Times are local to
 * `tz` (default: the first site's zone); `last` is an alternative to `from`/`to`.
 */
export const querySchema = z
  .strictObject({
    sites: z.array(z.string().min(1)).min(1).optional(),
    group: z.string().min(1).optional(),
    metric: z.enum(METRICS).default('pageviews'),
    interval: z.enum(INTERVALS).default('1h'),
    from: localTime.optional(),
    to: localTime.optional(),
    last: z
      .string()
      .regex(/^\d{1,4}(m|h|d)$/, 'must look like 30m, 24h or 7d')
      .optional(),
    tz: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris').optional(),
    filters: z
      .partialRecord(
        z.enum(Object.keys(DIMENSIONS) as [Dimension, ...Dimension[]]).or(z.literal('path_prefix')),
        z.string().max(1024),
      )
      .default({}),
    breakdown: z.enum(Object.keys(DIMENSIONS) as [Dimension, ...Dimension[]]).optional(),
    top: z.number().int().min(1).max(50).default(10),
    property: z
      .string()
      .regex(
        /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/,
        'must be a property name: letters, digits, _ . : - (64 at most)',
      )
      .optional(),
    compare: z
      .string()
      .regex(
        /^(previous_period|previous_week|median_weeks:[1-9]|median_weeks:1[0-2])$/,
        'must be previous_period, previous_week or median_weeks:k (k from 1 to 12)',
      )
      .optional(),
  })
  .superRefine((q, ctx) => {
    if (!q.sites && !q.group)
      ctx.addIssue({ code: 'custom', path: ['sites'], message: 'give sites or a group' });
    if (q.sites && q.group)
      ctx.addIssue({ code: 'custom', path: ['group'], message: 'give sites or a group, not both' });
    if (q.last && (q.from || q.to))
      ctx.addIssue({ code: 'custom', path: ['last'], message: 'give last, or from and to' });
    if (!q.last && !(q.from && q.to))
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'give from and to (or last)' });
    const usesProperty = q.breakdown === 'property' || q.filters.property !== undefined;
    if (usesProperty && !q.property)
      ctx.addIssue({
        code: 'custom',
        path: ['property'],
        message: 'name the custom property (property: plan) to break down or filter by it',
      });
    if (usesProperty && VISIT_METRICS.has(q.metric))
      ctx.addIssue({
        code: 'custom',
        path: ['metric'],
        message: 'a custom property is an event’s: use events, pageviews, requests or visitors',
      });
    if (!VISIT_METRICS.has(q.metric)) {
      for (const name of ['entry_page', 'exit_page'] as const) {
        if (q.breakdown === name)
          ctx.addIssue({
            code: 'custom',
            path: ['breakdown'],
            message: `${name} needs a visit metric (visits, bounce_rate, visit_duration, views_per_visit)`,
          });
        if (q.filters[name] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['filters', name],
            message: `${name} needs a visit metric (visits, bounce_rate, visit_duration, views_per_visit)`,
          });
      }
    }
  });

/** A query as written by a client. */
export type QueryInput = z.input<typeof querySchema>;
/** A validated query with defaults applied. */
export type Query = z.output<typeof querySchema>;
