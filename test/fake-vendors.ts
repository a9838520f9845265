import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake vendor received, exactly as it arrived. */
export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

/** A running fake vendor: its base URL, what it received, and switches to make it fail. */
export interface FakeVendor {
  url: string;
  received: Received[];
  /** Answer the next `count` requests with `status` (e.g. 503 for an outage). */
  failNext(count: number, status: number): void;
  /** Answer everything with `status` until `recover()`. */
  down(status: number): void;
  recover(): void;
  close(): Promise<void>;
  /** Everything received, as one string, for leak checks. */
  dump(): string;
  /** The most requests it held at once (received, not yet answered). */
  readonly maxInFlight: number;
}

/**
 * The events one request carried: a batch's items (GA4 `events`, Meta `data`, webhook `events`),
 * or the request itself when it carries one event (Matomo, Universal Analytics, `/g/collect`).
 */
export function eventsIn(request: Received): unknown[] {
  try {
    const body = JSON.parse(request.body) as { events?: unknown; data?: unknown };
    if (Array.isArray(body.events)) return body.events as unknown[];
    if (Array.isArray(body.data)) return body.data as unknown[];
  } catch {
    // a form or query-string request: one event
  }
  return [request];
}

/** Every event a vendor accepted (2xx), batches opened up. */
export function acceptedEvents(vendor: FakeVendor): unknown[] {
  return vendor.received.filter((r) => r.status < 300).flatMap(eventsIn);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * A fake vendor answering what `validate` says of each request (or an outage's status), each
 * answer `roundTripMs` after the request arrived: a vendor that far away.
 */
export async function fakeVendor(
  validate: (request: IncomingMessage, body: string) => { status: number; answer: unknown },
  roundTripMs = 0,
): Promise<FakeVendor> {
  const received: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failures = 0;
  let failStatus = 503;
  let downStatus: number | null = null;
  const server: Server = createServer((request, response) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    void readBody(request).then(async (body) => {
      if (roundTripMs > 0) await new Promise((resolve) => setTimeout(resolve, roundTripMs));
      inFlight--;
      let status: number;
      let answer: unknown;
      if (downStatus !== null) ({ status, answer } = { status: downStatus, answer: { error: 'down' } });
      else if (failures > 0) {
        failures--;
        ({ status, answer } = { status: failStatus, answer: { error: 'temporary failure' } });
      } else ({ status, answer } = validate(request, body));
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
        status,
      });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status === 204 ? undefined : JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    failNext(count, status) {
      failures = count;
      failStatus = status;
    },
    down(status) {
      downStatus = status;
    },
    recover() {
      downStatus = null;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    dump: () => JSON.stringify(received),
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

const GA4_RESERVED = new Set([
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
const GA4_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const GA4_LONG_PARAMS: Record<string, number> = { page_location: 1000, page_title: 300, page_referrer: 420 };

/** Validation messages for a GA4 Measurement Protocol request, as `/debug/mp/collect` gives them. */
export function ga4Problems(url: URL, body: string): string[] {
  const problems: string[] = [];
  if (url.pathname !== '/mp/collect') problems.push(`unknown path ${url.pathname}`);
  if (!/^G-[A-Z0-9]{4,}$/.test(url.searchParams.get('measurement_id') ?? ''))
    problems.push('measurement_id missing or not G-XXXX');
  if (!url.searchParams.get('api_secret')) problems.push('api_secret missing');
  if (Buffer.byteLength(body) > 130_000) problems.push('body larger than 130 kB');
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return [...problems, 'body is not JSON'];
  }
  if (typeof payload.client_id !== 'string' || payload.client_id === '') problems.push('client_id missing');
  for (const forbidden of ['ip_override', 'user_agent', 'uip', '_uip'])
    if (forbidden in payload) problems.push(`${forbidden} sent`);
  const events = payload.events;
  if (!Array.isArray(events) || events.length === 0 || events.length > 25) {
    problems.push('events must hold 1 to 25 events');
    return problems;
  }
  for (const [i, event] of (events as Record<string, unknown>[]).entries()) {
    const name = typeof event.name === 'string' ? event.name : '';
    if (!GA4_NAME.test(name)) problems.push(`events[${i}].name ${name} is invalid`);
    if (GA4_RESERVED.has(name) || /^(_|firebase_|ga_|google_|gtag\.)/.test(name))
      problems.push(`events[${i}].name ${name} is reserved`);
    const params = (event.params ?? {}) as Record<string, unknown>;
    if (Object.keys(params).length > 25) problems.push(`events[${i}] has more than 25 params`);
    for (const [key, value] of Object.entries(params)) {
      if (!GA4_NAME.test(key)) problems.push(`events[${i}].params.${key} has an invalid name`);
      if (typeof value === 'string' && value.length > (GA4_LONG_PARAMS[key] ?? 100))
        problems.push(`events[${i}].params.${key} is too long`);
    }
  }
  return problems;
}

/** Problems of a GA4 web-protocol hit (`/g/collect`, what gtag.js sends and Zaraz relays). */
export function gCollectProblems(url: URL): string[] {
  const q = url.searchParams;
  const problems: string[] = [];
  if (q.get('v') !== '2') problems.push('v=2 missing');
  if (!/^G-[A-Z0-9]{4,}$/.test(q.get('tid') ?? '')) problems.push('tid missing or not G-XXXX');
  if (!q.get('cid')) problems.push('cid missing');
  const name = q.get('en') ?? '';
  if (!GA4_NAME.test(name)) problems.push(`en ${name} is invalid`);
  if (GA4_RESERVED.has(name) || /^(_|firebase_|ga_|google_|gtag\.)/.test(name))
    problems.push(`en ${name} is reserved`);
  if (!q.get('dl')) problems.push('dl missing');
  for (const forbidden of ['uip', '_uip', 'ip_override'])
    if (q.has(forbidden)) problems.push(`${forbidden} sent`);
  for (const [key, value] of q) {
    const param = /^epn?\.(.+)$/.exec(key)?.[1];
    if (param !== undefined && !GA4_NAME.test(param)) problems.push(`${key} has an invalid name`);
    if (param !== undefined && value.length > 100) problems.push(`${key} is too long`);
  }
  return problems;
}

/** A fake GA4 collection endpoint (`/mp/collect` and `/g/collect`): 204 when valid, 400 with the problems otherwise. */
export function startFakeGa4(roundTripMs = 0): Promise<FakeVendor> {
  return fakeVendor((request, body) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const problems = url.pathname === '/g/collect' ? gCollectProblems(url) : ga4Problems(url, body);
    return problems.length
      ? { status: 400, answer: { validationMessages: problems } }
      : { status: 204, answer: null };
  }, roundTripMs);
}

/** A webhook receiver that checks `x-balise-signature` (HMAC-SHA256 of `timestamp.body`) and answers 401 when wrong. */
export function startWebhookReceiver(secret: string): Promise<FakeVendor> {
  return fakeVendor((request, body) => {
    const timestamp = String(request.headers['x-balise-timestamp'] ?? '');
    const signature = String(request.headers['x-balise-signature'] ?? '');
    const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    const ok =
      signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
    if (!ok) return { status: 401, answer: { error: 'bad signature' } };
    try {
      JSON.parse(body);
    } catch {
      return { status: 400, answer: { error: 'body is not JSON' } };
    }
    return { status: 200, answer: { ok: true } };
  });
}

const HEX64 = /^[0-9a-f]{64}$/;
const ACTION_SOURCES = new Set([
  'email',
  'website',
  'app',
  'phone_call',
  'chat',
  'physical_store',
  'system_generated',
  'business_messaging',
  'other',
]);

/** Problems Meta's Conversions API would answer with a 400 (OAuthException code 100). */
export function metaProblems(url: URL, body: string, now = Date.now()): string[] {
  const problems: string[] = [];
  if (!/^\/v\d+\.\d+\/\d+\/events$/.test(url.pathname)) problems.push(`unknown path ${url.pathname}`);
  if (!url.searchParams.get('access_token')) problems.push('access_token missing');
  let payload: { data?: unknown };
  try {
    payload = JSON.parse(body) as { data?: unknown };
  } catch {
    return [...problems, 'body is not JSON'];
  }
  if (!Array.isArray(payload.data) || payload.data.length === 0 || payload.data.length > 1000)
    return [...problems, 'data must hold 1 to 1000 events'];
  for (const [i, event] of (payload.data as Record<string, unknown>[]).entries()) {
    if (typeof event.event_name !== 'string' || !event.event_name)
      problems.push(`data[${i}].event_name missing`);
    const time = Number(event.event_time);
    if (!Number.isInteger(time) || time > now / 1000 + 60 || time < now / 1000 - 7 * 86_400)
      problems.push(`data[${i}].event_time must be Unix seconds within the last 7 days`);
    if (!ACTION_SOURCES.has(String(event.action_source))) problems.push(`data[${i}].action_source invalid`);
    const user = (event.user_data ?? {}) as Record<string, unknown>;
    if (event.action_source === 'website') {
      if (typeof event.event_source_url !== 'string')
        problems.push(`data[${i}].event_source_url required for website`);
      if (typeof user.client_user_agent !== 'string')
        problems.push(`data[${i}].user_data.client_user_agent required for website`);
    }
    for (const key of ['em', 'ph', 'fn', 'ln', 'ct', 'st', 'zp', 'country', 'ge', 'db', 'external_id']) {
      const value = user[key];
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      if (!values.every((v) => typeof v === 'string' && (key === 'external_id' || HEX64.test(v))))
        problems.push(`data[${i}].user_data.${key} must be SHA-256 hashed`);
    }
    const identifying = ['em', 'ph', 'external_id', 'fbc', 'fbp', 'client_ip_address'].some(
      (k) => user[k] !== undefined,
    );
    if (!identifying) problems.push(`data[${i}].user_data has no customer information parameter`);
  }
  return problems;
}

/** A fake Meta Graph API: `{events_received}` for valid events, 400 otherwise. Deduplicates by event_id. */
export function startFakeMeta(): Promise<FakeVendor & { eventIds: () => string[] }> {
  const ids: string[] = [];
  return fakeVendor((request, body) => {
    const problems = metaProblems(new URL(request.url ?? '/', 'http://x'), body);
    if (problems.length)
      return {
        status: 400,
        answer: { error: { message: problems.join('; '), type: 'OAuthException', code: 100 } },
      };
    const data = (JSON.parse(body) as { data: { event_id?: string }[] }).data;
    for (const event of data) if (event.event_id && !ids.includes(event.event_id)) ids.push(event.event_id);
    return { status: 200, answer: { events_received: data.length, fbtrace_id: 'fake' } };
  }).then((vendor) => ({ ...vendor, eventIds: () => [...ids] }));
}

/** A fake Matomo `matomo.php`: 204 for valid tracking requests; 400 for missing parameters, `cip` or `token_auth`. */
export function startFakeMatomo(): Promise<FakeVendor> {
  return fakeVendor((request, body) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const params = new URLSearchParams(request.method === 'POST' ? body : url.search);
    const problems: string[] = [];
    if (!url.pathname.endsWith('/matomo.php')) problems.push('not matomo.php');
    if (!/^\d+$/.test(params.get('idsite') ?? '')) problems.push('idsite missing');
    if (params.get('rec') !== '1') problems.push('rec=1 missing');
    if (!params.get('url')) problems.push('url missing');
    const id = params.get('_id');
    if (id !== null && !/^[0-9a-f]{16}$/.test(id)) problems.push('_id must be 16 hex characters');
    if (params.has('cip') || params.has('token_auth')) problems.push('cip/token_auth not allowed');
    return problems.length ? { status: 400, answer: { problems } } : { status: 204, answer: null };
  });
}

/** A fake Universal Analytics `/collect` (v1): validates v, tid, cid and the hit type. */
export function startFakeUa(): Promise<FakeVendor> {
  return fakeVendor((request, body) => {
    const params = new URLSearchParams(body);
    const problems: string[] = [];
    if (params.get('v') !== '1') problems.push('v=1 missing');
    if (!/^UA-\d+-\d+$/.test(params.get('tid') ?? '')) problems.push('tid invalid');
    if (!params.get('cid')) problems.push('cid missing');
    if (!['pageview', 'event', 'screenview', 'transaction', 'item'].includes(params.get('t') ?? ''))
      problems.push('t invalid');
    if (params.has('uip')) problems.push('uip sent');
    return problems.length ? { status: 400, answer: { problems } } : { status: 200, answer: null };
  });
}

/** One fake of every built-in tool's vendor (the webhook receiver checks `secret`). */
export type BuiltinVendors = Record<'ga4' | 'meta' | 'matomo' | 'ua' | 'webhook', FakeVendor>;

/** Starts a fake vendor for each built-in tool. */
export async function startBuiltinVendors(secret: string): Promise<BuiltinVendors> {
  return {
    ga4: await startFakeGa4(),
    meta: await startFakeMeta(),
    matomo: await startFakeMatomo(),
    ua: await startFakeUa(),
    webhook: await startWebhookReceiver(secret),
  };
}

/** Every built-in tool pointed at its fake vendor on 127.0.0.1 (allow-listed), as a site's `tools`. */
export function builtinTools(vendors: BuiltinVendors, secret: string) {
  const local = { allowHosts: ['127.0.0.1'] };
  return [
    {
      id: 'ga4',
      component: 'ga4',
      ...local,
      settings: { measurementId: 'G-LEAK1234', endpoint: `${vendors.ga4.url}/g/collect` },
    },
    {
      id: 'meta',
      component: 'meta',
      region: 'any' as const,
      ...local,
      settings: { pixelId: '42', accessToken: 't', endpoint: vendors.meta.url },
    },
    {
      id: 'matomo',
      component: 'matomo',
      ...local,
      settings: { url: `${vendors.matomo.url}/matomo.php`, siteId: 3 },
    },
    {
      id: 'ua',
      component: 'ua',
      region: 'any' as const,
      ...local,
      settings: { trackingId: 'UA-1-1', endpoint: `${vendors.ua.url}/collect` },
    },
    {
      id: 'webhook',
      component: 'webhook',
      ...local,
      settings: { url: `${vendors.webhook.url}/hook`, secret },
    },
  ];
}
