import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { startWebhookReceiver, type FakeVendor } from './fake-vendors.js';
import {
  startFakeAmplitude,
  startFakeMixpanel,
  startFakeSnowplow,
  startFakeTikTok,
} from './fake-vendors-mc.js';
import { pageview, tempDir, until } from './helpers.js';

// Zaraz's model of which events reach which tool: site triggers (match rules), each tool's
// actions (trigger → event type, mapped and fixed fields) and blocking triggers — over a real
// gateway, with components shaped like published ones and fake vendors checking each protocol.
const COMPONENTS = fileURLToPath(new URL('./components/', import.meta.url));
const HOOK_SECRET = 'whsec-actions-1234567890';
const MIX_TOKEN = 'mixpanel-project-token';
const TT_TOKEN = 'tiktok-access-token';
const AMP_KEY = 'amplitude-api-key';

let temp: ReturnType<typeof tempDir>;
let hook: FakeVendor;
let mixpanel: FakeVendor;
let tiktok: FakeVendor;
let amplitude: FakeVendor;
let snowplow: FakeVendor;
let gateway: Gateway;
const warnings: string[] = [];

async function send(events: Record<string, unknown>[]) {
  const response = await gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: {
      host: 'www.example.fr',
      'content-type': 'application/json',
      'x-forwarded-for': '203.0.113.77',
    },
    payload: { events },
  });
  expect(response.statusCode).toBeLessThan(300);
  return response;
}

const track = (name: string, payload: Record<string, unknown> = {}) => ({
  ...pageview(),
  eventType: 'track',
  name,
  payload,
});
const bodies = (vendor: FakeVendor) =>
  vendor.received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
const stats = (tool: string) => gateway.tools.stats()[`www.example.fr/${tool}`]!;

beforeAll(async () => {
  temp = tempDir('balise-actions-');
  hook = await startWebhookReceiver(HOOK_SECRET);
  mixpanel = await startFakeMixpanel(MIX_TOKEN);
  tiktok = await startFakeTikTok(TT_TOKEN);
  amplitude = await startFakeAmplitude(AMP_KEY);
  snowplow = await startFakeSnowplow();
  const component = (name: string) => join(COMPONENTS, name);
  const config = parseConfig(
    {
      server: { node: 'test-node', trustedProxies: ['127.0.0.1'] },
      store: { kind: 'duckdb', path: join(temp.dir, 'balise.duckdb'), flushMs: 50 },
      outbox: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 3, allowHosts: ['127.0.0.1'] },
      sites: [
        {
          host: 'www.example.fr',
          triggers: [
            { id: 'signups', match: { type: 'track', name: 'signup' } },
            { id: 'pro', match: { type: 'track', props: { plan: 'pro*' } } },
            { id: 'pageviews', match: { type: 'pageview' } },
            { id: 'tests', match: { props: { test: true } } },
          ],
          tools: [
            {
              id: 'hook',
              component: 'webhook',
              settings: { url: `${hook.url}/hook`, secret: HOOK_SECRET },
              actions: [
                {
                  trigger: 'signups',
                  map: { plan_name: 'plan', page: '$path' },
                  fields: { source: 'balise' },
                },
              ],
              blockingTriggers: ['tests'],
            },
            {
              id: 'mix',
              component: component('mixpanel-like/index.mjs'),
              permissions: ['server_network_requests'],
              actions: [{ trigger: 'signups', fields: { token: MIX_TOKEN, endpoint: mixpanel.url } }],
            },
            {
              id: 'mix-denied',
              component: component('mixpanel-like/index.mjs'),
              actions: [{ trigger: 'signups', fields: { token: MIX_TOKEN, endpoint: mixpanel.url } }],
            },
            {
              id: 'tt',
              component: component('tiktok-like/index.mjs'),
              permissions: ['server_network_requests', 'access_client_kv'],
              settings: { endpoint: tiktok.url, accessToken: TT_TOKEN, pixelCode: 'C4PIXEL' },
              actions: [
                {
                  trigger: 'pro',
                  event: 'ViewContent',
                  map: { value: 'price' },
                  fields: { currency: 'EUR' },
                },
                { trigger: 'pageviews' },
              ],
            },
            {
              id: 'tt-undeclared',
              component: component('tiktok-like/index.mjs'),
              settings: { endpoint: tiktok.url, accessToken: TT_TOKEN, pixelCode: 'C4PIXEL' },
            },
            {
              id: 'amp',
              component: component('amplitude-like/index.mjs'),
              settings: { endpoint: amplitude.url, apiKey: AMP_KEY },
            },
            {
              id: 'snow',
              component: component('snowplow-like/index.mjs'),
              settings: { endpoint: snowplow.url, appId: 'shop' },
            },
          ],
        },
      ],
    },
    { env: {} },
  );
  gateway = await createGateway(config, { logError: (line) => warnings.push(line) });
});

