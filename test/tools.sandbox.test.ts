import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/api/auth.js';
import { parseConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';

type SiteInput = ConfigInput['sites'][number];
import { createGateway, type Gateway } from '../src/gateway.js';
import { fakeVendor, gCollectProblems, startFakeGa4, type FakeVendor } from './fake-vendors.js';
import { startFakePinterest } from './fake-vendors-mc.js';
import { pageview, tempDir, until } from './helpers.js';

// Components that are not the gateway's own code run in a worker thread, in a vm context holding
// only the facade their granted permissions allow. These tests load bundles shaped like
// Cloudflare's published components (test/components/, our own code) into a real gateway, send
// real events, and read what fake vendors on real sockets receive.
const COMPONENTS = fileURLToPath(new URL('./components/', import.meta.url));
const TOKEN = 'bls_test_token_for_sandbox_1234567890';
const PIN_TOKEN = 'pina_test_token_1234567890';
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.127 Safari/537.36 Distinctive/9.9';

let temp: ReturnType<typeof tempDir>;
let ga4: FakeVendor;
let pinterest: FakeVendor;
let probe: FakeVendor;
let gateway: Gateway;
let config: ReturnType<typeof gatewayConfig>;
const warnings: string[] = [];

function site(tools: SiteInput['tools']): SiteInput {
  return { host: 'www.example.fr', consent: { purposes: [] }, tools };
}

function gatewayConfig(dir: string, tools: SiteInput['tools']) {
  return parseConfig(
    {
      server: { node: 'test-node', trustedProxies: ['127.0.0.1'] },
      store: { kind: 'duckdb', path: join(dir, 'balise.duckdb'), flushMs: 50 },
      outbox: {
        baseDelayMs: 20,
        maxDelayMs: 200,
        maxAttempts: 3,
        timeoutMs: 2000,
        allowHosts: ['127.0.0.1'],
      },
      admin: { tokens: [hashToken(TOKEN)] },
      sites: [site(tools)],
    },
    { env: {} },
  );
}

async function send(events: Record<string, unknown>[]) {
  return gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: {
      host: 'www.example.fr',
      'content-type': 'application/json',
      'user-agent': UA,
      'x-forwarded-for': '203.0.113.77',
    },
    payload: { events },
  });
}

const event = (name: string, payload: Record<string, unknown> = {}) => ({
  ...pageview(),
  eventType: 'track',
  name,
  payload,
});

beforeAll(async () => {
  temp = tempDir('balise-sandbox-');
  ga4 = await startFakeGa4();
  pinterest = await startFakePinterest(PIN_TOKEN);
  probe = await fakeVendor(() => ({ status: 200, answer: { ok: true } }));
  config = gatewayConfig(temp.dir, [
    {
      id: 'ga4like',
      component: join(COMPONENTS, './ga4-like/dist/index.js'),
      settings: { tid: 'G-TEST1234', endpoint: `${ga4.url}/g/collect` },
    },
    {
      id: 'pin',
      component: join(COMPONENTS, './pinterest-like'),
      region: 'any',
      settings: { accessToken: PIN_TOKEN, adAccountId: '549755885175', endpoint: pinterest.url },
    },
    { id: 'probe', component: join(COMPONENTS, './faulty/probe.mjs'), settings: { endpoint: probe.url } },
    {
      id: 'faults',
      component: join(COMPONENTS, './faulty/faults.mjs'),
      settings: { endpoint: probe.url, faults: ['loop'] },
    },
    {
      id: 'hog',
      component: join(COMPONENTS, './faulty/faults.mjs'),
      memoryMb: 32,
      settings: { endpoint: probe.url, faults: ['hog'] },
    },
  ]);
  gateway = await createGateway(config, { logError: (line) => warnings.push(line) });
});

afterAll(async () => {
  await gateway.close();
  await Promise.all([ga4.close(), pinterest.close(), probe.close()]);
  temp.cleanup();
});

