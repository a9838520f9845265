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

/** Validates a request body — one event, or a batch when it has an `events` key — with precise error paths. */
export function parseWireBody(
  body: unknown,
): { success: true; data: WireEvent[] } | { success: false; issues: z.core.$ZodIssue[] } {
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