afterAll(async () => {
  await gateway.close();
  await Promise.all([hook, mixpanel, tiktok, amplitude, snowplow].map((vendor) => vendor.close()));
  temp.cleanup();
});

describe('triggers and actions', () => {
  it('sends a tool only what its actions select, with mapped and fixed fields; blocking triggers win', async () => {
    await send([
      pageview({ location: 'https://www.example.fr/pricing' }),
      track('signup', { plan: 'pro-yearly', token: 'attacker', endpoint: 'https://evil.example' }),
      track('signup', { plan: 'free', test: true }),
      track('newsletter'),
    ]);
    await until(() => hook.received.length >= 1 && mixpanel.received.length >= 1, 'hook and mixpanel');
    await new Promise((r) => setTimeout(r, 300));
    // The webhook got the one signup not blocked, with its mapped and fixed fields.
    const events = bodies(hook).flatMap((b) => b.events as Record<string, unknown>[]);
    expect(events.map((e) => e.name)).toEqual(['signup']);
    expect(events[0]!.properties).toMatchObject({
      plan: 'pro-yearly',
      plan_name: 'pro-yearly',
      source: 'balise',
      page: '/articles/1',
    });
    // Mixpanel's settings came from the action's fields, never from the page.
    expect(mixpanel.received.every((r) => r.status === 200)).toBe(true);
    const mixed = bodies(mixpanel).flatMap((b) => b as unknown as Record<string, Record<string, unknown>>[]);
    expect(mixed.map((e) => [e.event, e.properties!.token])).toEqual([
      ['signup', MIX_TOKEN],
      ['signup', MIX_TOKEN],
    ]);
    expect(mixpanel.dump()).not.toContain('attacker');
    expect(stats('mix').overridesDropped).toBeGreaterThanOrEqual(2);
  });

  it('gives a component the event type its action names (ViewContent), with the mapped value', async () => {
    const before = tiktok.received.length;
    await send([track('view_item', { plan: 'pro', price: 49 })]);
    await until(() => tiktok.received.length > before, 'tiktok');
    const sent = bodies(tiktok)
      .slice(before)
      .flatMap((b) => b.data as Record<string, unknown>[]);
    const view = sent.find((e) => e.event === 'ViewContent')!;
    expect(view.properties).toEqual({ value: 49, currency: 'EUR' });
    const all = bodies(tiktok).flatMap((b) => b.data as Record<string, unknown>[]);
    expect(all.filter((e) => e.event === 'Pageview')).toHaveLength(1);
    expect(tiktok.received.every((r) => r.status === 200)).toBe(true);
  });
});

describe('published components’ habits', () => {
  it('refuses what a manifest under-declares unless the operator grants it, naming the permission', async () => {
    await until(
      () => stats('mix-denied').permissionDenied > 0 && stats('tt-undeclared').permissionDenied > 0,
      'refusals',
    );
    expect(
      warnings.some((w) =>
        /tools\[mix\]: granted server_network_requests, which the manifest of mixpanel-like does not declare/.test(
          w,
        ),
      ),
    ).toBe(true);
    expect(
      warnings.some((w) => /tt-undeclared: client\.get needs the access_client_kv permission/.test(w)),
    ).toBe(true);
    expect(
      warnings.some((w) => /mix-denied: fetch needs the server_network_requests permission/.test(w)),
    ).toBe(true);
  });

  it('delivers requests started without awaiting them, ecommerce without its ecommerce object included', async () => {
    const before = amplitude.received.length;
    await send([{ ...pageview(), eventType: 'ecommerce', name: 'Order Completed', payload: { total: 10 } }]);
    await until(() => amplitude.received.length > before, 'amplitude');
    expect(amplitude.received.every((r) => r.status === 200)).toBe(true);
    expect(bodies(amplitude).map((b) => (b.events as { event_type: string }[])[0]!.event_type)).toContain(
      'Order Completed',
    );
  });

  it('offers the rarer APIs: createEventListener, attachEvent, registerEmbed, useCache, get/set, time zone and viewport', async () => {
    const before = snowplow.received.length;
    await send([
      pageview({
        location: 'https://www.example.fr/rare',
        offset: -60,
        viewportWidth: 1280,
        viewportHeight: 720,
      }),
    ]);
    await until(() => snowplow.received.length > before, 'snowplow');
    const hit = bodies(snowplow)
      .flatMap((b) => b.data as Record<string, unknown>[])
      .find((e) => e.url === 'https://www.example.fr/rare')!;
    expect(hit).toMatchObject({
      e: 'pv',
      tv: 'js-3.0.0',
      tz_offset: '-60',
      vp: '1280x720',
      started: 'number',
    });
    expect(snowplow.received.every((r) => r.status === 200)).toBe(true);
    expect(stats('snow').errors).toBe(0);
  });
});
