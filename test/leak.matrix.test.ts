import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import { builtinTools, startBuiltinVendors, type BuiltinVendors } from './fake-vendors.js';
import { readEvents, startGateway, tempDir } from './helpers.js';

// Personal data in every encoding a page, a form or a careless script may give it, through
// every privacy profile and every built-in tool: nothing of it may reach a vendor or the store.
// What is captured is decoded first, as a vendor (or anyone reading its logs) would.
const EMAIL = 'jean.dupont@example.com';
const PHONE = '+33 6 12 34 56 78';
const VISITOR_IP = '198.51.100.23';

const b64 = (text: string, url = false) => Buffer.from(text).toString(url ? 'base64url' : 'base64');
/** The e-mail and the phone number as they may travel inside one value. */
const ENCODED = [
  EMAIL,
  encodeURIComponent(EMAIL),
  encodeURIComponent(encodeURIComponent(EMAIL)), // %2540: twice
  encodeURIComponent(encodeURIComponent(encodeURIComponent(EMAIL))),
  'jean.dupont&#64;example.com',
  'jean.dupont&#x40;example.com',
  'jean.dupont&commat;example.com',
  'jean.dupont\\u0040example.com',
  b64(EMAIL),
  b64(EMAIL, true),
  b64(JSON.stringify({ email: EMAIL })),
  PHONE,
  '%2B33+6+12+34+56+78',
  encodeURIComponent(encodeURIComponent(PHONE)),
  b64(`tel ${PHONE}`, true),
];

const PROFILES: Record<string, Record<string, unknown>> = {
  'proxy.example': { profile: 'cnil-proxy' },
  'exempt.example': { profile: 'cnil-exempt' },
  'trackers.example': { profile: 'custom', query: 'known-trackers', ip: 'trim', dlp: 'mask' },
  'allow.example': { profile: 'custom', query: { allow: ['email', 'q', 'id'] }, ip: 'trim', dlp: 'mask' },
};

const temp = tempDir();
let gateway: Gateway;
let vendors: BuiltinVendors;

beforeAll(async () => {
  vendors = await startBuiltinVendors('matrix-secret');
  const tools = builtinTools(vendors, 'matrix-secret');
  gateway = await startGateway(temp.dir, {
    server: { trustedProxies: ['127.0.0.1'] },
    sites: Object.entries(PROFILES).map(([host, privacy]) => ({
      host,
      privacy,
      tools,
    })),
  });
});

afterAll(async () => {
  await gateway.close();
  for (const vendor of Object.values(vendors)) await vendor.close();
  temp.cleanup();
});

/** Decodes a captured text every way a reader could: percent (repeatedly), entities, \u escapes, base64 tokens. */
function readable(text: string): string {
  const forms = [text];
  let current = text;
  for (let round = 0; round < 6; round++) {
    let next = current;
    try {
      next = decodeURIComponent(next);
    } catch {
      next = next.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    next = next
      .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
      .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&commat;/g, '@')
      .replace(/\\u([0-9a-f]{4})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    forms.push(next, next.replace(/\+/g, ' '));
    if (next === current) break;
    current = next;
  }
  for (const token of text.match(/[A-Za-z0-9+/_-]{12,}={0,2}/g) ?? [])
    forms.push(Buffer.from(token.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1'));
  return forms.join('\n');
}

/** The personal data found in a text once decoded (the e-mail, the phone's digits, the full IP). */
function leaksIn(text: string): string[] {
  const plain = readable(text);
  const digits = plain.replace(/[\s.()/-]/g, '');
  const found: string[] = [];
  if (plain.includes(EMAIL) || plain.includes('jean.dupont@')) found.push('email');
  if (digits.includes('612345678')) {
    const at =
      /6[\s.()/-]*1[\s.()/-]*2[\s.()/-]*3[\s.()/-]*4[\s.()/-]*5[\s.()/-]*6[\s.()/-]*7[\s.()/-]*8/.exec(plain);
    found.push(`phone (${at ? plain.slice(Math.max(0, at.index - 60), at.index + 30) : '?'})`);
  }
  if (plain.includes(VISITOR_IP)) found.push('ip');
  return found;
}

async function send(host: string, events: Record<string, unknown>[]): Promise<void> {
  const response = await gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: {
      host,
      'content-type': 'text/plain',
      'x-forwarded-for': VISITOR_IP,
      'user-agent':
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      cookie: 'balise_consent=' + encodeURIComponent(JSON.stringify({ analytics: true, marketing: true })),
    },
    payload: JSON.stringify({ events }),
    remoteAddress: '127.0.0.1',
  });
  expect(response.statusCode, response.body).toBeLessThan(300);
}

describe('no personal data in any encoding, through every profile and built-in tool', () => {
  it(`stores and sends none of ${ENCODED.length} encodings of an e-mail and a phone number`, async () => {
    for (const host of Object.keys(PROFILES)) {
      for (const value of ENCODED) {
        const v = encodeURIComponent(value);
        await send(host, [
          {
            eventType: 'pageview',
            location: `https://${host}/u/${v}?email=${v}&q=${v}&id=7&utm_source=${v}#${v}`,
            title: `Compte ${value}`,
            referer: `https://news.example.org/a?reader=${v}`,
          },
          {
            eventType: 'track',
            name: 'signup',
            location: `https://${host}/signup?email=${v}`,
            payload: {
              note: value,
              [value.slice(0, 90)]: 1,
              nested: { deeper: [value] },
              next: `https://${host}/x?email=${v}`,
            },
          },
        ]);
      }
    }
    expect(await gateway.outbox.idle(30_000)).toBe(true);
    await gateway.egressLog.flush();
    const egress = await gateway.store.query('SELECT * FROM egress');
    const leaks: string[] = [];
    for (const [name, vendor] of Object.entries(vendors)) {
      expect(vendor.received.length, name).toBeGreaterThan(0);
      for (const request of vendor.received) {
        const text = [request.url, JSON.stringify(request.headers), request.body].join('\n');
        for (const kind of leaksIn(text))
          leaks.push(`${kind} sent to ${name}: ${request.url} ${request.body}`);
      }
    }
    // ip: trim sends the trimmed address, as the gateway made it (not masked as personal data).
    const trimmed = vendors.webhook.received
      .map(
        (r) => JSON.parse(r.body) as { events: { page: { url: string }; visitor: { ip: string | null } }[] },
      )
      .flatMap((body) => body.events)
      .filter((event) => event.page.url.startsWith('https://trackers.example/'));
    expect(trimmed.length).toBeGreaterThan(0);
    expect(new Set(trimmed.map((event) => event.visitor.ip))).toEqual(new Set(['198.51.100.0']));
    for (const record of egress)
      for (const kind of leaksIn(JSON.stringify(record))) leaks.push(`${kind} in the egress log`);
    await gateway.close();
    const rows = await readEvents(temp.dir);
    expect(rows.length).toBe(Object.keys(PROFILES).length * ENCODED.length * 2);
    for (const row of rows)
      for (const kind of leaksIn(
        JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      ))
        leaks.push(
          `${kind} stored (${String(row.site)} ${String(row.path)} ${String(row.title)} ${String(row.props)})`,
        );
    expect(leaks.slice(0, 20)).toEqual([]);
  }, 120_000);
});
