import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../src/api/auth.js';
import type { Gateway } from '../src/gateway.js';
import { BACKUPS_KEPT } from '../src/settings/atomic-write.js';
import { SECRET_MASK } from '../src/settings/editor.js';
import { eventsIn, startWebhookReceiver, type FakeVendor } from './fake-vendors.js';
import { pageview, readEvents, startGateway, startGatewayFromFile, tempDir } from './helpers.js';

// Settings changes through the API, on a real YAML file and a real DuckDB file: validated by the
// config schema, refused whole (file unchanged) when invalid or stale, written atomically with a
// backup, and applied without a restart (site index, privacy, tools).
const TOKEN = 'bls_settings_test_token_0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const YAML = `# the operator's comment, kept across changes
admin:
  tokens: ['${hashToken(TOKEN)}']
sites:
  - host: www.example.fr # inline comment
    group: news
    consent: { purposes: [analytics] }
    tools:
      - id: hook
        component: webhook
        allowHosts: [127.0.0.1]
        settings:
          url: \${HOOK_URL}
          secret: \${HOOK_SECRET}
  - host: www.other.fr
`;

let temp: ReturnType<typeof tempDir>;
let gateway: Gateway;
let file: string;
let hook: FakeVendor;

beforeEach(async () => {
  temp = tempDir('balise-settings-');
  hook = await startWebhookReceiver('hook-secret');
  ({ gateway, file } = await startGatewayFromFile(temp.dir, YAML, {
    HOOK_URL: `${hook.url}/in`,
    HOOK_SECRET: 'hook-secret',
  }));
});

afterEach(async () => {
  await gateway.close();
  await hook.close();
  temp.cleanup();
});

async function read(): Promise<{ revision: string; sites: Record<string, unknown>[]; editable: boolean }> {
  const response = await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/settings', headers: auth });
  expect(response.statusCode).toBe(200);
  return response.json();
}

function put(host: string, site: unknown, revision?: string) {
  return gateway.app.inject({
    method: 'PUT',
    url: `/balise/api/v1/settings/sites/${host}`,
    headers: { ...auth, ...(revision ? { 'if-match': `"${revision}"` } : {}) },
    payload: { site },
  });
}

function collect(host: string, overrides: Record<string, unknown> = {}) {
  return gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { host, 'content-type': 'application/json' },
    payload: pageview({ location: `https://${host}/a`, ...overrides }),
  });
}

const backups = () => readdirSync(temp.dir).filter((n) => n.endsWith('.bak'));

