import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Outbox, type Delivery } from '../src/tools/outbox.js';
import { SendWindows } from '../src/tools/send-window.js';
import { acceptedEvents, startFakeGa4, type FakeVendor } from './fake-vendors.js';
import { tempDir } from './helpers.js';

// Each tool's window of requests in flight (src/tools/send-window.ts, docs/tools.md#durable-outbox):
// a far vendor gets more requests at once while a backlog waits, never more than
// outbox.maxConcurrency, fewer again when it refuses; a vendor that keeps up never more than
// outbox.concurrency.

const temp = tempDir('balise-window-');
const vendors: FakeVendor[] = [];
afterAll(async () => {
  for (const vendor of vendors) await vendor.close();
  temp.cleanup();
});

let opened = 0;
async function outboxWith(outbox: Record<string, unknown>) {
  const settings = parseConfig(
    { outbox: { baseDelayMs: 20, maxDelayMs: 40, ...outbox }, sites: [{ host: 'www.example.fr' }] },
    { env: {} },
  ).outbox;
  return Outbox.open(join(temp.dir, `outbox-${++opened}`), settings);
}

/** GA4 Measurement Protocol requests of `count` visitors (one client each: nothing batches). */
function visits(vendor: FakeVendor, from: number, count: number): Delivery[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return {
      id: `event-${n}:ga4:0`,
      site: 'www.example.fr',
      tool: 'ga4',
      eventId: `event-${n}`,
      request: {
        url: `${vendor.url}/mp/collect?measurement_id=G-WINDOW1&api_secret=s`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: `${n}.1765000000`,
          non_personalized_ads: true,
          events: [{ name: 'page_view', params: { n } }],
        }),
      },
      policy: 'ga4',
      operatorHosts: ['127.0.0.1'],
      createdAt: Date.now(),
      attempts: 0,
    };
  });
}

async function delivered(vendor: FakeVendor, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (acceptedEvents(vendor).length < count) {
    if (Date.now() > deadline) throw new Error(`${acceptedEvents(vendor).length} of ${count} delivered`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the outbox window', () => {
  it('opens for a far vendor while a backlog waits, up to maxConcurrency, and sends everything once', async () => {
    const vendor = await startFakeGa4(30);
    vendors.push(vendor);
    const box = await outboxWith({ concurrency: 2, maxConcurrency: 12 });
    const started = performance.now();
    await box.enqueue(visits(vendor, 0, 400));
    await delivered(vendor, 400);
    const seconds = (performance.now() - started) / 1000;
    // Two in flight at 30 ms each would take 6 s; the window opened, and stayed within its bound.
    expect(vendor.maxInFlight).toBeGreaterThan(8);
    expect(vendor.maxInFlight).toBeLessThanOrEqual(12);
    expect(seconds).toBeLessThan(4);
    const ids = acceptedEvents(vendor).map((e) => (e as { params: { n: number } }).params.n);
    expect(new Set(ids).size).toBe(400);
    expect(vendor.received.length).toBe(400);
    await box.close();
  });

  it('halves when the vendor refuses for now, back to concurrency, and opens again once it answers', async () => {
    const vendor = await startFakeGa4(10);
    vendors.push(vendor);
    const box = await outboxWith({ concurrency: 2, maxConcurrency: 16 });
    await box.enqueue(visits(vendor, 0, 200));
    await delivered(vendor, 200);
    const opened = box.windows.size('ga4');
    expect(opened).toBeGreaterThan(8);
    // Four refusals (the fifth in a row would open the circuit breaker for 30 s): 16 → 8 → 4 → 2 → 2.
    vendor.failNext(4, 429);
    await box.enqueue(visits(vendor, 200, 4));
    const deadline = Date.now() + 10_000;
    while (box.windows.size('ga4') > 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(box.windows.size('ga4')).toBe(2);
    await box.enqueue(visits(vendor, 204, 200));
    await delivered(vendor, 404);
    expect(box.windows.size('ga4')).toBeGreaterThan(8);
    expect(new Set(acceptedEvents(vendor).map((e) => JSON.stringify(e))).size).toBe(404);
    await box.close();
  });

  it('stays at concurrency for a vendor that keeps up (nothing waits)', async () => {
    const vendor = await startFakeGa4(5);
    vendors.push(vendor);
    const box = await outboxWith({ concurrency: 3, maxConcurrency: 64 });
    for (let n = 0; n < 30; n++) {
      await box.enqueue(visits(vendor, n, 1));
      await delivered(vendor, n + 1);
    }
    expect(box.windows.size('ga4')).toBe(3);
    expect(vendor.maxInFlight).toBe(1);
    await box.close();
  });

  it('holds a maxConcurrency equal to concurrency', async () => {
    const vendor = await startFakeGa4(20);
    vendors.push(vendor);
    const box = await outboxWith({ concurrency: 4, maxConcurrency: 4 });
    await box.enqueue(visits(vendor, 0, 120));
    await delivered(vendor, 120);
    expect(vendor.maxInFlight).toBe(4);
    expect(box.windows.size('ga4')).toBe(4);
    await box.close();
  });
});

describe('outbox.maxConcurrency', () => {
  it('is refused below outbox.concurrency, naming both', () => {
    expect(() =>
      parseConfig(
        { outbox: { concurrency: 8, maxConcurrency: 4 }, sites: [{ host: 'www.example.fr' }] },
        { env: {} },
      ),
    ).toThrow(/outbox\.maxConcurrency: must be at least outbox\.concurrency/);
    const outbox = parseConfig(
      { outbox: { concurrency: 8 }, sites: [{ host: 'www.example.fr' }] },
      { env: {} },
    ).outbox;
    expect([outbox.concurrency, outbox.maxConcurrency]).toEqual([8, 64]);
  });
});

describe('SendWindows', () => {
  it('opens by one per answer while others wait, halves on a failure, within its bounds', () => {
    const windows = new SendWindows(2, 5);
    expect(windows.size('t')).toBe(2);
    windows.answered('t', false);
    expect(windows.size('t')).toBe(2);
    for (let i = 0; i < 10; i++) windows.answered('t', true);
    expect(windows.size('t')).toBe(5);
    windows.failed('t');
    expect(windows.size('t')).toBe(2);
    windows.answered('t', true);
    windows.answered('t', true);
    windows.answered('t', true);
    expect(windows.size('t')).toBe(5);
    windows.failed('t');
    windows.failed('t');
    expect(windows.size('t')).toBe(2);
    expect(windows.size('other')).toBe(2);
  });

  it('counts requests in flight per tool and closes at the window', () => {
    const windows = new SendWindows(2, 4);
    windows.started('a');
    expect(windows.open('a')).toBe(true);
    windows.started('a');
    expect(windows.open('a')).toBe(false);
    expect(windows.open('b')).toBe(true);
    windows.answered('a', true);
    expect(windows.open('a')).toBe(true);
    windows.ended('a');
    windows.ended('a');
    windows.ended('a');
    expect(windows.sending('a')).toBe(0);
    expect(windows.entries()).toEqual([{ tool: 'a', size: 3, sending: 0 }]);
  });
});
