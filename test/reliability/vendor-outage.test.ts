import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../child.js';
import { acceptedEvents, startFakeMeta, startWebhookReceiver } from '../fake-vendors.js';
import { tempDir } from '../helpers.js';
import { postLoop, stopChild } from './load.js';

// Ten minutes by default, as the fault suite promises; BALISE_VENDOR_DOWN_S shortens it while
// working on the outbox.
const DOWN_S = Number(process.env.BALISE_VENDOR_DOWN_S ?? 600);
const temp = tempDir();
afterAll(() => temp.cleanup());

describe('a vendor outage', () => {
  it(
    `delivers every acknowledged event once both vendors are back after ${DOWN_S} s down, across a kill -9`,
    async () => {
      const hook = await startWebhookReceiver('outage-secret');
      const meta = await startFakeMeta();
      hook.down(503);
      meta.down(503);
      const configPath = join(temp.dir, 'balise.yaml');
      writeFileSync(
        configPath,
        [
          'server: { host: 127.0.0.1, port: 0, node: outage, rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
          'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 100 }',
          // Retries back off up to 20 s (the default, 10 min, would make the test wait as long after).
          'outbox: { baseDelayMs: 1000, maxDelayMs: 20000, maxAttempts: 100, timeoutMs: 2000 }',
          'sites:',
          '  - host: www.example.fr',
          '    aliases: [127.0.0.1]',
          '    tools:',
          `      - { id: hook, component: webhook, allowHosts: [127.0.0.1], settings: { url: "${hook.url}/hook", secret: outage-secret } }`,
          `      - { id: meta, component: meta, region: any, allowHosts: [127.0.0.1], settings: { pixelId: "42", accessToken: t, endpoint: "${meta.url}" } }`,
        ].join('\n'),
      );
      const acked = new Set<number>();
      // Requests that got no answer (in flight at the kill): their events may be durable and
      // delivered without ever having been acknowledged — allowed, and counted.
      let unanswered = 0;
      /** Each event the webhook accepted: its id and number. */
      const hookEvents = () => {
        const byId = new Map<string, number>();
        for (const event of acceptedEvents(hook) as { id: string; properties: { n: number } }[])
          byId.set(event.id, event.properties.n);
        return byId;
      };
      const allDelivered = () => {
        const byId = hookEvents();
        const numbers = new Set(byId.values());
        const metaIds = new Set(meta.eventIds());
        return [...acked].every((n) => numbers.has(n)) && [...byId.keys()].every((id) => metaIds.has(id));
      };
      // A steady trickle (about 40 events a second) for the whole outage, with a kill -9 halfway.
      for (const half of [0, 1]) {
        const gateway = await startChild(configPath);
        const load = postLoop(gateway.url, 4, {}, (event) => event, 100);
        await new Promise((resolve) => setTimeout(resolve, (DOWN_S * 1000) / 2));
        if (half === 0) expect(await stopChild(gateway.child, 'SIGKILL')).toBeNull();
        await load.stop();
        for (const n of load.acked) acked.add(n);
        unanswered += load.statuses.get(0) ?? 0;
        if (half === 1) {
          expect(hook.received.every((r) => r.status === 503)).toBe(true);
          hook.recover();
          meta.recover();
          const deadline = Date.now() + 120_000;
          while (Date.now() < deadline && !allDelivered())
            await new Promise((resolve) => setTimeout(resolve, 500));
          expect(await stopChild(gateway.child)).toBe(0);
        }
      }
      const byId = hookEvents();
      const deliveries = new Map<string, number>();
      for (const event of acceptedEvents(hook) as { id: string }[])
        deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
      const delivered = new Set(byId.values());
      const missing = [...acked].filter((n) => !delivered.has(n));
      const metaIds = new Set(meta.eventIds());
      const metaMissing = [...byId.keys()].filter((id) => !metaIds.has(id));
      const again = [...deliveries.values()].filter((count) => count > 1).length;
      const unacknowledged = [...delivered].filter((n) => !acked.has(n)).length;
      console.log(
        `vendor outage: ${DOWN_S} s down, ${acked.size} acknowledged; webhook got ${byId.size} (${missing.length} missing, ` +
          `${unacknowledged} durable but unanswered at the kill, ${again} sent again after the kill, deduplicated by event id); ` +
          `Meta got ${metaIds.size} (${metaMissing.length} missing)`,
      );
      expect(missing).toEqual([]);
      expect(metaMissing).toEqual([]);
      // One event id per event: nothing delivered under two ids, nothing invented.
      expect(byId.size).toBe(delivered.size);
      expect(unacknowledged).toBeLessThanOrEqual(unanswered);
      expect(metaIds.size).toBe(byId.size);
      await hook.close();
      await meta.close();
    },
    (DOWN_S + 300) * 1000,
  );
});