describe('Cloudflare-shaped components, as they are', () => {
  it('loads an ESM bundle and a CommonJS one (default.default) with their manifest.json, and delivers valid requests', async () => {
    const response = await send([
      pageview({ location: 'https://www.example.fr/shop?email=jane.doe@example.org&utm_source=x' }),
      event('signup', { plan: 'pro' }),
    ]);
    expect(response.statusCode).toBeLessThan(300);
    await until(() => ga4.received.length >= 2 && pinterest.received.length >= 2, 'both vendors');
    for (const hit of ga4.received) {
      expect(hit.status).toBe(204);
      expect(gCollectProblems(new URL(hit.url, 'http://x'))).toEqual([]);
    }
    expect(pinterest.received.map((r) => r.status)).toEqual([200, 200]);
    const names = pinterest.received.map(
      (r) => (JSON.parse(r.body) as { data: { event_name: string }[] }).data[0]!.event_name,
    );
    expect(names.sort()).toEqual(['custom', 'page_visit']);
    // The privacy view reached them: no IP, no query, no raw User-Agent.
    for (const dump of [ga4.dump(), pinterest.dump()])
      for (const secret of ['203.0.113', 'jane.doe', 'utm_source', 'Distinctive', '6478.127'])
        expect(dump).not.toContain(secret);
  });

  it('reads what the script did not send (title, viewport, time zone) as undefined, never as an error', async () => {
    const before = ga4.received.length;
    const bare = { eventType: 'pageview', location: 'https://www.example.fr/bare' };
    expect((await send([bare])).statusCode).toBeLessThan(300);
    await until(() => ga4.received.length > before, 'the bare pageview');
    const hit = new URL(ga4.received.at(-1)!.url, 'http://x');
    expect(hit.searchParams.get('dl')).toBe('https://www.example.fr/bare');
    expect(hit.searchParams.get('dt')).toBe('');
  });

  it('never lets an event choose a setting: accessToken, conversionId and __setting_endpoint from the page are dropped', async () => {
    const before = pinterest.received.length;
    const response = await send([
      event('buy', {
        accessToken: 'attacker-token',
        conversionId: '1',
        __setting_endpoint: 'https://evil.example',
      }),
    ]);
    expect(response.statusCode).toBeLessThan(300);
    await until(() => pinterest.received.length > before, 'pinterest');
    const last = pinterest.received.at(-1)!;
    expect(last.status).toBe(200);
    expect(last.headers.authorization).toBe(`Bearer ${PIN_TOKEN}`);
    expect(last.url).toBe('/v5/ad_accounts/549755885175/events');
    expect(gateway.tools.stats()['www.example.fr/pin']!.overridesDropped).toBeGreaterThanOrEqual(3);
  });
});

