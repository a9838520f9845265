import { z } from 'zod';

// The part of Plausible's Stats API v2 query (POST /api/v2/query) that Balise answers, as
// Plausible documents it; what it does not answer is refused by name (docs/plausible.md).

/** Metrics Balise computes, by Plausible's names. */
export const PLAUSIBLE_METRICS = [
  'visitors',
  'visits',
  'pageviews',
  'views_per_visit',
  'bounce_rate',
  'visit_duration',
  'events',
  'conversion_rate',
] as const;

/** Metrics of visits (computed over visits, not events). */
export const VISIT_METRICS = new Set(['visits', 'views_per_visit', 'bounce_rate', 'visit_duration']);

/** Plausible dimensions Balise answers, and the column of an event or a visit each reads. */
export const PLAUSIBLE_DIMENSIONS = {
  'event:page': 'path',
  'event:goal': 'goal',
  'event:name': 'name',
  'event:hostname': 'site',
  'visit:entry_page': 'entry_page',
  'visit:exit_page': 'exit_page',
  'visit:source': 'source',
  'visit:referrer': 'referrer_host',
  'visit:utm_source': 'utm_source',
  'visit:utm_medium': 'utm_medium',
  'visit:utm_campaign': 'utm_campaign',
  'visit:utm_term': 'utm_term',
  'visit:utm_content': 'utm_content',
  'visit:device': 'device_type',
  'visit:browser': 'browser',
  'visit:os': 'os',
  'visit:country': 'country',
  'visit:region': 'region',
} as const;

/** A Plausible dimension Balise answers (time dimensions aside). */
export type PlausibleDimension = keyof typeof PLAUSIBLE_DIMENSIONS;

/** Time dimensions: buckets in the site's zone. */
export const TIME_DIMENSIONS = ['time', 'time:hour', 'time:day', 'time:week', 'time:month'] as const;

/** Date range keywords. */
export const DATE_RANGES = [
  'day',
  '24h',
  '7d',
  '28d',
  '30d',
  '91d',
  'month',
  '6mo',
  '12mo',
  'year',
  'all',
] as const;

const FILTER_OPERATORS = ['is', 'is_not', 'contains', 'contains_not'] as const;

const known = (list: readonly string[], what: string) => (value: string) =>
  list.includes(value) || `${what} ${value} is not supported; supported: ${list.join(', ')}`;

const dimension = z.string().superRefine((value, ctx) => {
  const ok = known([...Object.keys(PLAUSIBLE_DIMENSIONS), ...TIME_DIMENSIONS], 'dimension')(value);
  if (ok !== true) ctx.addIssue({ code: 'custom', message: ok });
});

const filter = z
  .tuple([
    z.string(),
    z.string(),
    z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .max(100),
  ])
  .superRefine(([operator, name], ctx) => {
    const op = known(FILTER_OPERATORS, 'filter operator')(operator);
    if (op !== true)
      ctx.addIssue({
        code: 'custom',
        path: [0],
        message: `${op} (and, or, not and the others are not answered)`,
      });
    const dim = known(Object.keys(PLAUSIBLE_DIMENSIONS), 'filter dimension')(name);
    if (dim !== true) ctx.addIssue({ code: 'custom', path: [1], message: dim });
  });

const isoDate = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2}))?$/,
    'must be an ISO 8601 date or date-time with its offset',
  );

/** The query Balise reads, with Plausible's field names and defaults. */
export const plausibleQuerySchema = z.strictObject({
  site_id: z.string().min(1),
  metrics: z
    .array(z.string())
    .min(1)
    .superRefine((metrics, ctx) => {
      for (const [i, metric] of metrics.entries()) {
        const ok = known(PLAUSIBLE_METRICS, 'metric')(metric);
        if (ok !== true) ctx.addIssue({ code: 'custom', path: [i], message: ok });
      }
    }),
  date_range: z.union([z.enum(DATE_RANGES), z.tuple([isoDate, isoDate])]),
  dimensions: z.array(dimension).max(4).default([]),
  filters: z.array(filter).max(20).default([]),
  order_by: z.array(z.tuple([z.string(), z.enum(['asc', 'desc'])])).optional(),
  include: z
    .strictObject({
      total_rows: z.boolean().optional(),
      time_labels: z.boolean().optional(),
      imports: z.boolean().optional(),
    })
    .default({}),
  pagination: z
    .strictObject({
      limit: z.number().int().min(1).max(10_000).default(10_000),
      offset: z.number().int().min(0).default(0),
    })
    .default({ limit: 10_000, offset: 0 }),
});

/** A Plausible query as validated. */
export type PlausibleQuery = z.output<typeof plausibleQuerySchema>;
/** One filter: operator, dimension, values. */
export type PlausibleFilter = PlausibleQuery['filters'][number];
