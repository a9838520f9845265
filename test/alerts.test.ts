import { createServer, type IncomingMessage } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken } from '../src/api/auth.js';
import { signAlert } from '../src/alerts/notify.js';
import { parseConfig } from '../src/config/load.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import { tempDir } from './helpers.js';
import { freshDatabase, storeKinds, storeSettings, type StoreKind } from './stores.js';

const SECRET = 'a-webhook-secret-of-32-characters';
const NOW = Date.UTC(2026, 11, 5, 12, 0);
const MINUTE = 60_000;
const temp = tempDir('balise-alerts-');
// One store kind per run: DuckDB in `npm test`, ClickHouse in `npm run test:clickhouse`.
const KIND: StoreKind = storeKinds()[0] ?? 'duckdb';
const DATABASE = freshDatabase();
const { token, hash } = newToken();
const hooks: { headers: IncomingMessage['headers']; body: string }[] = [];
const mails: string[] = [];
const hookStatus = 200;
const hookServer = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    hooks.push({ headers: request.headers, body });
    response.writeHead(hookStatus).end();
  });
});
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, _session, callback) {
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    stream.on('end', () => {
      mails.push(text);
      callback();
    });
  },
});

function configInput(port: number, smtpPort: number, maxPerHour = 30) {
  return {
    server: { node: 'gw-1' },
    store: { ...storeSettings(KIND, temp.dir, DATABASE), flushMs: 50 },
    admin: { tokens: [hash] },
    alerts: {
      dir: join(temp.dir, 'alerts'),
      detectors: ['anomalies', 'attacks'],
      maxPerHour,
      webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }],
      email: {
        smtp: { host: '127.0.0.1', port: smtpPort },
        from: 'balise@example.fr',
        to: ['ops@example.fr'],
      },
    },
    sites: [{ host: 'www.example.fr', timezone: 'Europe/Paris' }],
  };
}

function config(port: number, smtpPort: number, maxPerHour = 30) {
  return parseConfig(configInput(port, smtpPort, maxPerHour), { env: {} });
}

/** Pageviews per minute: a steady trickle for a day and a half, ten minutes at twelve times it 40 minutes ago. */
function traffic(): EventRow[] {
  const rows: EventRow[] = [];
  for (let m = 2000; m >= 2; m--) {
    const ts = NOW - m * MINUTE;
    const count = m <= 40 && m > 30 ? 60 : 4 + (m % 3);
    for (let k = 0; k < count; k++)
      rows.push(
        blankRow({
          id: deterministicId(ts, `m${m}:${k}`),
          ts: ts + k * 100,
          site: 'www.example.fr',
          type: 'pageview',
          source: 'import',
          path: '/',
          // What a visitor's event would carry: none of it may reach an alert.
          visitorHash: '9'.repeat(19),
        }),
      );
  }
  return rows;
}

let gateway: Gateway;
let hookPort = 0;
let smtpPort = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  hookPort = (hookServer.address() as AddressInfo).port;
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  gateway = await createGateway(config(hookPort, smtpPort), {
    alerts: false,
    logError: (l) => console.error(l),
  });
  await gateway.store.append(traffic());
});

afterAll(async () => {
  await gateway?.close();
  hookServer.close();
  await new Promise<void>((resolve) => smtp.close(resolve));
  temp.cleanup();
});