describe('the sandbox', () => {
  it('gives top-level code no capability, and a started component only what it was granted', async () => {
    await until(() => probe.received.some((r) => r.url === '/probe'), 'the probe');
    const seen = JSON.parse(probe.received.find((r) => r.url === '/probe')!.body) as Record<string, string>;
    expect(seen.process).toBe('undefined');
    expect(seen.globalProcess).toBe('undefined');
    expect(seen.Buffer).toBe('undefined');
    expect(seen.require).toMatch(/refused: the component requires node:fs/);
    expect(seen.topLevelFetch).toMatch(/refused: fetch before the component started/);
    const response = await send([event('probe-me')]);
    // client.return reaches the browser; manager.fetch answered a real Response.
    expect(response.statusCode).toBe(200);
    expect(response.json<{ return: Record<string, unknown> }>().return.probe).toEqual({ status: 202 });
    await until(() => probe.received.some((r) => r.url === '/event'), 'the probe event');
    const report = JSON.parse(probe.received.find((r) => r.url === '/event')!.body) as Record<
      string,
      unknown
    >;
    expect(report.kv).toMatch(/client\.set needs the access_client_kv permission/);
    expect(report.unknown).toMatch(/manager\.ext is not offered by Balise/);
    expect(report).toMatchObject({ status: 202, ok: true, queued: { queued: true } });
  });

  it('contains throws, timer errors, rejections nobody awaited and hangs; the tool goes on', async () => {
    const stats = () => gateway.tools.stats()['www.example.fr/faults']!;
    // An ecommerce event without its ecommerce object: the component's own un-awaited work fails.
    const ecommerce = {
      ...pageview(),
      eventType: 'ecommerce',
      name: 'Order Completed',
      payload: { total: 3 },
    };
    for (const sent of [event('throw'), event('timer'), ecommerce]) {
      const errors = stats().errors;
      expect((await send([sent])).statusCode).toBeLessThan(300);
      await until(() => stats().errors === errors + 1, `the fault of ${String(sent.name)} counted`);
    }
    const timeouts = stats().timeouts;
    expect((await send([event('hang')])).statusCode).toBeLessThan(300);
    expect(stats().timeouts).toBe(timeouts + 1);
    expect(stats().disabled).toBeNull();
    const delivered = probe.received.filter((r) => r.url === '/ok').length;
    await send([event('still-here')]);
    await until(
      () => probe.received.filter((r) => r.url === '/ok').length > delivered,
      'delivery after faults',
    );
  });

  it('lets a reload finish the events a sandbox is running before it stops it', async () => {
    const sending = send([event('slow')]);
    await new Promise((r) => setTimeout(r, 50));
    const apply = await gateway.tools.prepare(config);
    apply();
    expect((await sending).statusCode).toBeLessThan(300);
    await until(() => probe.received.some((r) => r.url === '/slow'), 'the slow event’s delivery');
  });

  it('stops a component that loops or runs out of memory, and no other tool notices', async () => {
    const looping = await send([event('loop')]);
    expect(looping.statusCode).toBeLessThan(300);
    expect(gateway.tools.stats()['www.example.fr/faults']!.disabled).toMatch(/did not answer within/);
    const hogged = await send([event('hog')]);
    expect(hogged.statusCode).toBeLessThan(300);
    await until(
      () => gateway.tools.stats()['www.example.fr/hog']!.disabled !== null,
      'the hog stopped',
      15000,
    );
    expect(gateway.tools.stats()['www.example.fr/hog']!.disabled).toBe('ran out of its 32 MB of memory');
    const metrics = await gateway.app.inject({
      method: 'GET',
      url: '/balise/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(metrics.body).toMatch(
      /balise_tool_disabled\{site="www\.example\.fr",tool="faults",reason="did not answer[^"]*"\} 1/,
    );
    expect(metrics.body).toMatch(/balise_tool_disabled\{site="www\.example\.fr",tool="ga4like"\} 0/);
    // healthz names the kind; the settings the dashboard reads say which tool and why.
    const health = await gateway.app.inject({ method: 'GET', url: '/balise/healthz' });
    expect(health.json<{ status: string; problems: string[] }>()).toMatchObject({
      status: 'ok',
      problems: ['tool_disabled'],
    });
    const settings = await gateway.app.inject({
      method: 'GET',
      url: '/balise/api/v1/settings',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const status = settings.json<{
      toolStatus: Record<string, { disabled: string | null; events: number }>;
    }>().toolStatus;
    expect(status['www.example.fr/hog']!.disabled).toBe('ran out of its 32 MB of memory');
    expect(status['www.example.fr/ga4like']).toMatchObject({ disabled: null });
    expect(status['www.example.fr/ga4like']!.events).toBeGreaterThan(0);
    // The gateway and the other tools go on.
    const hits = ga4.received.length;
    expect((await send([pageview({ location: 'https://www.example.fr/after' })])).statusCode).toBeLessThan(
      300,
    );
    await until(() => ga4.received.length > hits, 'ga4 after the faults');
    expect(warnings.some((line) => line.includes('tool www.example.fr/faults disabled'))).toBe(true);
  });
});
