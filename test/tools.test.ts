import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import type { Manager } from '@managed-components/types';
import { hashToken } from '../src/api/auth.js';
import type { ComponentModule } from '../src/tools/runtime.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import {
  acceptedEvents,
  eventsIn,
  startFakeGa4,
  startFakeMatomo,
  startFakeMeta,
  startFakeUa,
  startWebhookReceiver,
  type FakeVendor,
} from './fake-vendors.js';
import { pageview, tempDir } from './helpers.js';

// The leak test of docs/privacy.md, over the vendors: a page URL with utm_source and an e-mail, an
// external referrer with a path, a distinctive UA, IP 203.0.113.77, an event carrying a phone
// number and an IBAN — and every byte each fake vendor receives is checked.
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.127 Safari/537.36 Distinctive/9.9';
const SECRETS = [
  '203.0.113.77',
  '203.0.113',
  'jane.doe',
  'utm_source',
  'news.example.org/article',
  '6478.127',
  'Distinctive',
  '06 12 34 56 78',
  '0612345678',
  'FR76 3000 6000 0112 3456 7890 189',
  'FR7630006000011234567890189',
];
const HOOK_SECRET = 'whsec-test-1234567890';
const TOKEN = 'bls_test_token_for_egress_1234567890';

let temp: ReturnType<typeof tempDir>;
let ga4: FakeVendor;
let hook: FakeVendor;
let meta: Awaited<ReturnType<typeof startFakeMeta>>;
let matomo: FakeVendor;
let ua: FakeVendor;
let gateway: Gateway;

function config(dir: string, extra: Partial<ConfigInput> = {}) {
  return parseConfig(
    {
      server: { node: 'test-node', trustedProxies: ['127.0.0.1'] },
      store: { kind: 'duckdb', path: join(dir, 'balise.duckdb'), flushMs: 50 },
      outbox: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 5, timeoutMs: 2000 },
      admin: { tokens: [hashToken(TOKEN)] },
      sites: [
        {
          host: 'www.example.fr',
          aliases: ['example.fr'],
          consent: { purposes: ['analytics', 'marketing'] },
          tools: [
            {
              id: 'ga4',
              component: 'ga4',
              purpose: 'analytics',
              allowHosts: ['127.0.0.1'],
              settings: {
                measurementId: 'G-TEST1234',
                mode: 'mp',
                apiSecret: 'secret-abc',
                endpoint: `${ga4.url}/mp/collect`,
              },
            },
            {
              id: 'hook',
              component: 'webhook',
              allowHosts: ['127.0.0.1'],
              settings: { url: `${hook.url}/hook`, secret: HOOK_SECRET },
            },
            {
              id: 'meta',
              component: 'meta',
              purpose: 'marketing',
              region: 'any',
              allowHosts: ['127.0.0.1'],
              settings: {
                pixelId: '1234567890',
                accessToken: 'EAAtoken',
                endpoint: meta.url,
                testEventCode: 'TEST123',
              },
            },
            {
              id: 'matomo',
              component: 'matomo',
              allowHosts: ['127.0.0.1'],
              settings: { url: `${matomo.url}/matomo.php`, siteId: 3 },
            },
            { id: 'pinger', component: 'pinger' },
            {
              id: 'ua',
              component: 'ua',
              region: 'any',
              allowHosts: ['127.0.0.1'],
              settings: { trackingId: 'UA-12345-1', endpoint: `${ua.url}/collect` },
            },
          ],
        },
      ],
      ...extra,
    },
    { env: {} },
  );
}

async function send(events: Record<string, unknown>[], cookie?: string) {
  return gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: {
      host: 'www.example.fr',
      'content-type': 'application/json',
      'user-agent': UA,
      'x-forwarded-for': '203.0.113.77',
      ...(cookie ? { cookie } : {}),
    },
    payload: { events },
  });
}

beforeAll(async () => {
  temp = tempDir('balise-tools-');
  ga4 = await startFakeGa4();
  hook = await startWebhookReceiver(HOOK_SECRET);
  meta = await startFakeMeta();
  matomo = await startFakeMatomo();
  ua = await startFakeUa();
  const pinger: ComponentModule = {
    manifest: { name: 'pinger', permissions: ['provide_server_functionality'] },
    default: (manager: Manager) => {
      manager.route(
        '/ping',
        (request: Request) => new Response(`pong:${new URL(request.url).searchParams.get('x')}`),
      );
      manager.route('/boom', () => {
        throw new Error('boom');
      });
    },
  };
  gateway = await createGateway(config(temp.dir), {
    logError: (line) => console.error(line),
    components: { pinger },
  });
});

