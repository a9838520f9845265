import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import type { DebugTrace } from '../src/tools/debug.js';
import { launchChromium } from './chromium.js';
import { startFakeMeta, startWebhookReceiver, type FakeVendor } from './fake-vendors.js';
import { startGateway, tempDir } from './helpers.js';

// Debug mode in real Chromium: with the site's debug key set by balise.debug(key), the visitor's
// own events come back explained in the console — which triggers matched, which tools fired,
// what each sent after privacy with its secrets masked. Without the key, nothing changes.
const KEY = 'dbg_Key-0123456789abcdef';
const META_TOKEN = 'EAAsecretAccessToken123';
const HOOK_SECRET = 'whsec-debug-1234567890';
const temp = tempDir('balise-debug-');
let gateway: Gateway;
let page: Server;
let pageUrl: string;
let meta: FakeVendor;
let hook: FakeVendor;

beforeAll(async () => {
  meta = await startFakeMeta();
  hook = await startWebhookReceiver(HOOK_SECRET);
  gateway = await startGateway(temp.dir, {
    sites: [
      {
        host: 'localhost',
        aliases: ['127.0.0.1'],
        debugKey: KEY,
        triggers: [{ id: 'signups', match: { type: 'track', name: 'signup' } }],
        tools: [
          {
            id: 'hook',
            component: 'webhook',
            allowHosts: ['127.0.0.1'],
            settings: { url: `${hook.url}/hook`, secret: HOOK_SECRET },
            actions: [{ trigger: 'signups', fields: { origin: 'debug-test' } }],
          },
          {
            id: 'capi',
            component: 'meta',
            region: 'any',
            allowHosts: ['127.0.0.1'],
            settings: { pixelId: '1234567890', accessToken: META_TOKEN, endpoint: meta.url },
          },
        ],
      },
    ],
  });
  const gatewayUrl = (await gateway.app.listen({ host: '127.0.0.1', port: 0 })).replace(
    '127.0.0.1',
    'localhost',
  );
  page = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><title>Debug</title><script async src="${gatewayUrl}/balise/s.js"></script>`,
    );
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  // The page and the gateway share a host (first-party), as in production.
  pageUrl = `http://localhost:${(page.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await gateway.close();
  page.close();
  await Promise.all([meta.close(), hook.close()]);
  temp.cleanup();
});

/** Debug traces the page logs to its console. */
function traces(tab: Page): DebugTrace[] {
  const found: DebugTrace[] = [];
  tab.on('console', (message: ConsoleMessage) => {
    if (!message.text().startsWith('[balise debug]')) return;
    void message
      .args()[3]!
      .jsonValue()
      .then((trace) => found.push(trace as DebugTrace));
  });
  return found;
}

const settle = () => new Promise((r) => setTimeout(r, 600));

describe('debug mode', () => {
  it('explains the visitor’s own events only with the site’s key, set from the script, never from a URL', async () => {
    const { browser, close } = await launchChromium();
    try {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const seen = traces(tab);
      // A key in the URL is not a key.
      await tab.goto(`${pageUrl}/?balise_debug=${KEY}`);
      await tab.waitForFunction('window.balise');
      await tab.evaluate('balise.track("signup", { plan: "pro" })');
      await settle();
      expect(seen).toEqual([]);
      // A wrong key changes nothing either.
      await tab.evaluate('balise.debug("wrong-key-0123456789xyz"); balise.track("signup", { plan: "pro" })');
      await settle();
      expect(seen).toEqual([]);

      await tab.evaluate(`zaraz.debug(${JSON.stringify(KEY)})`);
      await tab.evaluate('balise.track("signup", { plan: "pro" })');
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const [trace] = seen;
      expect(trace!.event).toMatchObject({ type: 'event', name: 'signup' });
      expect(trace!.triggers).toEqual({ signups: true });
      const byTool = Object.fromEntries(trace!.tools.map((t) => [t.tool, t]));
      expect(byTool.hook).toMatchObject({ outcome: 'sent', fired: ['event'] });
      expect(byTool.capi).toMatchObject({ outcome: 'sent', fired: ['event'] });
      // As queued after privacy, secrets masked (Meta's access token); the webhook's request is
      // signed only as it leaves the outbox, so the trace shows none of its signature.
      const hookRequest = byTool.hook!.requests[0]!;
      expect(hookRequest.headers['x-balise-signature']).toBeUndefined();
      expect(hookRequest.headers['content-type']).toBe('application/json');
      expect(JSON.parse(hookRequest.body!)).toMatchObject({
        events: [{ name: 'signup', properties: { plan: 'pro', origin: 'debug-test' } }],
      });
      const metaRequest = byTool.capi!.requests[0]!;
      expect(metaRequest.url).toContain('access_token=••••');
      const shown = JSON.stringify(trace);
      for (const secret of [META_TOKEN, HOOK_SECRET, KEY]) expect(shown).not.toContain(secret);

      // A pageview: no trigger, so the hook's action does not fire.
      seen.length = 0;
      await tab.evaluate('history.pushState({}, "", "/next")');
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const pageTrace = seen[0]!;
      expect(pageTrace.event.type).toBe('pageview');
      expect(pageTrace.tools.find((t) => t.tool === 'hook')).toMatchObject({
        outcome: 'no action fired',
        fired: [],
      });

      // Off again.
      await tab.evaluate('balise.debug()');
      seen.length = 0;
      await tab.evaluate('balise.track("signup", { plan: "pro" })');
      await settle();
      expect(seen).toEqual([]);
      await context.close();
    } finally {
      await close();
    }
  });
});
