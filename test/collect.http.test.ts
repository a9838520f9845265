import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import { CHROME_UA, pageview, readEvents, startGateway, tempDir } from './helpers.js';

let gateway: Gateway;
let temp: ReturnType<typeof tempDir>;

const headers = { host: 'www.example.fr', 'content-type': 'application/json', 'user-agent': CHROME_UA };

function post(body: unknown, extra: Record<string, string> = {}, remoteAddress = '203.0.113.77') {
  return gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { ...headers, ...extra },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    remoteAddress,
  });
}

/** The error body of a response, typed. */
function errorOf(response: { json: () => unknown }): { code: string; message: string; path?: string } {
  return (response.json() as { error: { code: string; message: string; path?: string } }).error;
}

async function stored(): Promise<Record<string, unknown>[]> {
  await gateway.close();
  return readEvents(temp.dir);
}

beforeEach(async () => {
  temp = tempDir();
  gateway = await startGateway(temp.dir);
});

afterEach(async () => {
  await gateway.close();
  temp.cleanup();
});

describe('POST /balise/e', () => {
  it('answers 204 and stores a privacy-clean row for a valid pageview', async () => {
    const response = await post(pageview());
    expect(response.statusCode).toBe(204);
    const rows = await stored();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      site: 'www.example.fr',
      type: 'pageview',
      path: '/articles/1',
      title: 'Article 1',
      referrer_host: 'news.example.org',
      referrer_class: 'news',
      device_type: 'desktop',
      browser: 'Chrome',
      os: 'Windows',
      is_bot: false,
      node: 'test-node',
      source: 'browser',
    });
    expect(String(row.visitor_hash)).toMatch(/^\d+$/);
    // The values, not the column names (`utm_source` is one): the campaign is kept on purpose, in
    // its column; no other part of the query string is.
    expect(row.utm_source).toBe('x');
    const all = JSON.stringify(Object.values(row));
    for (const leak of [
      '203.0.113.77',
      'utm_source',
      'email',
      'jane.doe',
      'article?id',
      '124.0.6367',
      CHROME_UA,
    ]) {
      expect(all).not.toContain(leak);
    }
  });

  it('accepts text/plain bodies as sent by navigator.sendBeacon', async () => {
    const response = await post(pageview(), { 'content-type': 'text/plain;charset=UTF-8' });
    expect(response.statusCode).toBe(204);
    expect(await stored()).toHaveLength(1);
  });

  it('accepts a batch of events and stores track and ecommerce events with their names', async () => {
    const response = await post({
      events: [
        pageview(),
        pageview({
          eventType: 'track',
          name: 'signup',
          payload: { plan: 'pro', next: 'https://x.example/a?token=1' },
        }),
        pageview({
          eventType: 'ecommerce',
          name: 'Order Completed',
          payload: { total: 9.99, products: [{ sku: 'A' }] },
        }),
      ],
    });
    expect(response.statusCode).toBe(204);
    const rows = await stored();
    expect(rows.map((r) => [r.type, r.name]).sort()).toEqual([
      ['ecommerce', 'Order Completed'],
      ['event', 'signup'],
      ['pageview', null],
    ]);
    const track = rows.find((r) => r.type === 'event')!;
    expect(JSON.parse(String(track.props))).toEqual({ plan: 'pro', next: 'https://x.example/a' });
  });

  it('answers 400 invalid_json for a body that is not JSON, and stores nothing', async () => {
    const response = await post('{"eventType":');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: 'invalid_json', message: 'body is not valid JSON (or uses __proto__/constructor keys)' },
    });
    expect(await stored()).toHaveLength(0);
  });

  it('answers 400 invalid_json for __proto__ and constructor keys (prototype poisoning)', async () => {
    for (const body of [
      '{"__proto__":{"x":1},"eventType":"pageview"}',
      '{"constructor":{"prototype":{"x":1}}}',
    ]) {
      const response = await post(body);
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe('invalid_json');
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('answers 400 invalid_encoding for invalid UTF-8', async () => {
    const response = await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('invalid_encoding');
  });

  it('answers 400 invalid_event with the failing path, and stores nothing of the batch', async () => {
    const response = await post({ events: [pageview(), pageview({ screenWidth: '1920' })] });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'invalid_event', path: 'events[1].screenWidth' });
    expect(await stored()).toHaveLength(0);
  });

  it.each([
    ['an unknown field', pageview({ extra: 1 })],
    ['an unknown eventType', pageview({ eventType: 'click' })],
    ['a track without name', pageview({ eventType: 'track' })],
    ['an unknown e-commerce event', pageview({ eventType: 'ecommerce', name: 'Bought Stuff' })],
    ['a javascript: location', pageview({ location: 'javascript:alert(1)' })],
    ['a number as a string', pageview({ timestamp: '1700000000000' })],
    [
      'nesting deeper than 4 levels',
      pageview({ eventType: 'track', name: 'x', payload: { a: { b: { c: { d: { e: 1 } } } } } }),
    ],
    [
      'an array of more than 50 items',
      pageview({ eventType: 'track', name: 'x', payload: { a: Array(51).fill(1) } }),
    ],
    [
      'a string longer than 1000 characters',
      pageview({ eventType: 'track', name: 'x', payload: { a: 'x'.repeat(1001) } }),
    ],
    ['an empty batch', { events: [] }],
  ])('answers 400 invalid_event for %s', async (_name, body) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('invalid_event');
  });

  it('answers 400 too_many_events above 50 events', async () => {
    const response = await post({ events: Array.from({ length: 51 }, () => pageview()) });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'too_many_events', path: 'events' });
  });

  it('answers 403 unknown_site for a Host and Origin of no configured site', async () => {
    const response = await post(pageview(), { host: 'evil.example', origin: 'https://evil.example' });
    expect(response.statusCode).toBe(403);
    expect(errorOf(response).code).toBe('unknown_site');
  });

  it('answers 403 origin_mismatch when the Origin is not the Host’s site', async () => {
    const response = await post(pageview(), { origin: 'https://evil.example' });
    expect(response.statusCode).toBe(403);
    expect(errorOf(response).code).toBe('origin_mismatch');
  });

  it('resolves the site from the Origin when the Host is a shared collector', async () => {
    const response = await post(pageview(), { host: 'collect.agency.example', origin: 'https://example.fr' });
    expect(response.statusCode).toBe(204);
    expect((await stored())[0]?.site).toBe('www.example.fr');
  });

  it('answers 413 body_too_large above 64 KB', async () => {
    const response = await post(JSON.stringify(pageview({ title: 'x'.repeat(70_000) })));
    expect(response.statusCode).toBe(413);
    expect(errorOf(response).code).toBe('body_too_large');
  });

  it('answers 415 unsupported_media_type for other content types', async () => {
    const response = await post('eventType=pageview', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(response.statusCode).toBe(415);
    expect(errorOf(response).code).toBe('unsupported_media_type');
  });

  it('answers 404 not_found with the error shape for unknown routes', async () => {
    const response = await gateway.app.inject({
      method: 'GET',
      url: '/balise/nope',
      headers: { host: 'www.example.fr' },
    });
    expect(response.statusCode).toBe(404);
    expect(errorOf(response).code).toBe('not_found');
  });
});

