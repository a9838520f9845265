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
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function fakeVendor(
  validate: (request: IncomingMessage, body: string) => { status: number; answer: unknown },
): Promise<FakeVendor> {
  const received: Received[] = [];
  let failures = 0;
  let failStatus = 503;
  let downStatus: number | null = null;
  const server: Server = createServer((request, response) => {
    void readBody(request).then((body) => {
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

/** A fake GA4 collection endpoint: 204 for valid Measurement Protocol requests, 400 with the problems otherwise. */
export function startFakeGa4(): Promise<FakeVendor> {
  return fakeVendor((request, body) => {
    const problems = ga4Problems(new URL(request.url ?? '/', 'http://x'), body);
    return problems.length
      ? { status: 400, answer: { validationMessages: problems } }
      : { status: 204, answer: null };
  });
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
