import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import * as ga4 from '../src/tools/builtins/ga4.js';
import * as meta from '../src/tools/builtins/meta.js';
import * as webhook from '../src/tools/builtins/webhook.js';
import { manifestSchema } from '../src/tools/manifest.js';
import { Outbox, type BatchRule, type Delivery, type EgressRecord } from '../src/tools/outbox.js';
import {
  acceptedEvents,
  eventsIn,
  startFakeGa4,
  startFakeMeta,
  startWebhookReceiver,
  type FakeVendor,
} from './fake-vendors.js';
import { tempDir } from './helpers.js';

const temp = tempDir('balise-batch-');
const vendors: FakeVendor[] = [];
afterAll(async () => {
  for (const vendor of vendors) await vendor.close();
  temp.cleanup();
});

let opened = 0;
/** A real outbox (journal on disk, real HTTP) whose tools batch as their built-in manifests say. */
async function outboxFor(rules: Record<string, BatchRule>, outbox: Record<string, unknown> = {}) {
  const settings = parseConfig(
    {
      outbox: { baseDelayMs: 20, maxDelayMs: 50, batchWindowMs: 50, ...outbox },
      sites: [{ host: 'www.example.fr' }],
    },
    { env: {} },
  ).outbox;
  const log: EgressRecord[] = [];
  const box = await Outbox.open(join(temp.dir, `outbox-${++opened}`), settings, {
    log: (record) => log.push(record),
  });
  box.setBatching((_site, tool) => rules[tool]);
  return { box, log };
}

function ruleOf(module: { manifest: unknown }, extra: Partial<BatchRule> = {}): BatchRule {
  const batch = manifestSchema.parse(module.manifest).batch!;
  return {
    field: batch.field,
    max: batch.max,
    maxBytes: batch.maxBytes ?? 262_144,
    vary: batch.vary,
    ...extra,
  };
}

function delivery(tool: string, n: number, url: string, body: unknown, headers = {}): Delivery {
  return {
    id: `event-${n}:${tool}:0`,
    site: 'www.example.fr',
    tool,
    eventId: `event-${n}`,
    request: {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    },
    policy: tool,
    operatorHosts: ['127.0.0.1'],
    createdAt: Date.now(),
    attempts: 0,
  };
}

const ga4Body = (client: string, n: number) => ({
  client_id: client,
  non_personalized_ads: true,
  events: [{ name: 'page_view', timestamp_micros: Date.now() * 1000, params: { n } }],
});

const metaBody = (n: number, time = Math.floor(Date.now() / 1000)) => ({
  data: [
    {
      event_name: 'PageView',
      event_time: time,
      event_id: `event-${n}`,
      action_source: 'website',
      event_source_url: 'https://www.example.fr/',
      user_data: { external_id: ['a'.repeat(64)], client_user_agent: 'Mozilla/5.0' },
    },
  ],
});