describe('limits', () => {
  it('answers 429 rate_limited with Retry-After once an IP exceeds its limit', async () => {
    await gateway.close();
    gateway = await startGateway(temp.dir, { server: { rateLimit: { perIpPerMinute: 3 } } });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await post(pageview())).statusCode);
    expect(codes).toEqual([204, 204, 204, 429]);
    const limited = await post(pageview());
    expect(errorOf(limited).code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await post(pageview(), {}, '198.51.100.9')).statusCode).toBe(204);
  });

  it('answers 503 overloaded with Retry-After when the store cannot keep up', async () => {
    await gateway.close();
    gateway = await startGateway(temp.dir, {
      store: { kind: 'duckdb', maxPendingRows: 1000, flushMs: 60_000, batchRows: 1_000_000 },
    });
    const batch = { events: Array.from({ length: 50 }, () => pageview()) };
    let last = 0;
    for (let i = 0; i < 25 && last !== 503; i++) last = (await post(batch)).statusCode;
    expect(last).toBe(503);
    const response = await post(batch);
    expect(errorOf(response).code).toBe('overloaded');
    expect(response.headers['retry-after']).toBe('1');
    // Everything acknowledged before the 503 is still stored.
    expect(await stored()).toHaveLength(1000);
  });
});

describe('client IP', () => {
  const franceIp = '90.0.0.1';

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    await post(pageview(), { 'x-forwarded-for': franceIp }, '1.1.1.1');
    expect((await stored())[0]?.country).toBe('US');
  });

  it('believes the right-most untrusted X-Forwarded-For hop from a trusted proxy', async () => {
    await gateway.close();
    gateway = await startGateway(temp.dir, { server: { trustedProxies: ['10.0.0.0/8'] } });
    await post(pageview(), { 'x-forwarded-for': `1.1.1.1, ${franceIp}, 10.1.2.3` }, '10.0.0.5');
    expect((await stored())[0]?.country).toBe('FR');
  });
});

describe('CORS', () => {
  it('allows a site’s own origin on preflight and refuses others', async () => {
    const preflight = (origin: string) =>
      gateway.app.inject({
        method: 'OPTIONS',
        url: '/balise/e',
        headers: {
          host: 'www.example.fr',
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const own = await preflight('https://example.fr');
    expect(own.headers['access-control-allow-origin']).toBe('https://example.fr');
    const other = await preflight('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('GET /balise/s.js and /balise/healthz', () => {
  it('serves the script gzipped with an ETag and answers 304 to If-None-Match', async () => {
    const first = await gateway.app.inject({
      method: 'GET',
      url: '/balise/s.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toContain('javascript');
    expect(first.headers['set-cookie']).toBeUndefined();
    expect(gunzipSync(first.rawPayload).toString()).toContain('sendBeacon');
    const again = await gateway.app.inject({
      method: 'GET',
      url: '/balise/s.js',
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('reports status ok', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/balise/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', store: 'duckdb' });
  });
});
