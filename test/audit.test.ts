import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/api/auth.js';
import type { AuditReport } from '../src/audit/audit.js';
import { startWebhookReceiver } from './fake-vendors.js';
import { pageview, startGatewayFromFile, tempDir } from './helpers.js';

const temp = tempDir();
afterAll(() => temp.cleanup());
const TOKEN = 'bls_audit-test-token-0123456789abcdef';

function balise(...args: string[]) {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** A gateway from `yaml` that delivers one pageview of each site to its tools, then stops. */
async function traffic(dir: string, yaml: string, hosts: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { gateway } = await startGatewayFromFile(dir, yaml);
  for (const host of hosts) {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/balise/e',
      headers: { host, 'content-type': 'application/json' },
      payload: pageview({ location: `https://${host}/a` }),
    });
    expect(response.statusCode).toBe(204);
  }
  expect(await gateway.outbox.idle()).toBe(true);
  await gateway.close();
}

describe('balise audit', () => {
  it('meets every condition under cnil-proxy, with evidence from the egress log, in text, JSON and HTML', async () => {
    const dir = join(temp.dir, 'ok');
    const hook = await startWebhookReceiver('audit-secret');
    const yaml = `admin: { tokens: ['${hashToken(TOKEN)}'] }
sites:
  - host: www.example.fr
    tools:
      - { id: hook, component: webhook, allowHosts: [127.0.0.1], settings: { url: "${hook.url}/h", secret: audit-secret } }
  - host: www.plain.fr
`;
    await traffic(dir, yaml, ['www.example.fr']);
    await hook.close();
    const config = join(dir, 'balise.yaml');
    // The test helper overlays the store path; the CLI reads the file: point it at the same store.
    writeFileSync(config, `${readFileSync(config, 'utf8')}store: { kind: duckdb, path: ./balise.duckdb }\n`);
    const text = balise('audit', '--config', config, '--since', '1d');
    expect(text.code, text.out + text.err).toBe(0);
    expect(text.out).toContain('every condition met');
    expect(text.out).toMatch(
      /www\.example\.fr \/ hook: ip: hide; observed: 1 request\(s\) left, every one under a policy that meets it/,
    );
    expect(text.out).toMatch(/127\.0\.0\.1:\d+ \(the operator’s own \(allowHosts\)\): 1 sent/);
    // The names of the fields that left (the webhook's JSON keys), never their values.
    expect(text.out).toMatch(
      /www\.example\.fr \/ hook: dlp: mask; observed: .*; fields sent: .*\bevents\b.*\bvisitor\b/,
    );
    expect(text.out).not.toContain('Article 1');
    const json = balise('audit', '--config', config, '--format', 'json');
    const report = JSON.parse(json.out) as AuditReport;
    expect(report.ok).toBe(true);
    expect(report.conditions.map((c) => c.id)).toEqual([
      'ip_not_sent',
      'identifier_replaced',
      'external_referrer_removed',
      'url_parameters_removed',
      'fingerprinting_reworked',
      'no_cross_site_identifier',
      'no_other_identifying_data',
      'eu_hosting_and_transfers',
    ]);
    for (const condition of report.conditions) {
      expect(condition).toMatchObject({ ok: true });
      expect(condition.evidence.map((e) => `${e.site}/${e.tool ?? 'store'}`)).toEqual([
        'www.example.fr/store',
        'www.example.fr/hook',
        'www.plain.fr/store',
      ]);
    }
    const out = join(dir, 'audit.html');
    expect(balise('audit', '--config', config, '--format', 'html', '--out', out).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('Every condition is met.');
    expect(html).not.toMatch(/<script/i);
  });

  it('fails, names the failed conditions and exits 1 when a tool gets the IP, the User-Agent and a non-EU host', async () => {
    const dir = join(temp.dir, 'bad');
    const hook = await startWebhookReceiver('audit-secret');
    const yaml = `sites:
  - host: www.loose.fr
    privacy: { profile: custom, ip: keep, userAgent: keep, query: known-trackers }
    tools:
      - { id: hook, component: webhook, region: any, allowHosts: [127.0.0.1], settings: { url: "${hook.url}/h", secret: audit-secret } }
`;
    await traffic(dir, yaml, ['www.loose.fr']);
    await hook.close();
    const config = join(dir, 'balise.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}store: { kind: duckdb, path: ./balise.duckdb }\n`);
    const result = balise('audit', '--config', config, '--format', 'json');
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'audit failed: ip_not_sent, url_parameters_removed, fingerprinting_reworked, eu_hosting_and_transfers',
    );
    const report = JSON.parse(result.out) as AuditReport;
    const ip = report.conditions.find((c) => c.id === 'ip_not_sent')!;
    expect(ip.evidence.find((e) => e.tool === 'hook')).toMatchObject({
      ok: false,
      config: 'ip: keep',
      observed: expect.stringMatching(/^1 of 1 request\(s\) left under "hook region=any/) as unknown,
    });
    expect(balise('audit', '--config', config, '--since', 'forever').code).toBe(2);
  });

  it('answers over the API with a token only', async () => {
    const dir = join(temp.dir, 'api');
    mkdirSync(dir, { recursive: true });
    const { gateway } = await startGatewayFromFile(
      dir,
      `admin: { tokens: ['${hashToken(TOKEN)}'] }\nsites:\n  - host: www.example.fr\n`,
    );
    try {
      expect((await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/audit' })).statusCode).toBe(401);
      const response = await gateway.app.inject({
        method: 'GET',
        url: '/balise/api/v1/audit?since=7d',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json<AuditReport>()).toMatchObject({ ok: true, failed: [] });
      const bad = await gateway.app.inject({
        method: 'GET',
        url: '/balise/api/v1/audit?since=soon',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(bad.statusCode).toBe(400);
    } finally {
      await gateway.close();
    }
  });
});

describe('fieldNames (the egress log keeps the names of what left, never the values)', () => {
  it('lists query parameter names and JSON or form keys, sorted, and no value', async () => {
    const { fieldNames } = await import('../src/tools/outbox.js');
    expect(
      fieldNames({
        url: 'https://region1.google-analytics.com/g/collect?v=2&tid=G-1&cid=abc&dl=https%3A%2F%2Fx.fr%2F',
        method: 'POST',
        headers: {},
        body: null,
      }),
    ).toBe('cid,dl,tid,v');
    expect(
      fieldNames({
        url: 'https://graph.facebook.com/v21.0/42/events',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          data: [{ event_name: 'PageView', user_data: { client_user_agent: 'x' }, note: 'say "hi": there' }],
          '[redacted:email]': 1,
        }),
      }),
    ).toBe('client_user_agent,data,event_name,note,user_data');
    expect(
      fieldNames({
        url: 'https://matomo.example/matomo.php',
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'idsite=3&rec=1&url=https%3A%2F%2Fx.fr',
      }),
    ).toBe('idsite,rec,url');
    expect(fieldNames({ url: 'https://x.example/', method: 'GET', headers: {}, body: null })).toBeNull();
  });

  it('reads the same names from the parsed values a body was made of as from its text', async () => {
    const { fieldNames } = await import('../src/tools/outbox.js');
    const item = (n: number) => ({
      event_name: 'PageView',
      event_id: `e${n}`,
      user_data: { external_id: ['a'], client_user_agent: 'x' },
      ...(n % 2
        ? { custom_data: { value: n, 'say "hi":': 1, nested: [{ deep_key: { deeper: null } }] } }
        : {}),
    });
    const shared = { test_event_code: 'T1', '[redacted:email]': 1 };
    const parts = [0, 1, 2].map((n) => ({ ...shared, data: [item(n)] }));
    // One body, and a batch: the first part's body, then the other members' items.
    const cases: [unknown, unknown[]][] = [
      [parts[1], [parts[1]]],
      [{ ...shared, data: parts.flatMap((p) => p.data) }, [parts[0], ...parts.slice(1).map((p) => p.data)]],
    ];
    for (const [body, parsed] of cases) {
      const request = {
        url: 'https://graph.facebook.com/v21.0/42/events?access_token=t',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      };
      const fromText = fieldNames(request);
      expect(fromText).toContain('deep_key');
      expect(fieldNames(request, new URL(request.url), parsed)).toBe(fromText);
    }
  });
});
