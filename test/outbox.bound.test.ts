import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/api/auth.js';
import { parseConfig } from '../src/config/load.js';
import { createGateway } from '../src/gateway.js';
import { acceptedEvents, startWebhookReceiver } from './fake-vendors.js';
import { pageview, tempDir } from './helpers.js';

const TOKEN = 'bls_test_token_for_the_bound_1234567890';
const temp = tempDir('balise-outbox-bound-');
afterAll(() => temp.cleanup());

describe('the outbox bound (outbox.maxPending)', () => {
  it('refuses the events of a site with tools once its backlog is full (503 outbox_full, nothing kept), and accepts again once it drains', async () => {
    const hook = await startWebhookReceiver('bound-secret');
    hook.down(503);
    const gateway = await createGateway(
      parseConfig(
        {
          store: { kind: 'duckdb', path: join(temp.dir, 'balise.duckdb'), flushMs: 50 },
          outbox: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 100, maxPending: 10 },
          admin: { tokens: [hashToken(TOKEN)] },
          sites: [
            {
              host: 'www.example.fr',
              tools: [
                {
                  id: 'hook',
                  component: 'webhook',
                  allowHosts: ['127.0.0.1'],
                  settings: { url: `${hook.url}/hook`, secret: 'bound-secret' },
                },
              ],
            },
            { host: 'plain.example.fr' },
          ],
        },
        { env: {} },
      ),
    );
    const send = (host: string, n: number) =>
      gateway.app.inject({
        method: 'POST',
        url: '/balise/e',
        headers: { host, 'content-type': 'application/json' },
        payload: { events: [pageview({ location: `https://${host}/page-${n}` })] },
      });
    const accepted = async () =>
      (JSON.parse((await gateway.app.inject({ url: '/balise/healthz' })).body) as { accepted: number })
        .accepted;
    try {
      const statuses: number[] = [];
      for (let n = 0; n < 15; n++) statuses.push((await send('www.example.fr', n)).statusCode);
      // One delivery per event: ten wait (the vendor is down), then the site's events are refused.
      expect(statuses).toEqual([...Array<number>(10).fill(204), ...Array<number>(5).fill(503)]);
      const refused = await send('www.example.fr', 15);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'outbox_full' } });
      // Nothing of a refused request is kept; a site without tools is not held back.
      expect(await accepted()).toBe(10);
      expect((await send('plain.example.fr', 0)).statusCode).toBe(204);
      expect(await accepted()).toBe(11);
      const metrics = (
        await gateway.app.inject({ url: '/balise/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
      ).body;
      expect(metrics).toMatch(/balise_outbox_pending 10\b/);
      // The oldest of them has waited since it was made: its age grows while the vendor is down.
      const age = (text: string) => Number(/^balise_outbox_oldest_age_seconds (\S+)$/m.exec(text)?.[1]);
      const firstAge = age(metrics);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const laterAge = age(
        (await gateway.app.inject({ url: '/balise/metrics', headers: { authorization: `Bearer ${TOKEN}` } }))
          .body,
      );
      expect(firstAge).toBeGreaterThan(0);
      expect(laterAge - firstAge).toBeGreaterThanOrEqual(0.29);
      expect(laterAge).toBeLessThan(30);
      // Once the receiver has refused a request, its tool's window is at outbox.concurrency (4).
      for (let waited = 0; hook.received.length === 0 && waited < 5000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const refusing = (
        await gateway.app.inject({ url: '/balise/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
      ).body;
      expect(refusing).toMatch(/balise_outbox_window\{tool="hook"\} 4\b/);
      expect(refusing).toMatch(/balise_outbox_in_flight\{tool="hook"\} \d+\b/);

      hook.recover();
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && acceptedEvents(hook).length < 10)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const pages = (acceptedEvents(hook) as { page: { url: string } }[]).map((e) => e.page.url).sort();
      expect(pages).toEqual(Array.from({ length: 10 }, (_, n) => `https://www.example.fr/page-${n}`).sort());
      // Delivered: nothing waits, and the age says so.
      let drained = '';
      for (let waited = 0; waited < 5000; waited += 50) {
        drained = (
          await gateway.app.inject({ url: '/balise/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
        ).body;
        if (/^balise_outbox_pending 0$/m.test(drained)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(drained).toMatch(/^balise_outbox_oldest_age_seconds 0$/m);
      // Drained: the site's events are accepted again.
      const again = Date.now() + 5_000;
      let status = 0;
      while (Date.now() < again && (status = (await send('www.example.fr', 16)).statusCode) !== 204)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(status).toBe(204);
    } finally {
      await gateway.close();
      await hook.close();
    }
  });
});
