import { createHmac } from 'node:crypto';
import type { ComponentSettings, MCEvent, Manager } from '@managed-components/types';
import type { OutgoingRequest } from '../egress.js';
import type { Manifest } from '../manifest.js';

/** Generic webhook: signed JSON POSTs of events (`{"events": […]}`) to the operator's URL. */
export const manifest: Manifest = {
  name: 'webhook',
  description: 'JSON POST of each event to your URL, signed with HMAC-SHA256',
  permissions: ['server_network_requests'],
  hosts: [],
  settings: {
    url: { required: true, secret: false, description: 'https URL that receives the events' },
    secret: {
      required: true,
      secret: true,
      description: 'HMAC-SHA256 key for the x-balise-signature header',
    },
  },
  // Events travel in batches of up to 100; each request is signed when it is sent.
  batch: { field: 'events', max: 100, vary: ['x-balise-timestamp', 'x-balise-signature'] },
};

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`): what a receiver recomputes. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Signs a request as it leaves (time of sending, HMAC of that time and the body). */
export function seal(request: OutgoingRequest, settings: ComponentSettings): OutgoingRequest {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    ...request,
    headers: {
      ...request.headers,
      'x-balise-timestamp': timestamp,
      'x-balise-signature': webhookSignature(String(settings.secret), timestamp, request.body ?? ''),
    },
  };
}

/**
 * Sends `{"events": [{id, type, name, time, page: {url, title, referrer}, visitor: {id, ip,
 * userAgent, language}, properties}]}` — every value from the tool's privacy view — with the
 * headers `x-balise-timestamp` and `x-balise-signature`; the outbox may put up to 100 events in
 * one request (and signs each request it sends).
 */
export default function webhook(manager: Manager, settings: ComponentSettings): void {
  const url = String(settings.url);
  const send = async (event: MCEvent) => {
    const { client } = event;
    const payload = event.payload as Record<string, unknown>;
    const body = JSON.stringify({
      events: [
        {
          id: payload.__eventId,
          type: event.type,
          name: event.name ?? null,
          time: new Date(client.timestamp ?? Date.now()).toISOString(),
          page: { url: client.url.toString(), title: client.title ?? null, referrer: client.referer || null },
          visitor: {
            id: client.get('client_id') ?? null,
            ip: client.ip || null,
            userAgent: client.userAgent || null,
            language: client.language || null,
          },
          properties: Object.fromEntries(Object.entries(payload).filter(([key]) => !key.startsWith('__'))),
        },
      ],
    });
    // Unsigned here: the outbox signs each request (alone or a batch) with `seal` as it leaves.
    await manager.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  };
  for (const type of ['pageview', 'event', 'ecommerce']) manager.addEventListener(type, send);
}