afterAll(async () => {
  await gateway.close();
  await ga4.close();
  await hook.close();
  await meta.close();
  await matomo.close();
  await ua.close();
  temp.cleanup();
});

describe('tools: GA4 and a webhook behind the gateway', () => {
  it('delivers every event to each vendor, valid and with nothing personal in it', async () => {
    const consent = `balise_consent=${encodeURIComponent(JSON.stringify({ analytics: true, marketing: true }))}`;
    const response = await send(
      [
        pageview(),
        {
          ...pageview(),
          eventType: 'track',
          name: 'contact form',
          payload: { phone: '06 12 34 56 78', iban: 'FR76 3000 6000 0112 3456 7890 189', plan: 'pro' },
        },
      ],
      consent,
    );
    expect(response.statusCode).toBe(204);
    expect(await gateway.outbox.idle()).toBe(true);
    // GA4, Meta and the webhook take batches: the two events of one visitor travel together.
    expect(ga4.received.map((r) => r.status)).toEqual([204]);
    expect(acceptedEvents(ga4)).toHaveLength(2);
    expect(hook.received.map((r) => r.status)).toEqual([200]);
    expect(acceptedEvents(hook)).toHaveLength(2);
    expect(meta.received.map((r) => r.status)).toEqual([200]);
    expect(meta.eventIds()).toHaveLength(2);
    expect(matomo.received.map((r) => r.status)).toEqual([204, 204]);
    expect(ua.received.map((r) => r.status)).toEqual([200, 200]);
    for (const vendor of [ga4, hook, meta, matomo, ua])
      for (const secret of SECRETS) expect(vendor.dump(), secret).not.toContain(secret);
    const request = JSON.parse(ga4.received[0]!.body) as {
      client_id: string;
      events: { name: string; timestamp_micros: number; params: Record<string, string> }[];
    };
    expect(request.client_id).toMatch(/^[0-9a-f]{16}$/);
    const pageView = request.events.find((e) => e.name === 'page_view')!;
    expect(pageView.params.page_location).toBe('https://www.example.fr/articles/1');
    expect(pageView.params.page_referrer).toBeUndefined();
    expect(Number.isInteger(pageView.timestamp_micros)).toBe(true);
    const tracked = (acceptedEvents(hook) as Record<string, unknown>[]).find(
      (e) => e.name === 'contact form',
    )!;
    expect(tracked).toMatchObject({
      type: 'event',
      name: 'contact form',
      page: { url: 'https://www.example.fr/articles/1', referrer: null },
      visitor: { ip: null, language: 'fr-FR' },
      properties: { phone: '[redacted:phone]', iban: '[redacted:iban]', plan: 'pro' },
    });
    expect((tracked.visitor as { userAgent: string }).userAgent).toBe(
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    );
  });

  it('records every request that left in the egress log: host, path, size, digest, policy', async () => {
    await gateway.egressLog.flush();
    const rows = await gateway.store.query<Record<string, unknown>>(
      "SELECT tool, host, path, bytes, sha256, policy, outcome, status, deliveries FROM egress WHERE outcome = 'sent' ORDER BY tool, sha256",
    );
    // One row per request that left; a batch counts its deliveries (2 events × 5 tools).
    const requests = [ga4, hook, meta, matomo, ua].reduce((n, vendor) => n + vendor.received.length, 0);
    expect(rows).toHaveLength(requests);
    expect(rows.reduce((n, row) => n + Number(row.deliveries), 0)).toBe(10);
    const digests = (vendor: FakeVendor) =>
      vendor.received.map((r) => createHash('sha256').update(r.body).digest('hex')).sort();
    expect(rows.filter((r) => r.tool === 'ga4').map((r) => r.sha256)).toEqual(digests(ga4));
    expect(rows.filter((r) => r.tool === 'hook').map((r) => r.sha256)).toEqual(digests(hook));
    expect(rows[0]).toMatchObject({
      tool: 'ga4',
      host: ga4.url.slice(7),
      path: '/mp/collect',
      outcome: 'sent',
      status: 204,
      deliveries: 2,
    });
    expect(String(rows[0]!.policy)).toBe(
      'ga4 region=eu query=strip ip=hide ua=reduce referrer=strip-external clientId=hashed dlp=mask',
    );
    expect(JSON.stringify(rows)).not.toContain('secret-abc');
  });

  it('serves the routes components register, isolated and without cookies or scripts', async () => {
    const ok = await gateway.app.inject({ method: 'GET', url: '/balise/mc/www.example.fr/pinger/ping?x=1' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('pong:1');
    expect(ok.headers['content-security-policy']).toBe("default-src 'none'");
    const boom = await gateway.app.inject({ method: 'GET', url: '/balise/mc/www.example.fr/pinger/boom' });
    expect(boom.statusCode).toBe(502);
    expect(boom.json()).toMatchObject({ error: { code: 'tool_failed' } });
    const missing = await gateway.app.inject({ method: 'GET', url: '/balise/mc/www.example.fr/pinger/nope' });
    expect(missing.statusCode).toBe(404);
  });

  it('answers the egress log over the API, with a token only', async () => {
    const refused = await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/egress' });
    expect(refused.statusCode).toBe(401);
    const response = await gateway.app.inject({
      method: 'GET',
      url: '/balise/api/v1/egress?tool=hook&outcome=sent&since=1h',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.statusCode).toBe(200);
    const { records } = response.json<{ records: Record<string, unknown>[] }>();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      tool: 'hook',
      path: '/hook',
      outcome: 'sent',
      status: 200,
      deliveries: 2,
    });
    const metrics = await gateway.app.inject({
      method: 'GET',
      url: '/balise/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(metrics.body).toContain('balise_tool_deliveries_total{site="www.example.fr",tool="ga4"} 2');
    expect(metrics.body).toContain('balise_outbox_pending 0');
    const bad = await gateway.app.inject({
      method: 'GET',
      url: '/balise/api/v1/egress?since=forever',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_query', path: 'since' } });
  });

  it('routes nothing to a tool whose purpose has no consent (consent_denied), the others still get it', async () => {
    const before = { ga4: acceptedEvents(ga4).length, hook: acceptedEvents(hook).length };
    const denied = `balise_consent=${encodeURIComponent(JSON.stringify({ analytics: false }))}`;
    expect((await send([pageview()], denied)).statusCode).toBe(204);
    expect((await send([pageview()])).statusCode).toBe(204);
    expect(await gateway.outbox.idle()).toBe(true);
    expect(acceptedEvents(ga4)).toHaveLength(before.ga4);
    expect(acceptedEvents(hook)).toHaveLength(before.hook + 2);
    expect(gateway.tools.stats()['www.example.fr/ga4']!.consentDenied).toBe(2);
    // Consent in the event itself.
    expect((await send([{ ...pageview(), consent: { analytics: true } }])).statusCode).toBe(204);
    expect(await gateway.outbox.idle()).toBe(true);
    expect(acceptedEvents(ga4)).toHaveLength(before.ga4 + 1);
  });

  it('retries a vendor outage with backoff and delivers once it recovers; a 4xx becomes a dead letter with its message', async () => {
    const before = hook.received.length;
    hook.failNext(2, 503);
    expect((await send([pageview()])).statusCode).toBe(204);
    expect(await gateway.outbox.idle()).toBe(true);
    expect(hook.received.slice(before).map((r) => r.status)).toEqual([503, 503, 200]);
    const ids = hook.received
      .slice(before)
      .flatMap((r) => eventsIn(r) as { id: string }[])
      .map((e) => e.id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);

    hook.failNext(1, 422);
    expect((await send([pageview()])).statusCode).toBe(204);
    expect(await gateway.outbox.idle()).toBe(true);
    const dead = gateway.outbox.deadLetters();
    expect(dead).toHaveLength(1);
    // A webhook's answer is not quoted (its URL may come from the settings API: quoting answers
    // would let it read internal services); the status is kept.
    expect(dead[0]).toMatchObject({ status: 422, message: 'HTTP 422' });
    expect(await gateway.outbox.replay({ tool: 'hook' })).toBe(1);
    expect(await gateway.outbox.idle()).toBe(true);
    expect(gateway.outbox.deadLetters()).toHaveLength(0);
    expect(hook.received.at(-1)!.status).toBe(200);
  });
});
