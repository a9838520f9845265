import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import {
  acceptedEvents,
  builtinTools,
  startBuiltinVendors,
  type BuiltinVendors,
  type FakeVendor,
} from './fake-vendors.js';
import { readEvents, startLiveSite, tempDir, type LiveSite } from './helpers.js';

// docs/privacy.md, in real headless Chromium against the store.
// Every probe below is personal or tracking data the browser sends; none may be stored.
const VISITOR_IP = '203.0.113.77';
const FRENCH_IP = '90.0.0.1';
const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.264 Safari/537.36 BaliseProbe/9.8.7';
const REFERRER = 'https://news.example.org/article?id=7&reader=paul.martin@example.net';

const PROBES = {
  ips: [VISITOR_IP, FRENCH_IP, '198.51.100.23', '2001:db8:abcd:12::77'],
  emails: [
    'jane.doe@example.fr',
    'john.smith@example.com',
    'contact+promo@example.org',
    'paul.martin@example.net',
    'jean.dupont@example.fr',
  ],
  phones: ['06 12 34 56 78', '+33 6 98 76 54 32', '+44 20 7946 0958', '0145678901'],
  ibans: ['FR76 3000 6000 0112 3456 7890 189', 'DE89370400440532013000', 'GB82WEST12345698765432'],
  cards: ['4111 1111 1111 1111', '5555555555554444', '378282246310005'],
  nirs: ['1 85 05 78 006 084 91', '269052A12345688'],
  companies: ['73282932000074', '732 829 320'],
  trackers: [
    'utm_source',
    'utm_medium',
    'utm_campaign',
    'gclid',
    'gbraid',
    'wbraid',
    'fbclid',
    'msclkid',
    'mc_eid',
    '_ga=',
    'xtor',
  ],
  trackerValues: ['newsletter-nov', 'Cj0KCQiA-gclid-value', 'IwAR-fbclid-value', 'SECRETTOKEN123'],
  referrer: ['news.example.org/article', 'id=7', 'reader='],
  fragments: ['frag-secret-42'],
  vendorCookies: ['GA1.1.987654321.1700000000', 'fb.1.1700000000000.1234567890'],
  userAgent: ['6778.264', 'BaliseProbe', '9.8.7', 'X11; Linux x86_64'],
};
// Where each probe is planted, with its normalised forms (what a careless store would keep).
const SEARCH = [
  ...PROBES.ips,
  ...PROBES.emails,
  ...PROBES.phones,
  ...PROBES.phones.map((p) => p.replace(/ /g, '')),
  ...PROBES.ibans,
  ...PROBES.ibans.map((i) => i.replace(/ /g, '')),
  ...PROBES.cards,
  ...PROBES.cards.map((c) => c.replace(/ /g, '')),
  ...PROBES.nirs,
  ...PROBES.companies,
  ...PROBES.trackers,
  ...PROBES.trackerValues,
  ...PROBES.referrer,
  ...PROBES.fragments,
  ...PROBES.vendorCookies,
  ...PROBES.userAgent,
];

const temp = tempDir();
let live: LiveSite;
let vendors: BuiltinVendors;

beforeAll(async () => {
  vendors = await startBuiltinVendors('leak-secret');
  live = await startLiveSite(temp.dir, {
    server: { trustedProxies: ['127.0.0.1'] },
    sites: [
      {
        host: 'localhost',
        aliases: ['127.0.0.1'],
        tools: builtinTools(vendors, 'leak-secret'),
      },
    ],
  });
});

afterAll(async () => {
  await live.close();
  for (const vendor of Object.values(vendors)) await vendor.close();
  temp.cleanup();
});

/** Everything a vendor received, raw and URL-decoded (form bodies, query strings). */
function vendorText(vendor: FakeVendor): string {
  return vendor.received
    .map((r) => {
      const decode = (text: string) => {
        try {
          return decodeURIComponent(text.replace(/\+/g, ' '));
        } catch {
          return text;
        }
      };
      return [r.url, decode(r.url), JSON.stringify(r.headers), r.body, decode(r.body)].join('\u0001');
    })
    .join('\u0002');
}

/** Sends every event of a visit that plants the probes, from `ip` (X-Forwarded-For via a trusted proxy). */
async function visit(page: Page, ip: string): Promise<void> {
  await page.route('**/balise/e', (route) =>
    route.continue({ headers: { ...route.request().headers(), 'x-forwarded-for': ip } }),
  );
  const query =
    'utm_source=newsletter-nov&utm_medium=email&utm_campaign=x&gclid=Cj0KCQiA-gclid-value&fbclid=IwAR-fbclid-value' +
    '&gbraid=5&wbraid=6&msclkid=1&mc_eid=2&_ga=3&xtor=4&token=SECRETTOKEN123&email=jane.doe@example.fr';
  await page.goto(`${live.siteUrl}/?${query}#frag-secret-42`, { referer: REFERRER, waitUntil: 'load' });
  await page.waitForFunction('"zaraz" in window');
  await page.evaluate(`
    document.title = 'Compte de john.smith@example.com — 06 12 34 56 78';
    history.pushState({}, '', '/u/contact+promo@example.org?gclid=Cj0KCQiA-gclid-value#frag-secret-42');
    zaraz.track('contact_form', {
      phone: '+33 6 98 76 54 32', uk: '+44 20 7946 0958', landline: '0145678901',
      iban: 'FR76 3000 6000 0112 3456 7890 189', iban2: 'DE89370400440532013000', iban3: 'GB82WEST12345698765432',
      card: '4111 1111 1111 1111', card2: '5555555555554444', amex: '378282246310005',
      nir: '1 85 05 78 006 084 91', nir_corse: '269052A12345688', siret: '73282932000074', siren: '732 829 320',
      seen_from: '198.51.100.23', v6: '2001:db8:abcd:12::77', 'jean.dupont@example.fr': true,
      next: 'https://shop.example/cart?utm_medium=email&token=SECRETTOKEN123',
    });
    dataLayer.push({ event: 'lead', email: 'paul.martin@example.net', note: 'call 06 12 34 56 78' });
    balise.ecommerce('Order Completed', { order_id: 'A1', email: 'jane.doe@example.fr', total: 9.99 });
  `);
}

