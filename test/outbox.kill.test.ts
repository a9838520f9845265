import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver } from './fake-vendors.js';
import { tempDir } from './helpers.js';

const temp = tempDir('balise-outbox-kill-');
afterAll(() => temp.cleanup());

function startChild(configPath: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${output}`)));
  });
}

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
        `      - { id: hook, component: webhook, settings: { url: "${receiver.url}/hook", secret: kill-secret } }`,
      ].join('\n'),
    );
    const first = await startChild(configPath);
    const acked = new Set<number>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (!killed) {
        const n = next++;
        try {
          const response = await fetch(`${first.url}/balise/e`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({
              eventType: 'track',
              name: 'load',
              location: 'https://www.example.fr/',
              payload: { n },
            }),
          });
          if (response.status === 204) acked.add(n);
        } catch {
          // in flight when the process died: not acknowledged
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const exit = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    killed = true;
    await exit;
    await Promise.all(workers);
    expect(acked.size).toBeGreaterThan(50);
    // Nothing got through while the vendor was down.
    expect(receiver.received.every((r) => r.status === 503)).toBe(true);

    receiver.recover();
    const second = await startChild(configPath);
    const delivered = () => {
      const byId = new Map<string, number>();
      for (const r of receiver.received)
        if (r.status === 200) {
          const body = JSON.parse(r.body) as { properties: { n: number } };
          byId.set(String(r.headers['x-balise-event-id']), body.properties.n);
        }
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
