import { createHash } from 'node:crypto';
import type { ComponentSettings, MCEvent, Manager } from '@managed-components/types';
import { Memo } from '../../memo.js';
import type { Manifest } from '../manifest.js';

/** Meta Conversions API: server events with a hashed external id, deduplicated by event_id. */
export const manifest: Manifest = {
  name: 'meta',
  description: 'Meta (Facebook) Conversions API',
  permissions: ['server_network_requests', 'access_client_kv'],
  hosts: [{ host: 'graph.facebook.com', eu: false }],
  settings: {
    pixelId: { required: true, secret: false, description: 'Pixel (dataset) id' },
    accessToken: { required: true, secret: true, description: 'Conversions API access token' },
    testEventCode: { required: false, secret: false, description: 'TEST12345 to see events in Test Events' },
    apiVersion: { required: false, secret: false, description: 'Graph API version (default v21.0)' },
    endpoint: {
      required: false,
      secret: false,
      description: 'Override of https://graph.facebook.com (tests)',
    },
  },
  // Conversions API: up to 1,000 events in `data` per request.
  batch: { field: 'data', max: 1000, vary: [] },
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The hashed external ids of recent client ids (a visitor's events of a day share one). */
const externalIds = new Memo<string>(10_000);
const HASHED = /^[0-9a-f]{64}$/;

/**
 * Meta's normalisation before SHA-256 (Conversions API "customer information parameters"):
 * em trimmed and lower-case; ph digits only, without leading zeros (country code included by the
 * sender); fn, ln lower-case without punctuation; ct lower-case without spaces or punctuation; st
 * and country 2-letter lower-case; zp lower-case without spaces; ge `f` or `m`; db `YYYYMMDD`;
 * external_id trimmed. A value that already is a SHA-256 hex is kept; an empty result is dropped.
 */
export function metaHash(key: string, value: string): string | null {
  const trimmed = value.trim();
  if (HASHED.test(trimmed)) return trimmed;
  let normalised: string;
  switch (key) {
    case 'em':
      normalised = trimmed.toLowerCase();
      break;
    case 'ph':
      normalised = trimmed.replace(/\D/g, '').replace(/^0+/, '');
      break;
    case 'fn':
    case 'ln':
      normalised = trimmed.toLowerCase().replace(/[\s\p{P}]/gu, '');
      break;
    case 'ct':
      normalised = trimmed.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
      break;
    case 'st':
    case 'country':
      normalised = trimmed
        .toLowerCase()
        .replace(/[^a-z]/g, '')
        .slice(0, 2);
      break;
    case 'zp':
      normalised = trimmed.toLowerCase().replace(/\s/g, '');
      break;
    case 'ge':
      normalised = trimmed.toLowerCase().slice(0, 1);
      if (normalised !== 'f' && normalised !== 'm') return null;
      break;
    case 'db':
      normalised = trimmed.replace(/\D/g, '');
      if (normalised.length !== 8) return null;
      break;
    default:
      normalised = trimmed;
  }
  return normalised ? sha256(normalised) : null;
}

const USER_FIELDS = ['em', 'ph', 'fn', 'ln', 'ct', 'st', 'zp', 'country', 'ge', 'db', 'external_id'];

/** Zaraz/Balise e-commerce names → Meta standard events. */
const STANDARD: Record<string, string> = {
  'Product Viewed': 'ViewContent',
  'Product Added': 'AddToCart',
  'Product Added to Wishlist': 'AddToWishlist',
  'Checkout Started': 'InitiateCheckout',
  'Payment Info Entered': 'AddPaymentInfo',
  'Order Completed': 'Purchase',
  'Products Searched': 'Search',
};

/**
 * Sends `PageView`, custom events and e-commerce events (mapped to standard events) with
 * `action_source: website`, the page URL and User-Agent of the privacy view, `external_id` =
 * SHA-256 of the tool's client id, and `event_id` = the Balise event id (Meta deduplicates a
 * retried delivery, or the same event from a browser pixel, by it). `user_data` fields in the
 * event's properties are normalised and hashed; masked values (`[redacted:…]`) are dropped. No IP
 * is sent under `ip: hide`.
 */
export default function meta(manager: Manager, settings: ComponentSettings): void {
  const base = typeof settings.endpoint === 'string' ? settings.endpoint : 'https://graph.facebook.com';
  const version = typeof settings.apiVersion === 'string' ? settings.apiVersion : 'v21.0';
  const url = `${base}/${version}/${encodeURIComponent(String(settings.pixelId))}/events?access_token=${encodeURIComponent(String(settings.accessToken))}`;
  const send = async (event: MCEvent, name: string) => {
    const { client } = event;
    const payload = event.payload as Record<string, unknown>;
    const userData: Record<string, unknown> = {};
    const clientId = client.get('client_id');
    if (clientId) userData.external_id = [externalIds.get(clientId, sha256)];
    if (client.ip) userData.client_ip_address = client.ip;
    if (client.userAgent) userData.client_user_agent = client.userAgent;
    const given = payload.user_data;
    if (given && typeof given === 'object') {
      for (const key of USER_FIELDS) {
        const value = (given as Record<string, unknown>)[key];
        if (typeof value !== 'string' || value.includes('[redacted:')) continue;
        const hashed = metaHash(key, value);
        if (hashed)
          userData[key] =
            key === 'external_id' ? [...((userData.external_id as string[]) ?? []), hashed] : [hashed];
      }
    }
    const customData = Object.fromEntries(
      Object.entries(payload).filter(
        ([key, value]) => !key.startsWith('__') && key !== 'user_data' && value !== undefined,
      ),
    );
    const body = JSON.stringify({
      data: [
        {
          event_name: name,
          event_time: Math.floor((client.timestamp ?? Date.now()) / 1000),
          event_id: String(payload.__eventId),
          action_source: 'website',
          event_source_url: client.url.toString(),
          user_data: userData,
          ...(Object.keys(customData).length ? { custom_data: customData } : {}),
        },
      ],
      ...(typeof settings.testEventCode === 'string' ? { test_event_code: settings.testEventCode } : {}),
    });
    await manager.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  };
  manager.addEventListener('pageview', (event) => send(event, 'PageView'));
  manager.addEventListener('event', (event) => send(event, (event.name ?? 'Event').slice(0, 50)));
  manager.addEventListener('ecommerce', (event) =>
    send(event, STANDARD[event.name ?? ''] ?? (event.name ?? 'Event').replace(/\s+/g, '')),
  );
}
