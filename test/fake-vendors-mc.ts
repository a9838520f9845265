import type { IncomingMessage } from 'node:http';
import { fakeVendor, type FakeVendor } from './fake-vendors.js';

// Fake vendors for the protocols Cloudflare's published components speak, each checking what
// the vendor's documentation says it refuses; 4xx with the problems otherwise.

type Check = (request: IncomingMessage, url: URL, body: unknown) => string[];

function parsed(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function vendor(check: Check, ok: unknown = { ok: true }, refused = 400): Promise<FakeVendor> {
  return fakeVendor((request, body) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const problems = check(request, url, parsed(body));
    return problems.length ? { status: refused, answer: { problems } } : { status: 200, answer: ok };
  });
}

const nowSeconds = () => Date.now() / 1000;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const SHA256 = /^[0-9a-f]{64}$/;

/** Pinterest Conversions API v5: `POST /v5/ad_accounts/{id}/events`, Bearer token, `data` events. */
export function startFakePinterest(token: string): Promise<FakeVendor> {
  const names = [
    'add_to_cart',
    'checkout',
    'custom',
    'lead',
    'page_visit',
    'search',
    'signup',
    'view_category',
  ];
  return vendor(
    (request, url, body) => {
      const problems: string[] = [];
      if (request.method !== 'POST') problems.push('method must be POST');
      if (!/^\/v5\/ad_accounts\/\d+\/events$/.test(url.pathname)) problems.push(`no route ${url.pathname}`);
      if (request.headers.authorization !== `Bearer ${token}`) problems.push('authorization: invalid token');
      const data = isObject(body) ? body.data : undefined;
      if (!Array.isArray(data) || data.length === 0 || data.length > 1000)
        return [...problems, 'data: 1 to 1000 events'];
      for (const event of data as Record<string, unknown>[]) {
        if (!names.includes(String(event.event_name)))
          problems.push(`event_name ${String(event.event_name)}`);
        if (!['web', 'app_android', 'app_ios', 'offline'].includes(String(event.action_source)))
          problems.push('action_source');
        const time = Number(event.event_time);
        if (!Number.isInteger(time) || time > nowSeconds() + 60 || time < nowSeconds() - 7 * 86400)
          problems.push('event_time: integer seconds within the last 7 days');
        if (typeof event.event_id !== 'string') problems.push('event_id');
        const user = event.user_data;
        const identified =
          isObject(user) &&
          (['em', 'hashed_maids', 'external_id'].some(
            (k) => Array.isArray(user[k]) && (user[k] as unknown[]).every((v) => SHA256.test(String(v))),
          ) ||
            (user.client_ip_address && user.client_user_agent));
        if (!identified) problems.push('user_data: em, hashed_maids, external_id (SHA-256) or IP and UA');
      }
      return problems;
    },
    { num_events_received: 1, num_events_processed: 1 },
    422,
  );
}

/** Mixpanel ingestion `POST /track`: a JSON array of `{event, properties: {token, time, distinct_id}}`; answers `1`. */
export function startFakeMixpanel(token: string): Promise<FakeVendor> {
  return vendor((request, url, body) => {
    const problems: string[] = [];
    if (url.pathname !== '/track') problems.push(`no route ${url.pathname}`);
    if (!Array.isArray(body) || body.length === 0 || body.length > 2000)
      return [...problems, 'body: 1 to 2000 events'];
    for (const event of body as Record<string, unknown>[]) {
      const p = event.properties;
      if (typeof event.event !== 'string' || event.event === '') problems.push('event name');
      if (!isObject(p) || p.token !== token) problems.push('properties.token');
      else if (typeof p.time !== 'number' || p.time < nowSeconds() - 5 * 86400)
        problems.push('properties.time');
      else if (typeof p.distinct_id !== 'string') problems.push('properties.distinct_id');
    }
    return problems;
  }, 1);
}

/** Amplitude HTTP API v2 `POST /2/httpapi`: `{api_key, events: [{event_type, user_id|device_id (≥ 5 chars), time}]}`. */
export function startFakeAmplitude(apiKey: string): Promise<FakeVendor> {
  return vendor((request, url, body) => {
    const problems: string[] = [];
    if (url.pathname !== '/2/httpapi') problems.push(`no route ${url.pathname}`);
    if (!isObject(body) || body.api_key !== apiKey) return [...problems, 'invalid api_key'];
    if (!Array.isArray(body.events) || body.events.length === 0) return [...problems, 'events missing'];
    for (const event of body.events as Record<string, unknown>[]) {
      if (typeof event.event_type !== 'string') problems.push('event_type');
      const id = event.user_id ?? event.device_id;
      if (typeof id !== 'string' || id.length < 5)
        problems.push('user_id or device_id of at least 5 characters');
      if (event.time !== undefined && typeof event.time !== 'number') problems.push('time in ms');
    }
    return problems;
  });
}

/** Snowplow tracker protocol `POST /com.snowplowanalytics.snowplow/tp2`: a payload_data envelope of events. */
export function startFakeSnowplow(): Promise<FakeVendor> {
  return vendor((request, url, body) => {
    const problems: string[] = [];
    if (url.pathname !== '/com.snowplowanalytics.snowplow/tp2') problems.push(`no route ${url.pathname}`);
    if (
      !isObject(body) ||
      !/^iglu:com\.snowplowanalytics\.snowplow\/payload_data\/jsonschema\/1-0-\d+$/.test(String(body.schema))
    )
      return [...problems, 'schema: payload_data'];
    if (!Array.isArray(body.data)) return [...problems, 'data'];
    for (const event of body.data as Record<string, unknown>[]) {
      if (!['pv', 'se', 'ue', 'tr', 'ti', 'pp'].includes(String(event.e)))
        problems.push(`e=${String(event.e)}`);
      if (typeof event.tv !== 'string' || typeof event.p !== 'string') problems.push('tv and p');
      if (event.e === 'pv' && typeof event.url !== 'string') problems.push('url of a page view');
      if (event.e === 'se' && (typeof event.se_ca !== 'string' || typeof event.se_ac !== 'string'))
        problems.push('se_ca and se_ac of a structured event');
      if (event.ip !== undefined) problems.push('ip sent');
    }
    return problems;
  });
}

/** TikTok Events API `POST /open_api/v1.3/event/track/`: `Access-Token`, `event_source: web`, `data` events. */
export function startFakeTikTok(accessToken: string): Promise<FakeVendor> {
  return vendor(
    (request, url, body) => {
      const problems: string[] = [];
      if (url.pathname !== '/open_api/v1.3/event/track/') problems.push(`no route ${url.pathname}`);
      if (request.headers['access-token'] !== accessToken) return [...problems, 'Access-Token invalid'];
      if (!isObject(body) || body.event_source !== 'web' || typeof body.event_source_id !== 'string')
        return [...problems, 'event_source web and event_source_id'];
      if (!Array.isArray(body.data)) return [...problems, 'data'];
      for (const event of body.data as Record<string, unknown>[]) {
        if (typeof event.event !== 'string') problems.push('event');
        if (!Number.isInteger(event.event_time)) problems.push('event_time in seconds');
        if (!isObject(event.page) || typeof event.page.url !== 'string') problems.push('page.url');
      }
      return problems;
    },
    { code: 0, message: 'OK' },
  );
}
