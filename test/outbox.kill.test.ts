import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acceptedEvents, startWebhookReceiver } from './fake-vendors.js';
import { startChild, loadUntil } from './child.js';
import { tempDir } from './helpers.js';

const temp = tempDir('balise-outbox-kill-');
afterAll(() => temp.cleanup());

describe('the outbox across kill -9 and a vendor outage', () => {
  it('delivers every acknowledged event once the vendor recovers (deduplicated by event id)', async () => {
    const receiver = await startWebhookReceiver('kill-secret');
    receiver.down(503);
    const configPath = join(temp.dir, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: kill-test, rateLimit: { perIpPerMinute: 1000000 } }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 20 }',
        'outbox: { baseDelayMs: 50, maxDelayMs: 300, maxAttempts: 100, timeoutMs: 2000 }',
        'sites:',
        '  - host: www.example.fr',
        '    aliases: [127.0.0.1]',
        '    tools:',
        `      - { id: hook, component: webhook, allowHosts: [127.0.0.1], settings: { url: "${receiver.url}/hook", secret: kill-secret } }`,
      ].join('\n'),
    );
    const first = await startChild(configPath);
    let killed = false;
    const live = new Set<number>();
    const loading = loadUntil(first.url, 8, () => killed, live);
    // Load for at least 1.2 s and until enough events are acknowledged (a busy machine is slower).
    const started = Date.now();
    while (Date.now() - started < 1200 || (live.size <= 60 && Date.now() - started < 15_000))
      await new Promise((resolve) => setTimeout(resolve, 50));
    const exit = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    killed = true;
    await exit;
    const acked = await loading;
    expect(acked.size).toBeGreaterThan(50);
    // Nothing got through while the vendor was down.
    expect(receiver.received.every((r) => r.status === 503)).toBe(true);

    receiver.recover();
    const second = await startChild(configPath);
    const delivered = () => {
      const byId = new Map<string, number>();
      for (const event of acceptedEvents(receiver) as { id: string; properties: { n: number } }[])
        byId.set(event.id, event.properties.n);
      return byId;
    };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && delivered().size < acked.size)
      await new Promise((r) => setTimeout(r, 100));
    const byId = delivered();
    const numbers = new Set(byId.values());
    for (const n of acked) expect(numbers.has(n), `event ${n}`).toBe(true);
    // One delivery per event id, one event id per acknowledged event.
    expect(byId.size).toBe(numbers.size);
    const exit2 = new Promise((resolve) => second.child.once('exit', resolve));
    second.child.kill('SIGTERM');
    await exit2;
    await receiver.close();
  }, 60_000);
});
