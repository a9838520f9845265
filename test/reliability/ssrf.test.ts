import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/api/auth.js';
import type { Gateway } from '../../src/gateway.js';
import { pageview, startGatewayFromFile, tempDir } from '../helpers.js';

// SSRF through the configuration and the settings API: a tool pointed at the gateway's own
// network (loopback, private ranges, cloud metadata, IPv6 forms of them) sends nothing there,
// and nothing an internal service answers comes back through the egress log.
const TOKEN = 'bls_ssrf-test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const temp = tempDir();
let internal: Server;
let internalUrl: string;
let hits = 0;
let gateway: Gateway;

beforeAll(async () => {
  internal = createServer((request, response) => {
    hits++;
    response.writeHead(422, { 'content-type': 'text/plain' });
    response.end('TOP-SECRET-INTERNAL admin panel: root password hunter2');
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
  ({ gateway } = await startGatewayFromFile(
    temp.dir,
    `admin:
  tokens: ['${hashToken(TOKEN)}']
sites:
  - host: www.example.fr
    tools:
      - { id: local, component: webhook, settings: { url: "${internalUrl}/admin/reset", secret: s } }
      - { id: matomo, component: matomo, settings: { url: "http://10.0.0.5/matomo.php", siteId: 1 } }
  - host: www.other.fr
`,
  ));
});

afterAll(async () => {
  await gateway.close();
  internal.close();
  temp.cleanup();
});

async function send(host: string): Promise<void> {
  const response = await gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { host, 'content-type': 'application/json' },
    payload: pageview({ location: `https://${host}/a` }),
  });
  expect(response.statusCode).toBe(204);
  await gateway.outbox.idle();
  await gateway.egressLog.flush();
}

async function revision(): Promise<string> {
  return (await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/settings', headers: auth })).json<{
    revision: string;
  }>().revision;
}

function putTools(tools: unknown[], rev: string) {
  return gateway.app.inject({
    method: 'PUT',
    url: '/balise/api/v1/settings/sites/www.other.fr',
    headers: { ...auth, 'if-match': `"${rev}"` },
    payload: { site: { host: 'www.other.fr', tools } },
  });
}

const TARGETS = [
  '/admin/reset', // the internal server itself, over http
  'https://127.0.0.1/x',
  'https://169.254.169.254/latest/meta-data/',
  'https://10.0.0.5/x',
  'https://[::1]/x',
  'https://[::ffff:127.0.0.1]/x',
  'https://[64:ff9b::7f00:1]/x', // NAT64 of 127.0.0.1
  'https://[2002:7f00:1::]/x', // 6to4 of 127.0.0.1
  'https://[fd00::1]/x',
  'https://2130706433/x', // 127.0.0.1 in decimal
  'https://0x7f.1/x', // 127.0.0.1 in hex and short form
  'https://localhost/x', // a name that resolves to loopback
];

describe('SSRF attempts', () => {
  it('sends nothing to private addresses named in the configuration file without allowHosts', async () => {
    await send('www.example.fr');
    expect(hits).toBe(0);
    const egress = (
      await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/egress?since=1h', headers: auth })
    ).json<{ records: { tool: string; outcome: string }[] }>().records;
    expect(egress.filter((r) => r.tool === 'local' || r.tool === 'matomo').map((r) => r.outcome)).toEqual([
      'blocked',
      'blocked',
    ]);
  });

  it('refuses allowHosts through the settings API', async () => {
    const response = await putTools(
      [
        {
          id: 'w',
          component: 'webhook',
          allowHosts: ['127.0.0.1'],
          settings: { url: `${internalUrl}/x`, secret: 's' },
        },
      ],
      await revision(),
    );
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: { code: string } }>().error.code).toBe('host_not_allowed');
  });

  it('sends nothing to any private target a webhook is given through the settings API', async () => {
    for (const [i, target] of TARGETS.entries()) {
      const url = target.startsWith('/') ? `${internalUrl}${target}` : target;
      const saved = await putTools(
        [{ id: `w${i}`, component: 'webhook', settings: { url, secret: 's' } }],
        await revision(),
      );
      // Saved (a valid configuration) or refused; either way nothing may reach the target.
      expect([url, saved.statusCode === 200 || saved.statusCode === 400]).toEqual([url, true]);
      if (saved.statusCode === 200) await send('www.other.fr');
    }
    expect(hits).toBe(0);
    const records = (
      await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/egress?since=1h', headers: auth })
    ).json<{ records: { tool: string; outcome: string; reason: string | null }[] }>().records;
    const mine = records.filter((r) => /^w\d+$/.test(r.tool));
    expect(mine.length).toBeGreaterThanOrEqual(TARGETS.length - 2);
    expect(mine.filter((r) => r.outcome !== 'blocked')).toEqual([]);
  });

  it('never returns what an internal service answered, even to a host the operator allowed', async () => {
    // An operator-allowed internal receiver that answers an error with a body: only its status is kept.
    const rev = await revision();
    const file = join(temp.dir, 'balise.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.slice(0, text.indexOf('  - host: www.other.fr')) +
        `  - host: www.other.fr\n    tools: [{ id: allowed, component: webhook, allowHosts: [127.0.0.1], settings: { url: "${internalUrl}/allowed", secret: s } }]\n`,
    );
    expect(rev).not.toBe('');
    await gateway.settings.reload();
    await send('www.other.fr');
    expect(hits).toBe(1);
    const egress = await gateway.app.inject({
      method: 'GET',
      url: '/balise/api/v1/egress?since=1h',
      headers: auth,
    });
    expect(egress.body).not.toContain('TOP-SECRET');
    expect(egress.body).not.toContain('hunter2');
    expect(JSON.stringify(gateway.outbox.deadLetters())).not.toContain('TOP-SECRET');
  });
});
