import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/auth/password.js';
import type { Gateway } from '../src/gateway.js';
import { launchChromium, watchProblems } from './chromium.js';
import { startFakeGa4, type FakeVendor } from './fake-vendors.js';
import { startGateway, tempDir, until } from './helpers.js';

// Proxy mode in real Chromium: a page whose origin HTML has no snippet, served through the
// gateway, gets the script, sends its pageview, and GA4 receives it from the gateway — while the
// browser talks to the site's host only.
const temp = tempDir('balise-proxy-browser-');
const HOST = 'www.proxied.test';
const PASSWORD = 'proxy-dashboard-password';
let origin: Server;
let ga4: FakeVendor;
let gateway: Gateway;
let port: number;

beforeAll(async () => {
  origin = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      '<!doctype html><html><head><title>Origin page</title></head><body><h1>No snippet here</h1></body></html>',
    );
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  ga4 = await startFakeGa4();
  gateway = await startGateway(temp.dir, {
    admin: { passwordHash: hashPassword(PASSWORD) },
    sites: [
      {
        host: HOST,
        proxy: { upstream: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` },
        tools: [
          {
            id: 'ga4',
            component: 'ga4',
            allowHosts: ['127.0.0.1'],
            settings: { measurementId: 'G-PROXY123', endpoint: `${ga4.url}/g/collect` },
          },
        ],
      },
    ],
  });
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  port = (gateway.app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await gateway.close();
  origin.close();
  await ga4.close();
  temp.cleanup();
});

describe('proxy mode in the browser', () => {
  it('injects the script into a page that has none; its pageview reaches GA4 through the gateway only', async () => {
    const { browser, close } = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
    try {
      const page = await browser.newPage();
      const hosts = new Set<string>();
      page.on('request', (request) => hosts.add(new URL(request.url()).hostname));
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`http://${HOST}:${port}/article`);
      expect(await page.locator('script[src="/balise/s.js"]').count()).toBe(1);
      await until(() => ga4.received.length > 0, 'the pageview at GA4');
      const hit = new URL(ga4.received[0]!.url, 'http://x');
      expect(hit.searchParams.get('dl')).toBe(`http://${HOST}:${port}/article`);
      expect(hit.searchParams.get('dt')).toBe('Origin page');
      expect([...hosts]).toEqual([HOST]);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('shows each upstream and the protection in Detections, and switches "under attack" from there', async () => {
    const { browser, close } = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
    try {
      const page = await browser.newPage();
      const problems = watchProblems(page);
      page.setDefaultTimeout(10_000);
      await page.goto(`http://${HOST}:${port}/balise/ui/`);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.click('nav a:text("Detections")');
      const section = page.locator('[data-proxy]');
      await section.locator('h3').waitFor();
      expect(await section.locator('td:text("healthy")').count()).toBe(1);
      await page.click(`[data-under-attack="${HOST}"]`);
      await page.waitForSelector('text=Under attack: every network gets the small bucket.');
      const state = await fetch(`http://127.0.0.1:${port}/balise/api/v1/proxy`, {
        headers: {
          cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; '),
          host: HOST,
        },
      });
      expect(((await state.json()) as { sites: { underAttack: boolean }[] }).sites[0]!.underAttack).toBe(
        true,
      );
      await page.click(`[data-under-attack="${HOST}"]`);
      await page.waitForSelector('text=Back to the usual limits.');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
