import type { ComponentSettings, MCEvent, Manager } from '@managed-components/types';
import type { Manifest } from '../manifest.js';

/** Matomo HTTP Tracking API, to your own Matomo (the French default; host from `url`). */
export const manifest: Manifest = {
  name: 'matomo',
  description: 'Matomo HTTP Tracking API (no cip, reduced ua, hashed visitor id)',
  permissions: ['server_network_requests', 'access_client_kv'],
  hosts: [],
  settings: {
    url: { required: true, secret: false, description: 'https://matomo.example.fr/matomo.php' },
    siteId: { required: true, secret: false, description: 'idsite of the site in Matomo' },
  },
};

/**
 * One form POST per event: `idsite`, `rec=1`, `apiv=1`, `url` and `urlref` after the policy,
 * `action_name` (title), `_id` (16 hex: the tool's client id), `ua` (reduced), `lang`, `rand`,
 * `send_image=0`; custom events as `e_c=event&e_a=<name>`, e-commerce as `e_c=ecommerce`. Never
 * `cip` or `token_auth` (the visitor IP stays with the gateway).
 */
export default function matomo(manager: Manager, settings: ComponentSettings): void {
  const url = String(settings.url);
  const send = async (event: MCEvent, extra: Record<string, string>) => {
    const { client } = event;
    const params = new URLSearchParams({
      idsite: String(settings.siteId),
      rec: '1',
      apiv: '1',
      send_image: '0',
      rand: String(Math.floor(Math.random() * 1e9)),
      url: client.url.toString(),
      _id: (client.get('client_id') ?? '').slice(0, 16).padStart(16, '0'),
      ...(client.title ? { action_name: client.title } : {}),
      ...(client.referer ? { urlref: client.referer } : {}),
      ...(client.userAgent ? { ua: client.userAgent } : {}),
      ...(client.language ? { lang: client.language } : {}),
      ...extra,
    });
    await manager.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    });
  };
  manager.addEventListener('pageview', (event) => send(event, {}));
  manager.addEventListener('event', (event) =>
    send(event, { e_c: 'event', e_a: (event.name ?? 'event').slice(0, 200) }),
  );
  manager.addEventListener('ecommerce', (event) =>
    send(event, { e_c: 'ecommerce', e_a: (event.name ?? 'ecommerce').slice(0, 200) }),
  );
}
