import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import { acceptedEvents, startWebhookReceiver, type FakeVendor } from './fake-vendors.js';
import { startGateway, tempDir } from './helpers.js';
import type { Gateway } from '../src/gateway.js';

// Consent gating in real Chromium: a page whose script tag declares purposes sends nothing until
// the visitor chooses; the choice is kept in the first-party cookie balise_consent (13 months at
// most) and travels with each event; a tool whose purpose is refused receives nothing.
const temp = tempDir('balise-consent-');
let gateway: Gateway;
let gatewayUrl: string;
let page: Server;
let pageUrl: string;
let hook: FakeVendor;
let posts = 0;

beforeAll(async () => {
  hook = await startWebhookReceiver('consent-secret');
  gateway = await startGateway(temp.dir, {
    sites: [
      {
        host: 'localhost',
        aliases: ['127.0.0.1'],
        consent: { purposes: ['analytics', 'marketing'] },
        tools: [
          {
            id: 'hook',
            component: 'webhook',
            purpose: 'marketing',
            allowHosts: ['127.0.0.1'],
            settings: { url: `${hook.url}/hook`, secret: 'consent-secret' },
          },
        ],
      },
    ],
  });
  gateway.app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'POST' && request.url.endsWith('/balise/e')) posts++;
    done();
  });
  gatewayUrl = (await gateway.app.listen({ host: '127.0.0.1', port: 0 })).replace('127.0.0.1', 'localhost');
  page = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    // A page like a Zaraz site's: it waits for the consent API's event before using it.
    const ready = request.url?.startsWith('/ready')
      ? `<script>document.addEventListener('zarazConsentAPIReady', () => { window.readyFired = zaraz.consent.APIReady; });</script>`
      : '';
    response.end(
      `<!doctype html><title>Consent ${request.url}</title><p>page</p>${ready}<script async src="${gatewayUrl}/balise/s.js" data-consent="analytics,marketing"></script>`,
    );
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://localhost:${(page.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway.close();
  page.close();
  await hook.close();
  temp.cleanup();
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('consent in the browser', () => {
  it('queues events until a choice, keeps it in balise_consent, and routes by purpose', async () => {
    const { browser, close } = await launchChromium();
    try {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(`${pageUrl}/first`);
      await tab.waitForFunction('window.balise && window.balise.consent');
      await tab.evaluate('balise.track("before choice")');
      await new Promise((r) => setTimeout(r, 400));
      expect(posts).toBe(0);
      expect(await tab.evaluate('balise.consent.get("marketing")')).toBeUndefined();

      await tab.evaluate('balise.consent.set("marketing", true)');
      await waitFor(() => posts > 0, 'the queued events');
      await waitFor(() => gateway.outbox.idle(100), 'the outbox');
      await waitFor(() => acceptedEvents(hook).length >= 2, 'the webhook');
      const names = (acceptedEvents(hook) as { name: string | null }[]).map((e) => e.name);
      expect(names.sort()).toEqual(['before choice', null]);
      const cookie = (await context.cookies()).find((c) => c.name === 'balise_consent')!;
      expect(JSON.parse(decodeURIComponent(cookie.value))).toEqual({ marketing: true });
      const days = (cookie.expires * 1000 - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(390);
      expect(days).toBeLessThanOrEqual(396);

      // A later page sends at once, with the stored choice.
      const before = posts;
      await tab.goto(`${pageUrl}/second`);
      await waitFor(() => posts > before, 'the second pageview');
      await waitFor(() => acceptedEvents(hook).length >= 3, 'the second delivery');

      // Refused: the event is still stored, the marketing tool gets nothing.
      await tab.evaluate('balise.consent.setAll(false)');
      expect(await tab.evaluate('JSON.stringify(balise.consent.getAll())')).toBe(
        JSON.stringify({ marketing: false, analytics: false }),
      );
      const accepted = gateway.tools.stats()['localhost/hook']!.consentDenied;
      await tab.evaluate('balise.track("after refusal")');
      await waitFor(() => gateway.tools.stats()['localhost/hook']!.consentDenied > accepted, 'the refusal');
      expect(acceptedEvents(hook)).toHaveLength(3);

      // Zaraz's object form, as a site moving from Zaraz calls it.
      await tab.evaluate('zaraz.consent.set({ marketing: true, analytics: 0 })');
      expect(await tab.evaluate('JSON.stringify(zaraz.consent.getAll())')).toBe(
        JSON.stringify({ marketing: true, analytics: false }),
      );
      await tab.evaluate('zaraz.track("after the object form")');
      await waitFor(() => acceptedEvents(hook).length >= 4, 'the delivery after the object form');
      expect((acceptedEvents(hook) as { name: string | null }[]).map((e) => e.name)).toContain(
        'after the object form',
      );
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await close();
    }
  });

  it('fires zarazConsentAPIReady, offers sendQueuedEvents, and honours Global Privacy Control (Sec-GPC: 1)', async () => {
    const { browser, close } = await launchChromium();
    try {
      const context = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
      const tab = await context.newPage();
      await tab.goto(`${pageUrl}/ready`);
      await tab.waitForFunction('window.readyFired === true');
      expect(await tab.evaluate('typeof zaraz.consent.sendQueuedEvents')).toBe('function');
      const denied = gateway.tools.stats()['localhost/hook']!.consentDenied;
      const delivered = acceptedEvents(hook).length;
      // The visitor says yes to marketing, but the browser sends Sec-GPC: 1: the marketing tool
      // gets nothing; the events are still stored.
      await tab.evaluate('zaraz.consent.set({ marketing: true }); zaraz.consent.sendQueuedEvents()');
      await waitFor(() => gateway.tools.stats()['localhost/hook']!.consentDenied > denied, 'the GPC refusal');
      await new Promise((r) => setTimeout(r, 300));
      expect(acceptedEvents(hook)).toHaveLength(delivered);
      await context.close();
    } finally {
      await close();
    }
  });
});