describe('batched deliveries', () => {
  it('sends one client’s GA4 events 25 at a time, in order, and another client’s apart', async () => {
    const vendor = await startFakeGa4();
    vendors.push(vendor);
    const { box, log } = await outboxFor({ ga4: ruleOf(ga4) });
    const url = `${vendor.url}/mp/collect?measurement_id=G-TEST1&api_secret=s`;
    const deliveries = Array.from({ length: 30 }, (_, i) => delivery('ga4', i, url, ga4Body('aaaa', i)));
    deliveries.push(delivery('ga4', 30, url, ga4Body('bbbb', 30)));
    await box.enqueue(deliveries);
    expect(await box.idle()).toBe(true);
    expect(vendor.received.map((r) => r.status)).toEqual([204, 204, 204]);
    const sizes = vendor.received.map((r) => eventsIn(r).length).sort((a, b) => a - b);
    expect(sizes).toEqual([1, 5, 25]);
    const clientA = vendor.received
      .map((r) => JSON.parse(r.body) as { client_id: string; events: { params: { n: number } }[] })
      .filter((b) => b.client_id === 'aaaa')
      .flatMap((b) => b.events.map((e) => e.params.n));
    expect(clientA).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // One egress row per request, with the deliveries it carried.
    expect(log.map((r) => [r.outcome, r.deliveries]).sort()).toEqual([
      ['sent', 1],
      ['sent', 25],
      ['sent', 5],
    ]);
    await box.close();
  });

  it('splits a batch the vendor refuses: the valid events are delivered, only the bad one is a dead letter', async () => {
    const vendor = await startFakeMeta();
    vendors.push(vendor);
    const { box, log } = await outboxFor({ meta: ruleOf(meta) });
    const url = `${vendor.url}/v21.0/1/events?access_token=t`;
    const deliveries = Array.from({ length: 6 }, (_, i) =>
      // Event 3 is dated a year ahead: Meta refuses the whole request it is in.
      delivery(
        'meta',
        i,
        url,
        metaBody(i, i === 3 ? Math.floor(Date.now() / 1000) + 365 * 86_400 : undefined),
      ),
    );
    await box.enqueue(deliveries);
    expect(await box.idle()).toBe(true);
    expect(vendor.received[0]).toMatchObject({ status: 400 });
    expect(eventsIn(vendor.received[0]!)).toHaveLength(6);
    expect(vendor.eventIds().sort()).toEqual(['event-0', 'event-1', 'event-2', 'event-4', 'event-5']);
    const dead = box.deadLetters();
    expect(dead.map((d) => d.delivery.id)).toEqual(['event-3:meta:0']);
    expect(dead[0]!.status).toBe(400);
    expect(log[0]).toMatchObject({ outcome: 'retry', status: 400, deliveries: 6 });
    expect(log[0]!.reason).toMatch(/sent one by one/);
    await box.close();
  });

  it('retries a whole batch on a 5xx and delivers each event once when the vendor is back', async () => {
    const vendor = await startFakeMeta();
    vendors.push(vendor);
    const { box } = await outboxFor({ meta: ruleOf(meta) });
    vendor.failNext(2, 503);
    const url = `${vendor.url}/v21.0/1/events?access_token=t`;
    await box.enqueue(Array.from({ length: 10 }, (_, i) => delivery('meta', i, url, metaBody(i))));
    expect(await box.idle()).toBe(true);
    expect(vendor.received.map((r) => [r.status, eventsIn(r).length])).toEqual([
      [503, 10],
      [503, 10],
      [200, 10],
    ]);
    expect(vendor.eventIds()).toHaveLength(10);
    expect(box.deadLetters()).toHaveLength(0);
    await box.close();
  });

  it('logs the names of every field a batch carries, its later members’ included, and no value', async () => {
    const vendor = await startFakeMeta();
    vendors.push(vendor);
    const { box, log } = await outboxFor({ meta: ruleOf(meta) });
    const url = `${vendor.url}/v21.0/1/events?access_token=t`;
    const bought = {
      ...metaBody(2).data[0]!,
      event_name: 'Purchase',
      custom_data: { currency: 'EUR', value: 12 },
    };
    await box.enqueue([
      delivery('meta', 1, url, metaBody(1)),
      { ...delivery('meta', 2, url, { data: [bought] }), json: { data: [bought] } } as Delivery,
    ]);
    expect(await box.idle()).toBe(true);
    expect(vendor.received.map((r) => eventsIn(r).length)).toEqual([2]);
    expect(log).toHaveLength(1);
    expect(log[0]!.fields).toBe(
      'access_token,action_source,client_user_agent,currency,custom_data,data,event_id,event_name,event_source_url,event_time,external_id,user_data,value',
    );
    await box.close();
  });

  it('keeps batches under the byte limit', async () => {
    const vendor = await startFakeMeta();
    vendors.push(vendor);
    const bytes = JSON.stringify(metaBody(0)).length;
    const { box } = await outboxFor({ meta: ruleOf(meta, { maxBytes: bytes * 3 + 10 }) });
    const url = `${vendor.url}/v21.0/1/events?access_token=t`;
    await box.enqueue(Array.from({ length: 7 }, (_, i) => delivery('meta', i, url, metaBody(i))));
    expect(await box.idle()).toBe(true);
    expect(vendor.received.map((r) => eventsIn(r).length)).toEqual([3, 3, 1]);
    for (const r of vendor.received) expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(bytes * 3 + 10);
    await box.close();
  });

  it('signs each webhook request as it is sent (a batch gets a signature of its own body)', async () => {
    const vendor = await startWebhookReceiver('batch-secret');
    vendors.push(vendor);
    const settings = { url: `${vendor.url}/hook`, secret: 'batch-secret' };
    const { box } = await outboxFor({
      hook: ruleOf(webhook, { seal: (request) => webhook.seal(request, settings) }),
    });
    const deliveries = Array.from({ length: 4 }, (_, i) => {
      const body = JSON.stringify({ events: [{ id: `event-${i}` }] });
      const timestamp = '1700000000';
      return delivery('hook', i, settings.url, JSON.parse(body), {
        'x-balise-timestamp': timestamp,
        'x-balise-signature': webhook.webhookSignature('batch-secret', timestamp, body),
        'x-custom': 'kept',
      });
    });
    await box.enqueue(deliveries);
    expect(await box.idle()).toBe(true);
    expect(vendor.received.map((r) => r.status)).toEqual([200]);
    expect(acceptedEvents(vendor)).toEqual([0, 1, 2, 3].map((i) => ({ id: `event-${i}` })));
    const [request] = vendor.received;
    expect(request!.headers['x-custom']).toBe('kept');
    expect(Number(request!.headers['x-balise-timestamp'])).toBeGreaterThan(1700000000);
    await box.close();
  });

  it('sends each request as its component wrote it when the seal fails', async () => {
    const vendor = await startWebhookReceiver('batch-secret');
    vendors.push(vendor);
    const url = `${vendor.url}/hook`;
    const { box, log } = await outboxFor({
      hook: ruleOf(webhook, {
        seal: () => {
          throw new Error('no key');
        },
      }),
    });
    const timestamp = '1700000000';
    await box.enqueue(
      Array.from({ length: 3 }, (_, i) => {
        const body = JSON.stringify({ events: [{ id: `event-${i}` }] });
        return delivery('hook', i, url, JSON.parse(body), {
          'x-balise-timestamp': timestamp,
          'x-balise-signature': webhook.webhookSignature('batch-secret', timestamp, body),
        });
      }),
    );
    expect(await box.idle()).toBe(true);
    // Alone and with their own signatures: the receiver accepts each.
    expect(vendor.received.map((r) => [r.status, r.headers['x-balise-timestamp']])).toEqual([
      [200, timestamp],
      [200, timestamp],
      [200, timestamp],
    ]);
    expect(log[0]).toMatchObject({ outcome: 'retry', deliveries: 3 });
    expect(log[0]!.reason).toMatch(/not sealed \(no key\)/);
    await box.close();
  });

  it('signs a request its component left unsigned as it leaves, alone after its batch was refused too', async () => {
    const vendor = await startWebhookReceiver('batch-secret');
    vendors.push(vendor);
    const settings = { url: `${vendor.url}/hook`, secret: 'batch-secret' };
    const { box } = await outboxFor({
      hook: ruleOf(webhook, { seal: (request) => webhook.seal(request, settings) }),
    });
    // The receiver refuses the batch once (400): its members are then sent one by one.
    vendor.failNext(1, 400);
    await box.enqueue(
      Array.from({ length: 3 }, (_, i) => ({
        ...delivery('hook', i, settings.url, { events: [{ id: `event-${i}` }] }),
        sealAtSend: true,
      })),
    );
    expect(await box.idle()).toBe(true);
    expect(vendor.received.map((r) => [r.status, eventsIn(r).length])).toEqual([
      [400, 3],
      [200, 1],
      [200, 1],
      [200, 1],
    ]);
    for (const request of vendor.received) expect(request.headers['x-balise-signature']).toMatch(/^sha256=/);
    expect(box.deadLetters()).toHaveLength(0);
    await box.close();
  });

  it('never sends a request unsigned: its tool gone, it becomes a dead letter saying why', async () => {
    const vendor = await startWebhookReceiver('batch-secret');
    vendors.push(vendor);
    const { box, log } = await outboxFor({});
    await box.enqueue([
      { ...delivery('hook', 1, `${vendor.url}/hook`, { events: [{ id: 'event-1' }] }), sealAtSend: true },
    ]);
    expect(await box.idle()).toBe(true);
    expect(vendor.received).toHaveLength(0);
    const [letter] = box.deadLetters();
    expect(letter?.message).toBe('not signed (its tool is no longer configured): not sent');
    expect(log).toMatchObject([{ outcome: 'blocked', tool: 'hook', deliveries: 1 }]);
    await box.close();
  });

  it('does not hold back a request that cannot be batched (no JSON body with the field)', async () => {
    const vendor = await startFakeGa4();
    vendors.push(vendor);
    const { box } = await outboxFor({ ga4: ruleOf(ga4) }, { batchWindowMs: 10_000 });
    const hit = (n: number): Delivery => ({
      ...delivery('ga4', n, '', {}),
      request: {
        url: `${vendor.url}/g/collect?v=2&tid=G-TEST1&cid=abc&en=page_view&dl=https%3A%2F%2Fwww.example.fr%2F${n}`,
        method: 'POST',
        headers: {},
        body: null,
      },
    });
    await box.enqueue([hit(1), hit(2)]);
    expect(await box.idle(5_000)).toBe(true);
    expect(vendor.received.map((r) => r.status)).toEqual([204, 204]);
    await box.close();
  });

  it('sends at once, one by one, without a batch rule (and waits for no window)', async () => {
    const vendor = await startFakeMeta();
    vendors.push(vendor);
    const { box } = await outboxFor({}, { batchWindowMs: 10_000 });
    const url = `${vendor.url}/v21.0/1/events?access_token=t`;
    await box.enqueue(Array.from({ length: 3 }, (_, i) => delivery('meta', i, url, metaBody(i))));
    expect(await box.idle(5_000)).toBe(true);
    expect(vendor.received.map((r) => eventsIn(r).length)).toEqual([1, 1, 1]);
    await box.close();
  });

  it('never sends from an outbox opened only to read or edit its journal (the CLI)', async () => {
    const vendor = await startFakeMeta();
    vendors.push(vendor);
    const dir = join(temp.dir, 'read-only');
    const settings = parseConfig({ sites: [{ host: 'www.example.fr' }] }, { env: {} }).outbox;
    const box = await Outbox.open(dir, settings, { deliver: false });
    const url = `${vendor.url}/v21.0/1/events?access_token=t`;
    await box.enqueue([delivery('meta', 1, url, metaBody(1))]);
    await new Promise((r) => setTimeout(r, 300));
    expect(vendor.received).toHaveLength(0);
    expect(box.pendingCount).toBe(1);
    await box.close();
    // The gateway's outbox on the same journal sends it.
    const gateway = await Outbox.open(dir, settings);
    expect(await gateway.idle()).toBe(true);
    expect(vendor.eventIds()).toEqual(['event-1']);
    await gateway.close();
  });
});
