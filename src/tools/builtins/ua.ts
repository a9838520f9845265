import type { ComponentSettings, MCEvent, Manager } from '@managed-components/types';
import type { Manifest } from '../manifest.js';

/** Universal Analytics Measurement Protocol v1 — legacy, kept for old properties. */
export const manifest: Manifest = {
  name: 'ua',
  description: 'Universal Analytics Measurement Protocol v1 (legacy)',
  permissions: ['server_network_requests', 'access_client_kv'],
  hosts: [{ host: 'www.google-analytics.com', eu: false }],
  settings: {
    trackingId: { required: true, secret: false, description: 'UA-XXXXXX-Y' },
    endpoint: { required: false, secret: false, description: 'Override of the collect URL (tests)' },
  },
  sunset:
    'Google stopped processing Universal Analytics hits on 1 July 2023 (360 properties: 1 July 2024); move to ga4. It has no EU endpoint: it needs region: any.',
};

/** `v=1&tid&cid&t=pageview|event` with `dl`, `dt`, `dr`, `ul` from the privacy view; never `uip`. */
export default function ua(manager: Manager, settings: ComponentSettings): void {
  const url =
    typeof settings.endpoint === 'string' ? settings.endpoint : 'https://www.google-analytics.com/collect';
  const send = async (event: MCEvent, extra: Record<string, string>) => {
    const { client } = event;
    const params = new URLSearchParams({
      v: '1',
      tid: String(settings.trackingId),
      cid: client.get('client_id') ?? '0',
      dl: client.url.toString(),
      ...(client.title ? { dt: client.title } : {}),
      ...(client.referer ? { dr: client.referer } : {}),
      ...(client.language ? { ul: client.language.toLowerCase() } : {}),
      ...(client.userAgent ? { ua: client.userAgent } : {}),
      aip: '1',
      ...extra,
    });
    await manager.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    });
  };
  manager.addEventListener('pageview', (event) => send(event, { t: 'pageview' }));
  manager.addEventListener('event', (event) =>
    send(event, { t: 'event', ec: 'event', ea: (event.name ?? 'event').slice(0, 500) }),
  );
  manager.addEventListener('ecommerce', (event) =>
    send(event, { t: 'event', ec: 'ecommerce', ea: (event.name ?? 'ecommerce').slice(0, 500) }),
  );
}
