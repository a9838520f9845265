import type { ComponentSettings, MCEvent, Manager } from '@managed-components/types';
import type { Manifest } from '../manifest.js';

/** Google Analytics 4 through the Measurement Protocol, sent by the gateway (never the browser). */
export const manifest: Manifest = {
  name: 'ga4',
  description: 'Google Analytics 4 Measurement Protocol (EU endpoint under region: eu)',
  permissions: ['server_network_requests', 'access_client_kv'],
  hosts: [
    { host: 'region1.google-analytics.com', eu: true },
    { host: 'www.google-analytics.com', eu: false },
  ],
  settings: {
    measurementId: { required: true, secret: false, description: 'G-XXXXXXXXXX' },
    mode: {
      required: false,
      secret: false,
      description:
        'g-collect (default: the web /g/collect protocol, as Zaraz relays it) or mp (Measurement Protocol)',
    },
    apiSecret: { required: false, secret: true, description: 'Measurement Protocol API secret (mode: mp)' },
    region: {
      required: false,
      secret: false,
      description: 'eu (default: region1.google-analytics.com) or any',
    },
    endpoint: { required: false, secret: false, description: 'Override of the collect URL (tests)' },
  },
  // Measurement Protocol: up to 25 events per request, one client per request, 130 kB at most.
  batch: { field: 'events', max: 25, maxBytes: 130_000, vary: [] },
};

/** GA4's reserved event names and prefixes (Measurement Protocol reference). */
const RESERVED = new Set([
  'ad_activeview',
  'ad_click',
  'ad_exposure',
  'ad_impression',
  'ad_query',
  'ad_reward',
  'adunit_exposure',
  'app_background',
  'app_clear_data',
  'app_exception',
  'app_install',
  'app_remove',
  'app_store_refund',
  'app_update',
  'app_upgrade',
  'dynamic_link_app_open',
  'dynamic_link_app_update',
  'dynamic_link_first_open',
  'error',
  'firebase_campaign',
  'first_open',
  'first_visit',
  'in_app_purchase',
  'notification_dismiss',
  'notification_foreground',
  'notification_open',
  'notification_receive',
  'os_update',
  'session_start',
  'user_engagement',
]);
const RESERVED_PREFIXES = ['_', 'firebase_', 'ga_', 'google_', 'gtag.'];

/** Zaraz/Balise e-commerce names → GA4 recommended events. */
const ECOMMERCE: Record<string, string> = {
  'Product Viewed': 'view_item',
  'Product Clicked': 'select_item',
  'Product Added': 'add_to_cart',
  'Product Removed': 'remove_from_cart',
  'Product List Viewed': 'view_item_list',
  'Cart Viewed': 'view_cart',
  'Checkout Started': 'begin_checkout',
  'Payment Info Entered': 'add_payment_info',
  'Order Completed': 'purchase',
  'Order Refunded': 'refund',
  'Products Searched': 'search',
  'Promotion Viewed': 'view_promotion',
  'Promotion Clicked': 'select_promotion',
  'Product Added to Wishlist': 'add_to_wishlist',
  'Shipping Info Entered': 'add_shipping_info',
};

/** A valid GA4 event name: letters, digits and _, starting with a letter, ≤ 40, not reserved. */
export function ga4EventName(name: string): string {
  let cleaned = name
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^[^A-Za-z]+/, '')
    .slice(0, 40);
  if (!cleaned) cleaned = 'event';
  if (RESERVED.has(cleaned) || RESERVED_PREFIXES.some((p) => cleaned.startsWith(p)))
    cleaned = `c_${cleaned}`.slice(0, 40);
  return cleaned;
}

/** Parameters within GA4's limits: ≤ 25, names as event names, strings ≤ 100 characters, numbers kept. */
export function ga4Params(input: Record<string, unknown>): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(input)) {
    if (Object.keys(params).length >= 25) break;
    if (key.startsWith('__') || value === null || value === undefined) continue;
    const name = ga4EventName(key);
    if (typeof value === 'number' && Number.isFinite(value)) params[name] = value;
    else if (typeof value === 'string' || typeof value === 'boolean')
      params[name] = String(value).slice(0, 100);
    else params[name] = JSON.stringify(value).slice(0, 100);
  }
  return params;
}

