import { createServer } from 'node:http';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert-log.js';
import { Notifier } from '../src/alerts/notify.js';
import { parseConfig } from '../src/config/load.js';
import { createGateway } from '../src/gateway.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import { tempDir } from './helpers.js';

// The alerts' configuration, per-region detection, and webhook delivery against a real server
// (test/alerts.test.ts: the live detection end to end, with a webhook receiver and an SMTP server).
const SECRET = 'a-webhook-secret-of-32-characters';
const NOW = Date.UTC(2026, 11, 5, 12, 0);
describe('the alerts configuration', () => {
  it('refuses a short webhook secret and a bad e-mail address, naming the key', () => {
    expect(() =>
      parseConfig(
        {
          alerts: { webhooks: [{ url: 'https://h.example/x', secret: 'short' }] },
          sites: [{ host: 'a.example' }],
        },
        { env: {} },
      ),
    ).toThrow(/alerts\.webhooks\[0\]\.secret: must be at least 16 characters/);
    expect(() =>
      parseConfig(
        {
          alerts: { email: { smtp: { host: 'mail' }, from: 'nobody', to: ['ops@example.fr'] } },
          sites: [{ host: 'a.example' }],
        },
        { env: {} },
      ),
    ).toThrow(/alerts\.email\.from/);
  });

  it('lets only the named node alert when several gateways share a store', async () => {
    const other = tempDir('balise-alerts-node-');
    try {
      const g = await createGateway(
        parseConfig(
          {
            server: { node: 'gw-2' },
            store: { kind: 'duckdb', path: join(other.dir, 'b.duckdb') },
            alerts: { node: 'gw-1' },
            sites: [{ host: 'a.example' }],
          },
          { env: {} },
        ),
        { alerts: false },
      );
      expect(g.alerts).toBeNull();
      await g.close();
    } finally {
      other.cleanup();
    }
  });
});

describe('live anomaly detection per region', () => {
  it('watches the hourly series of each busy region: a region going silent is found, its neighbour is not', async () => {
    const dir = tempDir('balise-alerts-region-');
    const now = Date.UTC(2026, 11, 5, 12, 0);
    const open = (minCount: number) =>
      createGateway(
        parseConfig(
          {
            store: { kind: 'duckdb', path: join(dir.dir, 'r.duckdb') },
            alerts: { detectors: ['anomalies'], breakdowns: ['region'], minCount },
            sites: [{ host: 'www.example.fr', timezone: 'Europe/Paris' }],
          },
          { env: {} },
        ),
        { alerts: false },
      );
    let g = await open(100);
    try {
      const rows: EventRow[] = [];
      for (let h = 20 * 24; h >= 1; h--) {
        const ts = now - h * 3_600_000;
        for (const region of ['FR-IDF', 'FR-COR']) {
          // Corsica goes silent for the last six hours; Île-de-France carries on.
          const count = region === 'FR-COR' && h <= 6 ? 0 : 12 + (h % 3);
          for (let k = 0; k < count; k++)
            rows.push(
              blankRow({
                id: deterministicId(ts, `${region}${h}:${k}`),
                ts: ts + k * 1000,
                site: 'www.example.fr',
                type: 'pageview',
                source: 'import',
                country: 'FR',
                region,
              }),
            );
        }
      }
      await g.store.append(rows);
      // Under alerts.minCount (100 a bucket here), the same silence is not alerted.
      await g.alerts!.look(now - 8 * 3_600_000);
      await g.alerts!.look(now);
      expect(g.alerts!.log.list()).toEqual([]);
      await g.close();
      rmSync(join(dir.dir, 'r.duckdb.alerts'), { recursive: true });
      g = await open(10);
      // The first look learns the history (nothing alerted), the next judges the last hours.
      await g.alerts!.look(now - 8 * 3_600_000);
      expect(g.alerts!.log.list()).toEqual([]);
      await g.alerts!.look(now);
      const subjects = g.alerts!.log.list({ detector: 'anomalies' }).map((a) => `${a.state} ${a.subject}`);
      expect(subjects).toContain('start pageviews per hour in region FR-COR');
      expect(subjects.filter((s) => s.includes('FR-IDF'))).toEqual([]);
      const start = g
        .alerts!.log.list({ detector: 'anomalies' })
        .find((a) => a.subject === 'pageviews per hour in region FR-COR')!;
      expect(Date.parse(start.time)).toBeGreaterThanOrEqual(now - 6 * 3_600_000);
    } finally {
      await g.close();
      dir.cleanup();
    }
  });
});

describe('webhook delivery', () => {
  it('retries a 5xx, not a 4xx, and stops waiting when the gateway closes', async () => {
    const statuses: number[] = [];
    let received = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        received++;
        response.writeHead(statuses.shift() ?? 503).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const alertsConfig = parseConfig(
      {
        alerts: { webhooks: [{ url: `http://127.0.0.1:${port}/`, secret: SECRET }] },
        sites: [{ host: 'a.example' }],
      },
      { env: {} },
    ).alerts;
    const alert: Alert = {
      id: 'x',
      episode: 'attacks|a.example|/',
      state: 'start',
      detector: 'attacks',
      site: 'a.example',
      subject: '/',
      time: new Date(NOW).toISOString(),
      at: new Date(NOW).toISOString(),
      text: 'a.example/ 100 rps peak',
      notified: 'no_channel',
    };
    const lines: string[] = [];
    try {
      let notifier = new Notifier(alertsConfig, (line) => lines.push(line));
      statuses.push(503, 200);
      const started = Date.now();
      expect(await notifier.send(alert)).toBe('sent');
      expect(received).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);

      statuses.push(400);
      expect(await notifier.send(alert)).toBe('failed');
      expect(received).toBe(3);
      expect(lines.at(-1)).toMatch(/refused an alert \(400\)/);

      // Always 503: the first retry waits 1 s, 5 s, then 30 s — unless the notifier closes.
      notifier = new Notifier(alertsConfig, (line) => lines.push(line));
      const closing = Date.now();
      const pending = notifier.send(alert);
      await new Promise((resolve) => setTimeout(resolve, 200));
      notifier.close();
      expect(await pending).toBe('failed');
      expect(Date.now() - closing).toBeLessThan(1000);
    } finally {
      server.close();
    }
  });
});