describe('no leak, in real Chromium, to the store or any built-in tool (docs/privacy.md)', () => {
  it('has at least 50 distinct probes', () => {
    expect(new Set(SEARCH).size).toBeGreaterThanOrEqual(50);
  });

  it('stores none of the probes and sends none to GA4, Meta, Matomo, UA or a webhook', async () => {
    const { browser, close } = await launchChromium();
    try {
      let expected = 0;
      for (const ip of [VISITOR_IP, FRENCH_IP]) {
        const context = await browser.newContext({ userAgent: UA });
        // Vendor cookies already in the browser (from a past direct integration) must not travel.
        await context.addCookies([
          { name: '_ga', value: PROBES.vendorCookies[0]!, domain: 'localhost', path: '/' },
          { name: '_fbp', value: PROBES.vendorCookies[1]!, domain: 'localhost', path: '/' },
        ]);
        await visit(await context.newPage(), ip);
        await live.waitForAccepted((expected += 5));
        await context.close();
      }
    } finally {
      await close();
    }
    const health = (await live.gateway.app.inject({ method: 'GET', url: '/balise/healthz' })).json<{
      dlpFindings: number;
    }>();
    expect(await live.gateway.outbox.idle()).toBe(true);
    await live.gateway.close();
    // Every built-in tool got every event, accepted by its (validating) fake vendor…
    for (const [name, vendor] of Object.entries(vendors)) {
      expect(acceptedEvents(vendor).length, name).toBe(10);
      expect(
        vendor.received.every((r) => r.status < 300),
        `${name}: ${vendor.dump().slice(0, 500)}`,
      ).toBe(true);
    }
    // …and none of the probes. The reduced UA's frozen platform token and "id=" inside vendor
    // parameters (Matomo's _id=…) are not leaks, so those two probes are checked in the store only.
    const vendorLeaks: string[] = [];
    for (const [name, vendor] of Object.entries(vendors)) {
      const text = vendorText(vendor);
      for (const probe of SEARCH.filter((p) => p !== 'X11; Linux x86_64' && p !== 'id=7'))
        if (text.includes(probe)) vendorLeaks.push(`${probe} sent to ${name}`);
    }
    expect(vendorLeaks).toEqual([]);
    const rows = await readEvents(temp.dir);
    expect(rows.length).toBe(10);

    const leaks: string[] = [];
    for (const row of rows) {
      // The campaign is kept on purpose, in its own column (docs/insights.md#campaigns): its
      // source may hold the planted campaign name and nothing else; no other column may.
      const { utm_source: campaign, ...others } = row;
      if (campaign !== null && campaign !== 'newsletter-nov')
        leaks.push(`utm_source ${JSON.stringify(campaign)}`);
      const text = Object.values(others)
        .map((v) => (v instanceof Date ? v.toISOString() : String(v)))
        .join('\u0001');
      for (const probe of SEARCH)
        if (text.includes(probe)) leaks.push(`${probe} in ${String(row.type)} ${String(row.name)}`);
    }
    expect(leaks).toEqual([]);

    const landing = rows.find((r) => r.type === 'pageview' && r.path === '/')!;
    expect(landing).toMatchObject({
      referrer_host: 'news.example.org',
      referrer_class: 'news',
      device_type: 'desktop',
      // The campaign, lower-cased; the ad click ids only as a flag.
      utm_source: 'newsletter-nov',
      utm_medium: 'email',
      utm_campaign: 'x',
      paid: true,
    });
    expect(String(landing.visitor_hash)).toMatch(/^\d+$/);
    // Country from the bundled database (region needs a city mmdb, which is not bundled).
    expect(rows.filter((r) => r.country === 'FR')).toHaveLength(5);
    const spa = rows.filter((r) => r.type === 'pageview' && String(r.path).startsWith('/u/'));
    expect(spa.map((r) => r.path)).toEqual(['/u/[redacted:email]', '/u/[redacted:email]']);
    const form = rows.find((r) => r.name === 'contact_form')!;
    expect(JSON.parse(String(form.props))).toMatchObject({
      phone: '[redacted:phone]',
      iban: '[redacted:iban]',
      card: '[redacted:card]',
      nir: '[redacted:nir]',
      siret: '[redacted:siret]',
      seen_from: '[redacted:ip]',
      next: 'https://shop.example/cart',
    });
    expect(health.dlpFindings).toBeGreaterThan(20);
  });
});
