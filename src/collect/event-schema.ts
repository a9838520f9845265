import { z } from 'zod';

/** Cloudflare Zaraz's 19 e-commerce event names, accepted by `balise.ecommerce`. */
export const ECOMMERCE_EVENTS = [
  'Product List Viewed',
  'Products Searched',
  'Product Clicked',
  'Product Added',
  'Product Added to Wishlist',
  'Product Removed',
  'Product Viewed',
  'Cart Viewed',
  'Checkout Started',
  'Checkout Step Viewed',
  'Checkout Step Completed',
  'Payment Info Entered',
  'Order Completed',
  'Order Updated',
  'Order Refunded',
  'Order Cancelled',
  'Clicked Promotion',
  'Viewed Promotion',
  'Shipping Info Entered',
] as const;

/** Most events one request may carry. */
export const MAX_EVENTS_PER_REQUEST = 50;
const MAX_DEPTH = 4;
const MAX_NODES = 500;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const key = z
  .string()
  .min(1)
  .max(100)
  .refine((k) => !FORBIDDEN_KEYS.has(k), 'reserved key name');
const json: z.ZodType<Json> = z.lazy(() =>
  z.union([
    z.string().max(1000),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(json).max(50),
    z.record(key, json),
  ]),
);

function measure(value: unknown, depth: number, count: { nodes: number }): number {
  count.nodes += 1;
  if (value === null || typeof value !== 'object') return depth;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.reduce<number>((max, child) => Math.max(max, measure(child, depth + 1, count)), depth);
}

const payload = z.record(key, json).superRefine((value, ctx) => {
  const count = { nodes: 0 };
  if (measure(value, 0, count) > MAX_DEPTH)
    ctx.addIssue({ code: 'custom', message: `nesting deeper than ${MAX_DEPTH} levels` });
  if (count.nodes > MAX_NODES) ctx.addIssue({ code: 'custom', message: `more than ${MAX_NODES} values` });
});

const HTTP_URL = /^https?:\/\/[^\s]+$/i;
const isHttpUrl = (v: string): boolean => HTTP_URL.test(v) && URL.canParse(v);
const httpUrl = z.string().max(2048).refine(isHttpUrl, 'must be an absolute http(s) URL');
const dimension = z.number().int().min(0).max(100_000);

/**
 * One event as the client script sends it (the Managed Components / WebCM track protocol shape).
 * Strict: unknown fields, wrong types and numbers sent as strings are refused.
 */
export const wireEventSchema = z
  .strictObject({
    eventType: z.enum(['pageview', 'track', 'ecommerce']),
    name: z.string().min(1).max(200).optional(),
    payload: payload.optional(),
    location: httpUrl,
    title: z.string().max(1000).optional(),
    referer: z
      .string()
      .max(2048)
      .refine((v) => v === '' || isHttpUrl(v), 'must be empty or an absolute http(s) URL')
      .optional(),
    timestamp: z.number().int().min(0).max(8_640_000_000_000).optional(),
    offset: z.number().int().min(-900).max(900).optional(),
    language: z
      .string()
      .max(35)
      .regex(/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/)
      .optional(),
    consent: z
      .record(z.string().regex(/^[a-z0-9_-]{1,32}$/), z.boolean())
      .optional()
      .describe(
        'Consent choices sent with the event (purpose → granted); the cookie balise_consent otherwise',
      ),
    screenWidth: dimension.optional(),
    screenHeight: dimension.optional(),
    viewportWidth: dimension.optional(),
    viewportHeight: dimension.optional(),
  })
  .superRefine((event, ctx) => {
    if (event.eventType !== 'pageview' && event.name === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: `required for eventType ${event.eventType}` });
    }
    if (
      event.eventType === 'ecommerce' &&
      !(ECOMMERCE_EVENTS as readonly string[]).includes(event.name ?? '')
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `must be one of the e-commerce events: ${ECOMMERCE_EVENTS.join(', ')}`,
      });
    }
  });

/** A validated wire event. */
export type WireEvent = z.output<typeof wireEventSchema>;

/** A batch body: `{"events": [...]}` with 1 to 50 events. */
export const wireBatchSchema = z.strictObject({
  events: z.array(wireEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST),
});

const FAST_KEYS = new Set([
  'eventType',
  'name',
  'location',
  'title',
  'referer',
  'timestamp',
  'offset',
  'language',
  'screenWidth',
  'screenHeight',
  'viewportWidth',
  'viewportHeight',
]);
const LANGUAGE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;
const optionalInt = (v: unknown, min: number, max: number): boolean =>
  v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);
const optionalText = (v: unknown, max: number): boolean =>
  v === undefined || (typeof v === 'string' && v.length <= max);

/**
 * The hot path's check of the common event (a pageview or a named track event without payload or
 * consent): the same rules as `wireEventSchema`, hand-written. It only ever accepts what the schema
 * accepts (a property test compares them); anything else — including every invalid event — goes
 * to the schema, which gives the precise error.
 */
export function fastWireEvent(value: unknown): WireEvent | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const e = value as Record<string, unknown>;
  for (const name of Object.keys(e)) if (!FAST_KEYS.has(name)) return null;
  const type = e.eventType;
  if (type !== 'pageview' && type !== 'track') return null;
  const name = e.name;
  if (
    name === undefined ? type === 'track' : typeof name !== 'string' || name.length < 1 || name.length > 200
  )
    return null;
  const location = e.location;
  if (typeof location !== 'string' || location.length > 2048 || !isHttpUrl(location)) return null;
  const referer = e.referer;
  if (
    referer !== undefined &&
    (typeof referer !== 'string' || referer.length > 2048 || (referer !== '' && !isHttpUrl(referer)))
  )
    return null;
  const language = e.language;
  if (
    language !== undefined &&
    (typeof language !== 'string' || language.length > 35 || !LANGUAGE.test(language))
  )
    return null;
  if (
    !optionalText(e.title, 1000) ||
    !optionalInt(e.timestamp, 0, 8_640_000_000_000) ||
    !optionalInt(e.offset, -900, 900) ||
    !optionalInt(e.screenWidth, 0, 100_000) ||
    !optionalInt(e.screenHeight, 0, 100_000) ||
    !optionalInt(e.viewportWidth, 0, 100_000) ||
    !optionalInt(e.viewportHeight, 0, 100_000)
  )
    return null;
  return e as WireEvent;
}

/** Validates a request body — one event, or a batch when it has an `events` key — with precise error paths. */
export function parseWireBody(
  body: unknown,
): { success: true; data: WireEvent[] } | { success: false; issues: z.core.$ZodIssue[] } {
  const fast = fastWireEvent(body);
  if (fast) return { success: true, data: [fast] };
  if (body !== null && typeof body === 'object' && 'events' in body) {
    const batch = wireBatchSchema.safeParse(body);
    return batch.success
      ? { success: true, data: batch.data.events }
      : { success: false, issues: batch.error.issues };
  }
  const single = wireEventSchema.safeParse(body);
  return single.success
    ? { success: true, data: [single.data] }
    : { success: false, issues: single.error.issues };
}
