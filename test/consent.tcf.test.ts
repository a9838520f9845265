import { GVL, TCModel, TCString } from '@iabtcf/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import { acceptedEvents, startWebhookReceiver, type FakeVendor } from './fake-vendors.js';
import { pageview, startGateway, tempDir } from './helpers.js';

// Consent without a Balise choice: an IAB TCF v2.2 string from the site's CMP (its first-party
// cookie) mapped to Balise's purposes, and Global Privacy Control (Sec-GPC: 1) refusing marketing.
// Real TC strings, encoded with @iabtcf/core against a small vendor list of our own.
const temp = tempDir('balise-tcf-');
let gateway: Gateway;
let analytics: FakeVendor;
let marketing: FakeVendor;

const purposes = Object.fromEntries(
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((id) => [
    id,
    { id, name: `purpose ${id}`, description: '', illustrations: [] },
  ]),
);
const vendor = (id: number) => ({
  id,
  name: `vendor ${id}`,
  purposes: [1, 2, 3, 4, 7, 8, 9, 10],
  legIntPurposes: [],
  flexiblePurposes: [],
  specialPurposes: [],
  features: [],
  specialFeatures: [],
  urls: [],
});
const gvl = new GVL({
  gvlSpecificationVersion: 3,
  vendorListVersion: 100,
  tcfPolicyVersion: 5,
  lastUpdated: '2026-01-01T00:00:00Z',
  purposes,
  specialPurposes: {},
  features: {},
  specialFeatures: {},
  stacks: {},
  vendors: { 755: vendor(755), 10: vendor(10) },
} as unknown as ConstructorParameters<typeof GVL>[0]);

function tcString(consents: number[], vendors: number[]): string {
  const model = new TCModel(gvl);
  model.cmpId = 10;
  model.cmpVersion = 1;
  model.purposeConsents.set(consents);
  model.vendorConsents.set(vendors);
  return TCString.encode(model);
}

async function send(headers: Record<string, string>, name: string) {
  const response = await gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { host: 'www.example.fr', 'content-type': 'application/json', ...headers },
    payload: { ...pageview(), eventType: 'track', name },
  });
  expect(response.statusCode).toBe(204);
}

const names = (vendor: FakeVendor) =>
  (acceptedEvents(vendor) as { name: string }[]).map((e) => e.name).sort();

beforeAll(async () => {
  analytics = await startWebhookReceiver('tcf-secret');
  marketing = await startWebhookReceiver('tcf-secret');
  const hook = (id: string, purpose: string, url: string) => ({
    id,
    component: 'webhook',
    purpose,
    allowHosts: ['127.0.0.1'],
    settings: { url: `${url}/hook`, secret: 'tcf-secret' },
  });
  gateway = await startGateway(temp.dir, {
    sites: [
      {
        host: 'www.example.fr',
        consent: {
          purposes: ['analytics', 'marketing'],
          tcf: {
            purposes: {
              analytics: { purposes: [1, 8, 9] },
              marketing: { purposes: [1, 2, 3, 4], vendors: [755] },
            },
          },
        },
        tools: [hook('stats', 'analytics', analytics.url), hook('ads', 'marketing', marketing.url)],
      },
    ],
  });
});

afterAll(async () => {
  await gateway.close();
  await Promise.all([analytics.close(), marketing.close()]);
  temp.cleanup();
});

describe('TCF and Global Privacy Control', () => {
  it('grants each purpose whose TCF purposes and vendors all have consent; a Balise choice wins; GPC refuses marketing', async () => {
    const all = tcString([1, 2, 3, 4, 8, 9], [755]);
    const analyticsOnly = tcString([1, 8, 9], [755]);
    const noVendor = tcString([1, 2, 3, 4, 8, 9], [10]);
    await send({ cookie: `euconsent-v2=${all}` }, 'tcf-all');
    await send({ cookie: `euconsent-v2=${analyticsOnly}` }, 'tcf-analytics');
    await send({ cookie: `euconsent-v2=${noVendor}` }, 'tcf-no-vendor');
    await send({ cookie: 'euconsent-v2=not-a-tc-string' }, 'tcf-garbage');
    // The visitor's own choice in Balise is the one that counts.
    const refused = encodeURIComponent(JSON.stringify({ analytics: false, marketing: false }));
    await send({ cookie: `balise_consent=${refused}; euconsent-v2=${all}` }, 'balise-refused');
    // Global Privacy Control: marketing refused whatever was chosen.
    await send({ cookie: `euconsent-v2=${all}`, 'sec-gpc': '1' }, 'gpc');
    await gateway.outbox.idle(2000);
    for (let i = 0; i < 100 && acceptedEvents(analytics).length < 4; i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    expect(names(analytics)).toEqual(['gpc', 'tcf-all', 'tcf-analytics', 'tcf-no-vendor']);
    expect(names(marketing)).toEqual(['tcf-all']);
    expect(gateway.tools.stats()['www.example.fr/ads']!.consentDenied).toBe(5);
  });
});