type Send = (event: MCEvent, name: string, params: Record<string, string | number>) => Promise<void>;

/** Maps each event to a GA4 event name and parameters, once for both transports. */
function listen(manager: Manager, send: Send, pageParams: (event: MCEvent) => Record<string, string>): void {
  const params = (event: MCEvent) => ga4Params(event.payload as Record<string, unknown>);
  manager.addEventListener('pageview', (event) => send(event, 'page_view', pageParams(event)));
  manager.addEventListener('event', (event) =>
    send(event, ga4EventName(event.name ?? 'event'), params(event)),
  );
  manager.addEventListener('ecommerce', (event) =>
    send(event, ECOMMERCE[event.name ?? ''] ?? ga4EventName(event.name ?? 'ecommerce'), params(event)),
  );
}

/**
 * The `/g/collect` relay (Zaraz's way): the gateway sends the web protocol GA4's own tag would
 * send — `v=2&tid&cid&en&dl&dt&dr&ul&sid&sct&seg&_s` plus `ep.`/`epn.` event parameters — from
 * its own address, with the privacy view's values; no API secret needed. `sid` is a session id
 * derived from the client id (which changes daily anyway).
 */
function gCollect(manager: Manager, settings: ComponentSettings, host: string): void {
  const url = typeof settings.endpoint === 'string' ? settings.endpoint : `https://${host}/g/collect`;
  const send: Send = async (event, name, params) => {
    const { client } = event;
    const clientId = client.get('client_id') ?? '0';
    const query = new URLSearchParams({
      v: '2',
      tid: String(settings.measurementId),
      cid: clientId,
      en: name,
      dl: client.url.toString().slice(0, 1000),
      ...(client.title ? { dt: client.title.slice(0, 300) } : {}),
      ...(client.referer ? { dr: client.referer.slice(0, 420) } : {}),
      ...(client.language ? { ul: client.language.toLowerCase() } : {}),
      sid: String(parseInt(clientId.slice(0, 8), 16) || 1),
      sct: '1',
      seg: '1',
      _s: '1',
      npa: '1',
    });
    for (const [key, value] of Object.entries(params))
      query.set(`${typeof value === 'number' ? 'epn' : 'ep'}.${key}`, String(value));
    await manager.fetch(`${url}?${query.toString()}`, { method: 'POST' });
  };
  // Page location, title and referrer travel as dl, dt and dr.
  listen(manager, send, () => ({}));
}

/**
 * Sends `page_view`, custom events (names made valid) and e-commerce events (mapped to GA4's
 * recommended names) with the tool's client id — through the `/g/collect` relay (default) or the
 * Measurement Protocol (`mode: mp`, with `apiSecret`) — to the EU endpoint
 * (region1.google-analytics.com) unless `region: any`. No IP and no User-Agent are sent.
 */
export default function ga4(manager: Manager, settings: ComponentSettings): void {
  const host = settings.region === 'any' ? 'www.google-analytics.com' : 'region1.google-analytics.com';
  if (settings.mode !== 'mp') return gCollect(manager, settings, host);
  if (typeof settings.apiSecret !== 'string' || !settings.apiSecret)
    throw new Error('mode: mp needs settings.apiSecret');
  const base = typeof settings.endpoint === 'string' ? settings.endpoint : `https://${host}/mp/collect`;
  const url = `${base}?measurement_id=${encodeURIComponent(String(settings.measurementId))}&api_secret=${encodeURIComponent(settings.apiSecret)}`;
  const send: Send = async (event, name, params) => {
    const { client } = event;
    // The time is the event's own (not the request's), so one client's events travel together.
    const body = JSON.stringify({
      client_id: client.get('client_id') ?? 'anonymous',
      non_personalized_ads: true,
      events: [
        {
          name,
          timestamp_micros: (client.timestamp ?? Date.now()) * 1000,
          params: { engagement_time_msec: 1, ...params },
        },
      ],
    });
    await manager.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  };
  listen(manager, send, ({ client }) => ({
    page_location: client.url.toString().slice(0, 1000),
    ...(client.title ? { page_title: client.title.slice(0, 300) } : {}),
    ...(client.referer ? { page_referrer: client.referer.slice(0, 420) } : {}),
  }));
}