describe('settings', () => {
  it('reads the sites as written: references kept, defaults not filled in', async () => {
    const view = await read();
    expect(view.editable).toBe(true);
    expect(view.sites).toEqual([
      {
        host: 'www.example.fr',
        group: 'news',
        consent: { purposes: ['analytics'] },
        tools: [
          {
            id: 'hook',
            component: 'webhook',
            allowHosts: ['127.0.0.1'],
            settings: { url: '${HOOK_URL}', secret: '${HOOK_SECRET}' },
          },
        ],
      },
      { host: 'www.other.fr' },
    ]);
    const refused = await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/settings' });
    expect(refused.statusCode).toBe(401);
  });

  it('applies a privacy switch to the next event without a restart, and keeps comments', async () => {
    expect((await collect('www.other.fr')).statusCode).toBe(204);
    const { revision } = await read();
    const saved = await put(
      'www.other.fr',
      { host: 'www.other.fr', privacy: { referrer: 'remove' } },
      revision,
    );
    expect(saved.statusCode).toBe(200);
    expect(saved.json<{ revision: string }>().revision).not.toBe(revision);
    expect((await collect('www.other.fr', { title: 'after' })).statusCode).toBe(204);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain("# the operator's comment, kept across changes");
    expect(text).toContain('# inline comment');
    expect(text).toContain('url: ${HOOK_URL}');
    expect(backups()).toHaveLength(1);
    await gateway.close();
    const rows = (await readEvents(temp.dir)).filter((r) => r.site === 'www.other.fr');
    expect(rows.map((r) => [r.title, r.referrer_host])).toEqual([
      ['Article 1', 'news.example.org'],
      ['after', null],
    ]);
  });

  it('adds a site (its events are accepted at once) and removes one (refused at once)', async () => {
    expect((await collect('www.new.fr')).statusCode).toBe(403);
    let { revision } = await read();
    const added = await gateway.app.inject({
      method: 'POST',
      url: '/balise/api/v1/settings/sites',
      headers: { ...auth, 'if-match': revision },
      payload: { site: { host: 'www.new.fr', group: 'tv' } },
    });
    expect(added.statusCode).toBe(201);
    expect((await collect('www.new.fr')).statusCode).toBe(204);
    const series = await gateway.app.inject({
      method: 'POST',
      url: '/balise/api/v1/series',
      headers: auth,
      payload: { group: 'tv', last: '24h' },
    });
    expect(series.statusCode).toBe(200);
    ({ revision } = await read());
    const removed = await gateway.app.inject({
      method: 'DELETE',
      url: '/balise/api/v1/settings/sites/www.other.fr',
      headers: { ...auth, 'if-match': revision },
    });
    expect(removed.statusCode).toBe(200);
    expect((await collect('www.other.fr')).statusCode).toBe(403);
    expect((await read()).sites.map((s) => s.host)).toEqual(['www.example.fr', 'www.new.fr']);
  });

  it('refuses an invalid change whole, with every problem by path, and changes nothing', async () => {
    const before = readFileSync(file, 'utf8');
    const { revision } = await read();
    const bad = await put(
      'www.other.fr',
      {
        host: 'www.other.fr',
        aliases: ['Not A Host'],
        privacy: { dlp: 'sometimes' },
        timezone: 'Mars/Olympus',
      },
      revision,
    );
    expect(bad.statusCode).toBe(400);
    const error = bad.json<{ error: { code: string; problems: { path: string }[] } }>().error;
    expect(error.code).toBe('invalid_config');
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      'sites[1].aliases[0]',
      'sites[1].privacy.dlp',
      'sites[1].timezone',
    ]);
    // A tool whose required setting is missing: refused by the same check as at start.
    const tool = await put(
      'www.other.fr',
      {
        host: 'www.other.fr',
        tools: [{ id: 'w', component: 'webhook', settings: { url: 'https://x.example/' } }],
      },
      revision,
    );
    expect(tool.statusCode).toBe(400);
    const toolError = tool.json<{ error: { code: string; message: string } }>().error;
    expect(toolError.code).toBe('invalid_tool');
    expect(toolError.message).toContain('settings.secret is required');
    // Code the file does not already run cannot be introduced from the dashboard.
    writeFileSync(
      join(temp.dir, 'evil.mjs'),
      'export const manifest = { name: "evil" }; export default () => {};',
    );
    for (const component of ['./evil.mjs', 'some-npm-package']) {
      const code = await put(
        'www.other.fr',
        { host: 'www.other.fr', tools: [{ id: 'x', component, settings: {} }] },
        revision,
      );
      expect(code.statusCode).toBe(400);
      const codeError = code.json<{ error: { code: string; problems: { path: string }[] } }>().error;
      expect(codeError.code).toBe('component_not_allowed');
      expect(codeError.problems[0]!.path).toBe('sites.1.tools.0.component');
    }
    // Nor can a permission be granted from there.
    const granted = await put(
      'www.other.fr',
      {
        host: 'www.other.fr',
        tools: [
          {
            id: 'w',
            component: 'webhook',
            permissions: ['server_network_requests', 'execute_unsafe_scripts'],
            settings: { url: 'https://x.example/', secret: 's3cret-value' },
          },
        ],
      },
      revision,
    );
    expect(granted.statusCode).toBe(400);
    const grantError = granted.json<{ error: { code: string; problems: { path: string }[] } }>().error;
    expect(grantError.code).toBe('permission_not_allowed');
    expect(grantError.problems[0]!.path).toBe('sites.1.tools.0.permissions');
    const rules = await put(
      'www.other.fr',
      {
        host: 'www.other.fr',
        privacy: { query: 'known-trackers', profile: 'custom', trackerRules: '/etc/passwd' },
      },
      revision,
    );
    expect(rules.json<{ error: { code: string } }>().error.code).toBe('path_not_allowed');
    const notObject = await put('www.other.fr', 'www.other.fr', revision);
    expect(notObject.statusCode).toBe(400);
    const unknown = await put('www.nowhere.fr', { host: 'www.nowhere.fr' }, revision);
    expect(unknown.statusCode).toBe(404);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(backups()).toEqual([]);
    expect((await collect('www.other.fr')).statusCode).toBe(204);
  });

  it('says the file cannot be read any more when it was broken by hand, and changes nothing', async () => {
    const { revision } = await read();
    writeFileSync(file, 'sites: [ { host: www.example.fr\n');
    const view = await gateway.app.inject({ method: 'GET', url: '/balise/api/v1/settings', headers: auth });
    expect(view.statusCode).toBe(500);
    const error = view.json<{ error: { code: string; message: string } }>().error;
    expect(error.code).toBe('config_unreadable');
    expect(error.message).toContain('YAML syntax');
    const change = await put('www.other.fr', { host: 'www.other.fr' }, revision);
    expect(change.json<{ error: { code: string } }>().error.code).toBe('config_unreadable');
    expect(readFileSync(file, 'utf8')).toBe('sites: [ { host: www.example.fr\n');
    // The running configuration is kept.
    expect((await collect('www.other.fr')).statusCode).toBe(204);
  });

  it('refuses a change made against an old revision or without one (never overwrites)', async () => {
    const { revision } = await read();
    writeFileSync(file, `${readFileSync(file, 'utf8')}# edited by hand meanwhile\n`);
    const stale = await put('www.other.fr', { host: 'www.other.fr', group: 'tv' }, revision);
    expect(stale.statusCode).toBe(409);
    expect(stale.json<{ error: { code: string } }>().error.code).toBe('settings_conflict');
    const none = await put('www.other.fr', { host: 'www.other.fr', group: 'tv' });
    expect(none.statusCode).toBe(428);
    expect(readFileSync(file, 'utf8')).toContain('# edited by hand meanwhile');
    expect(readFileSync(file, 'utf8')).not.toContain('group: tv');
  });

  it('adds a webhook tool whose receiver gets the next event; a masked secret is kept, never shown', async () => {
    let { revision } = await read();
    // The receiver is on a private address (127.0.0.1, plain http): that takes allowHosts, which
    // only the configuration file may add (SSRF) — refused through the API, added in the file.
    const site = {
      host: 'www.other.fr',
      tools: [
        {
          id: 'w2',
          component: 'webhook',
          allowHosts: ['127.0.0.1'],
          settings: { url: `${hook.url}/w2`, secret: 'hook-secret' },
        },
      ],
    };
    const refused = await put('www.other.fr', site, revision);
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('host_not_allowed');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        '  - host: www.other.fr\n',
        '  - host: www.other.fr\n    tools: [{ id: w2, component: webhook, allowHosts: [127.0.0.1], settings: { url: "https://hooks.example.fr/", secret: x } }]\n',
      ),
    );
    await gateway.settings.reload();
    ({ revision } = await read());
    expect((await put('www.other.fr', site, revision)).statusCode).toBe(200);
    expect((await collect('www.other.fr', { title: 'to the hook' })).statusCode).toBe(204);
    for (let i = 0; i < 50 && !hook.received.some((r) => r.url === '/w2'); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const got = hook.received.filter((r) => r.url === '/w2');
    expect(got).toHaveLength(1);
    expect(eventsIn(got[0]!)).toMatchObject([{ type: 'pageview', page: { title: 'to the hook' } }]);

    const view = await read();
    revision = view.revision;
    const shown = view.sites[1]!.tools as { settings: Record<string, string> }[];
    expect(shown[0]!.settings.secret).toBe(SECRET_MASK);
    expect(JSON.stringify(view)).not.toContain('hook-secret');
    // Saved back with the mask (the form left it untouched): the secret in the file is kept.
    const again = await put('www.other.fr', { ...view.sites[1], group: 'tv' }, revision);
    expect(again.statusCode).toBe(200);
    expect(readFileSync(file, 'utf8')).toContain('secret: hook-secret');
    expect(readFileSync(file, 'utf8')).not.toContain(SECRET_MASK);
    // A mask for a tool that has no stored secret yet is refused.
    const fresh = await put(
      'www.other.fr',
      {
        host: 'www.other.fr',
        tools: [{ id: 'w3', component: 'webhook', settings: { url: `${hook.url}/w3`, secret: SECRET_MASK } }],
      },
      again.json<{ revision: string }>().revision,
    );
    expect(fresh.statusCode).toBe(400);
    expect(fresh.json<{ error: { problems: { path: string }[] } }>().error.problems[0]!.path).toBe(
      'sites.1.tools.0.settings.secret',
    );
  });

  it('loses no accepted event and answers no 5xx while changes are applied under traffic', async () => {
    let { revision } = await read();
    let sending = true;
    const statuses: number[] = [];
    const titles: string[] = [];
    const traffic = (async () => {
      for (let i = 0; sending; i++) {
        const batch = Array.from({ length: 8 }, (_, k) => `load ${i}-${k}`);
        const answers = await Promise.all(batch.map((title) => collect('www.other.fr', { title })));
        answers.forEach((a, k) => {
          statuses.push(a.statusCode);
          if (a.statusCode === 204) titles.push(batch[k]!);
        });
      }
    })();
    for (let i = 0; i < 6; i++) {
      const saved = await put(
        'www.other.fr',
        {
          host: 'www.other.fr',
          privacy: { referrer: i % 2 ? 'remove' : 'strip-external' },
          tools:
            i % 2 ? [{ id: 'w', component: 'webhook', settings: { url: `${hook.url}/t`, secret: 's' } }] : [],
        },
        revision,
      );
      expect(saved.statusCode).toBe(200);
      revision = saved.json<{ revision: string }>().revision;
    }
    sending = false;
    await traffic;
    expect(statuses.length).toBeGreaterThan(40);
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    await gateway.close();
    const stored = new Set((await readEvents(temp.dir)).map((r) => r.title));
    expect(titles.filter((t) => !stored.has(t))).toEqual([]);
  });

  it(`keeps the last ${BACKUPS_KEPT} backups`, async () => {
    let { revision } = await read();
    for (let i = 0; i < BACKUPS_KEPT + 3; i++) {
      const saved = await put(
        'www.other.fr',
        { host: 'www.other.fr', aliases: [`a${i}.other.fr`] },
        revision,
      );
      expect(saved.statusCode).toBe(200);
      revision = saved.json<{ revision: string }>().revision;
    }
    expect(backups()).toHaveLength(BACKUPS_KEPT);
    expect(readFileSync(file, 'utf8')).toContain(`a${BACKUPS_KEPT + 2}.other.fr`);
  });
});

describe('settings without a configuration file', () => {
  it('are read-only and say how to make them editable', async () => {
    const dir = tempDir('balise-settings-ro-');
    const ro = await startGateway(dir.dir, { admin: { tokens: [hashToken(TOKEN)] } });
    try {
      const view = await ro.app.inject({ method: 'GET', url: '/balise/api/v1/settings', headers: auth });
      expect(view.json()).toMatchObject({ editable: false, revision: null });
      const change = await ro.app.inject({
        method: 'PUT',
        url: '/balise/api/v1/settings/sites/www.example.fr',
        headers: { ...auth, 'if-match': 'x' },
        payload: { site: { host: 'www.example.fr' } },
      });
      expect(change.statusCode).toBe(409);
      const error = change.json<{ error: { code: string; message: string } }>().error;
      expect(error.code).toBe('settings_read_only');
      expect(error.message).toContain('--config');
    } finally {
      await ro.close();
      dir.cleanup();
    }
  });
});