describe(`live anomaly detection and alerts (on ${KIND})`, () => {
  it('finds the burst on the per-minute series once, then its end, and says so in signed webhooks and e-mails', async () => {
    // The first look learns the series' history and alerts nothing of it (turning alerts on does
    // not e-mail last month's anomalies); the next one judges what came since.
    await gateway.alerts!.look(NOW - 45 * MINUTE);
    expect(gateway.alerts!.log.list()).toEqual([]);
    await gateway.alerts!.look(NOW);
    const found = gateway.alerts!.log.list({ detector: 'anomalies' }).reverse();
    expect(found.map((a) => [a.state, a.subject])).toEqual([
      ['start', 'pageviews per minute'],
      ['end', 'pageviews per minute'],
    ]);
    const start = found[0]!;
    // The burst began 40 minutes before NOW (11:20 UTC, 12:20 in Paris); found within its first minutes.
    expect(Date.parse(start.time) - (NOW - 40 * MINUTE)).toBeLessThanOrEqual(3 * MINUTE);
    expect(start.text).toMatch(/^www\.example\.fr: pageviews per minute 60 at 2026-12-05 12:2\d local, /);
    expect(found[1]!.text).toMatch(/back to usual at 2026-12-05 12:\d\d local, after \d+ min$/);
    expect(found.every((a) => a.notified === 'sent')).toBe(true);

    expect(hooks).toHaveLength(2);
    for (const hook of hooks) {
      const timestamp = String(hook.headers['x-balise-timestamp']);
      expect(hook.headers['x-balise-signature']).toBe(signAlert(SECRET, timestamp, hook.body));
      const body = JSON.parse(hook.body) as Record<string, unknown>;
      expect(body.type).toBe('balise.alert');
      // Aggregates only: no visitor, address, agent or page of anyone.
      // An allow-list: nothing but these (aggregates, the sentence) may appear.
      expect(Object.keys(body).sort()).toEqual(
        [
          'at',
          'detector',
          'episode',
          'id',
          'kind',
          'score',
          'site',
          'state',
          'subject',
          'text',
          'time',
          'type',
        ]
          .filter((k) => k in body)
          .sort(),
      );
      expect(hook.body).not.toContain('9'.repeat(19));
    }
    expect(mails).toHaveLength(2);
    expect(mails[0]).toContain('Subject: [Balise] anomalies on www.example.fr');
    expect(mails[0]).toContain('pageviews per minute 60');
  });

  it('answers GET /api/v1/alerts, newest first, with filters, and refuses bad ones with a stable code', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const all = await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/alerts', headers: auth });
    expect(all.statusCode).toBe(200);
    const alerts = all.json<{ alerts: { state: string }[] }>().alerts;
    expect(alerts.map((a) => a.state)).toEqual(['end', 'start']);
    const none = await gateway.app.inject({
      method: 'GET',
      url: '/balise/api/v1/alerts?site=other.example',
      headers: auth,
    });
    expect(none.json<{ alerts: unknown[] }>().alerts).toEqual([]);
    for (const query of ['detector=spikes', 'limit=0', 'since=yesterday', 'colour=red']) {
      const bad = await gateway.app.inject({
        method: 'GET',
        url: `/balise/api/v1/alerts?${query}`,
        headers: auth,
      });
      expect(bad.statusCode, query).toBe(400);
      expect(bad.json<{ error: { code: string } }>().error.code).toBe('invalid_query');
    }
    // An operator's note on the start: kept, shown with the alert, refused when not one short line.
    const id = gateway.alerts!.log.list({ detector: 'anomalies' }).at(-1)!.id;
    const noted = await gateway.app.inject({
      method: 'POST',
      url: `/balise/api/v1/alerts/${id}/note`,
      headers: auth,
      payload: { text: 'newsletter sent at 12:15' },
    });
    expect(noted.statusCode).toBe(200);
    expect(noted.json<{ note: { text: string } }>().note.text).toBe('newsletter sent at 12:15');
    for (const [url, payload, status, code] of [
      [`/balise/api/v1/alerts/${id}/note`, { text: 'x'.repeat(501) }, 400, 'invalid_request'],
      [`/balise/api/v1/alerts/${id}/note`, { text: 'two\nlines' }, 400, 'invalid_request'],
      [`/balise/api/v1/alerts/${id}/note`, {}, 400, 'invalid_request'],
      ['/balise/api/v1/alerts/nope/note', { text: 'x' }, 404, 'no_such_alert'],
    ] as const) {
      const bad = await gateway.app.inject({ method: 'POST', url, headers: auth, payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(status);
      expect(bad.json<{ error: { code: string } }>().error.code).toBe(code);
    }
    const anonymous = await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/alerts' });
    expect(anonymous.statusCode).toBe(401);
    const metrics = await gateway.app.inject({ method: 'GET', url: '/balise/metrics', headers: auth });
    expect(metrics.body).toContain('balise_alerts_total{detector="anomalies"} 2');
    expect(metrics.body).toContain('balise_alert_notifications_total{outcome="sent"} 2');
  });

  it('after a restart, goes on where it stopped: the same burst is not alerted twice, the log is kept', async () => {
    expect(existsSync(join(temp.dir, 'alerts', 'detectors.json'))).toBe(true);
    await gateway.close();
    gateway = await createGateway(config(hookPort, smtpPort), {
      alerts: false,
      logError: (l) => console.error(l),
    });
    await gateway.alerts!.look(NOW + 5 * MINUTE);
    const kept = gateway.alerts!.log.list({ detector: 'anomalies' });
    expect(kept).toHaveLength(2);
    expect(kept[1]!.note?.text).toBe('newsletter sent at 12:15');
    expect(hooks).toHaveLength(2);
  });

  it('a burst of requests on a path is an attack: one start while it lasts, one end after the quiet minutes', async () => {
    const at = NOW + 20 * MINUTE;
    const rows: EventRow[] = [];
    for (let m = 10; m >= 1; m--)
      rows.push(
        blankRow({
          id: deterministicId(at - m * MINUTE, `r${m}`),
          ts: at - m * MINUTE,
          site: 'www.example.fr',
          type: 'request',
          source: 'import',
          path: '/login',
        }),
      );
    for (let k = 0; k < 300; k++)
      rows.push(
        blankRow({
          id: deterministicId(at - 3 * MINUTE, `b${k}`),
          ts: at - 3 * MINUTE + Math.floor(k / 100) * 1000 + (k % 100),
          site: 'www.example.fr',
          type: 'request',
          source: 'import',
          path: '/login',
        }),
      );
    await gateway.store.append(rows);
    await gateway.alerts!.look(at);
    await gateway.alerts!.look(at + MINUTE);
    let attacks = gateway.alerts!.log.list({ detector: 'attacks' });
    expect(attacks.map((a) => [a.state, a.subject])).toEqual([['start', '/login']]);
    expect(attacks[0]!.text).toMatch(/rps peak/);
    await gateway.alerts!.look(at + 30 * MINUTE);
    attacks = gateway.alerts!.log.list({ detector: 'attacks' });
    expect(attacks.map((a) => a.state)).toEqual(['end', 'start']);
  });

  it("traffic moving between serving nodes is a shift: alerted once, by node, with the detector's sentence", async () => {
    const at = NOW + 24 * 60 * MINUTE;
    const rows: EventRow[] = [];
    // The last hour in 15-minute buckets: LHR serves 90 % of the first half, CDG 90 % of the second.
    for (let b = 0; b < 4; b++)
      for (let k = 0; k < 40; k++) {
        const ts = at - 60 * MINUTE + b * 15 * MINUTE + k * 1000;
        const node = b < 2 === k < 36 ? 'LHR' : 'CDG';
        rows.push(
          blankRow({
            id: deterministicId(ts, `n${b}:${k}`),
            ts,
            site: 'www.example.fr',
            type: 'request',
            source: 'import',
            node,
            path: '/',
          }),
        );
      }
    await gateway.store.append(rows);
    await gateway.close();
    gateway = await createGateway(
      parseConfig(
        {
          ...configInput(hookPort, smtpPort),
          alerts: { ...configInput(hookPort, smtpPort).alerts, detectors: ['shifts'] },
        },
        { env: {} },
      ),
      { alerts: false },
    );
    await gateway.alerts!.look(at);
    await gateway.alerts!.look(at + MINUTE);
    const shifts = gateway.alerts!.log.list({ detector: 'shifts' });
    expect(shifts.map((a) => [a.state, a.subject])).toEqual([['start', 'node LHR → CDG']]);
    expect(shifts[0]!.text).toMatch(
      /^www\.example\.fr: .* local: \d+(\.\d)?% of traffic moved by node; LHR 90% → 10%, CDG 10% → 90%$/,
    );
  });

  it('rate-limits notifications: over maxPerHour an alert is recorded, marked rate_limited, and not sent', async () => {
    await gateway.close();
    gateway = await createGateway(config(hookPort, smtpPort, 1), { alerts: false });
    const before = hooks.length;
    const at = NOW + 120 * MINUTE;
    const rows: EventRow[] = [];
    for (const path of ['/a', '/b'])
      for (let k = 0; k < 300; k++)
        rows.push(
          blankRow({
            id: deterministicId(at - 2 * MINUTE, `${path}${k}`),
            ts: at - 2 * MINUTE + Math.floor(k / 100) * 1000 + (k % 100),
            site: 'www.example.fr',
            type: 'request',
            source: 'import',
            path,
          }),
        );
    await gateway.store.append(rows);
    await gateway.alerts!.look(at);
    const started = gateway
      .alerts!.log.list({ detector: 'attacks', since: at - 5 * MINUTE })
      .filter((a) => a.state === 'start');
    expect(started.map((a) => a.notified).sort()).toEqual(['rate_limited', 'sent']);
    expect(hooks.length - before).toBe(1);
  });
});
