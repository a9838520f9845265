import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentSettings, Manager } from '@managed-components/types';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import type { RawEvent } from '../src/pipeline/event.js';
import { blankRow } from '../src/store/row.js';
import { Outbox, type EgressRecord } from '../src/tools/outbox.js';
import { ToolError, ToolRuntime, type ComponentModule } from '../src/tools/runtime.js';
import * as conformance from './fixtures/conformance-component.js';
import { tempDir } from './helpers.js';

const temps: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});

function setup(
  tools: NonNullable<ConfigInput['sites']>[number]['tools'],
  extraSite: Record<string, unknown> = {},
) {
  const temp = tempDir('balise-runtime-');
  temps.push(temp);
  const config = parseConfig(
    {
      store: { kind: 'duckdb', path: join(temp.dir, 'x.duckdb') },
      outbox: { dir: join(temp.dir, 'outbox') },
      sites: [{ host: 'www.example.fr', tools, ...extraSite }],
    },
    { env: {} },
  );
  return { config, dir: temp.dir };
}

const raw: RawEvent = {
  type: 'pageview',
  name: null,
  url: 'https://www.example.fr/a/b?utm_source=x&id=7#frag',
  title: 'Hello',
  referrer: 'https://www.google.com/search?q=jane',
  clientTimestamp: null,
  props: null,
  ip: '203.0.113.77',
  userAgent:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.127 Safari/537.36',
  receivedAt: Date.UTC(2026, 10, 22, 10),
  source: 'browser',
  language: 'fr-FR',
  timezoneOffset: -60,
  viewportWidth: 1280,
};
const row = blankRow({
  id: '0193a1b2-0000-7000-8000-000000000001',
  ts: raw.receivedAt,
  site: 'www.example.fr',
  type: 'pageview',
  source: 'browser',
  title: 'Hello',
  path: '/a/b',
  visitorHash: '1234567890123456789',
});

async function openOutbox(dir: string, config: ReturnType<typeof setup>['config'], log: EgressRecord[] = []) {
  return Outbox.open(join(dir, 'outbox'), config.outbox, {
    deliver: false,
    log: (r) => log.push(r),
  });
}

describe('the Managed Components runtime', () => {
  it('passes a conformance component every Manager and Client method, with the privacy view', async () => {
    const { config, dir } = setup([
      { id: 'conf', component: 'conformance', region: 'eu', settings: { answer: 42 } },
    ]);
    const blocked: EgressRecord[] = [];
    const outbox = await openOutbox(dir, config);
    const runtime = await ToolRuntime.start(config, outbox, {
      components: { conformance: conformance as unknown as ComponentModule },
      egressLog: (r) => blocked.push(r),
    });
    const actions = await runtime.dispatch(config.sites[0]!, raw, row, null);
    const report = conformance.report;
    expect(report).toMatchObject({
      name: 'conformance',
      settings: { answer: 42 },
      set: true,
      get: 1,
      route: '/mc/www.example.fr/conf/ping',
      proxy: undefined,
      serve: undefined,
      cache1: 1,
      cache2: 1,
      cache3: 2,
      embed: true,
      widget: true,
      clientListener: true,
      client: {
        emitter: 'browser',
        url: 'https://www.example.fr/a/b',
        ip: '',
        userAgent:
          'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        language: 'fr-FR',
        referer: '',
        title: 'Hello',
        timestamp: raw.receivedAt,
        timezoneOffset: -60,
        viewportWidth: 1280,
        clientId: BigInt('1234567890123456789').toString(16).padStart(16, '0'),
      },
      clientSet: true,
      clientGet: 'yes',
      pageSet: true,
      pageGet: 'p',
      otherTool: undefined,
      clientFetch: false,
      clientExecute: false,
      fetchStatus: 202,
      ssrfStatus: 403,
    });
    expect(actions).toEqual({ fetch: [], execute: [], return: { conf: { ok: true } } });
    // The one request that was queued went through the outbound DLP.
    expect(outbox.pendingCount).toBe(1);
    const stats = runtime.stats()['www.example.fr/conf']!;
    expect(stats).toMatchObject({
      deliveries: 1,
      blocked: 1,
      refusedBrowserRequests: 2,
      dlpFindings: { email: 1 },
    });
    expect(blocked[0]).toMatchObject({
      outcome: 'blocked',
      host: '169.254.169.254',
      reason: "host 169.254.169.254 is not on the tool's allow-list",
    });
    expect(runtime.route('www.example.fr', 'conf', '/ping')).toBeTypeOf('function');
    await outbox.close();
  });

  it('refuses a component whose manifest asks for a permission outside the closed list, before running it', async () => {
    let ran = false;
    const rogue: ComponentModule = {
      manifest: { name: 'rogue', permissions: ['server_network_requests', 'root_access'] },
      default: () => {
        ran = true;
      },
    };
    const { config, dir } = setup([{ id: 'rogue', component: 'rogue', region: 'any' }]);
    const outbox = await openOutbox(dir, config);
    await expect(ToolRuntime.start(config, outbox, { components: { rogue } })).rejects.toThrow(
      /manifest of rogue is invalid at permissions\.1: .*the component was not run/,
    );
    expect(ran).toBe(false);
    await outbox.close();
  });

  it('denies a call the manifest does not permit, and counts it', async () => {
    const sneaky: ComponentModule = {
      manifest: { name: 'sneaky', permissions: [], hosts: [{ host: 'vendor.example', eu: true }] },
      default: (manager: Manager) => {
        manager.addEventListener('pageview', async () => {
          await manager.fetch('https://vendor.example/x');
        });
      },
    };
    const { config, dir } = setup([{ id: 'sneaky', component: 'sneaky' }]);
    const warnings: string[] = [];
    const outbox = await openOutbox(dir, config);
    const runtime = await ToolRuntime.start(config, outbox, {
      components: { sneaky },
      warn: (l) => warnings.push(l),
    });
    await runtime.dispatch(config.sites[0]!, raw, row, null);
    expect(outbox.pendingCount).toBe(0);
    expect(runtime.stats()['www.example.fr/sneaky']!.permissionDenied).toBeGreaterThanOrEqual(1);
    expect(warnings.join('\n')).toContain('manager.fetch needs the server_network_requests permission');
    await outbox.close();
  });

  it('refuses a request with a header HTTP does not allow when it is made, not when it is sent', async () => {
    const headers = (value: Record<string, string>): ComponentModule => ({
      manifest: {
        name: 'headers',
        permissions: ['server_network_requests'],
        hosts: [{ host: 'vendor.example', eu: true }],
      },
      default: (manager: Manager) => {
        manager.addEventListener('pageview', async () => {
          await manager.fetch('https://vendor.example/x', { headers: value });
        });
      },
    });
    const { config, dir } = setup([
      { id: 'badname', component: 'badname' },
      { id: 'badvalue', component: 'badvalue' },
      { id: 'good', component: 'good' },
    ]);
    const outbox = await openOutbox(dir, config);
    const runtime = await ToolRuntime.start(config, outbox, {
      components: {
        badname: headers({ 'bad name': 'x' }),
        badvalue: headers({ 'x-note': 'a\r\nx-injected: 1' }),
        good: headers({ 'X-Note': ' kept ', 'x-note': 'too' }),
      },
    });
    await runtime.dispatch(config.sites[0]!, raw, row, null);
    const stats = runtime.stats();
    expect(stats['www.example.fr/badname']).toMatchObject({ errors: 1, deliveries: 0 });
    expect(stats['www.example.fr/badvalue']).toMatchObject({ errors: 1, deliveries: 0 });
    expect(stats['www.example.fr/good']).toMatchObject({ errors: 0, deliveries: 1 });
    await outbox.close();
    const journal = readFileSync(join(dir, 'outbox', 'journal.jsonl'), 'utf8');
    expect(journal).toContain('"x-note":"kept, too"');
  });

  it('isolates a throwing and a hanging component: the others still deliver, within the hook timeout', async () => {
    const module = (name: string, listener: () => unknown): ComponentModule => ({
      manifest: {
        name,
        permissions: ['server_network_requests'],
        hosts: [{ host: 'vendor.example', eu: true }],
      },
      default: (manager: Manager, _settings: ComponentSettings) => {
        manager.addEventListener('pageview', async () => {
          await listener();
          await manager.fetch(`https://vendor.example/${name}`);
        });
      },
    });
    const components = {
      thrower: module('thrower', () => {
        throw new Error('boom');
      }),
      hanger: module('hanger', () => new Promise(() => undefined)),
      good: module('good', () => undefined),
    };
    const { config, dir } = setup([
      { id: 'thrower', component: 'thrower' },
      { id: 'hanger', component: 'hanger' },
      { id: 'good', component: 'good' },
    ]);
    const outbox = await openOutbox(dir, config);
    const runtime = await ToolRuntime.start(config, outbox, { components, hookTimeoutMs: 150 });
    const started = performance.now();
    await runtime.dispatch(config.sites[0]!, raw, row, null);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(outbox.pendingCount).toBe(1);
    const stats = runtime.stats();
    expect(stats['www.example.fr/thrower']).toMatchObject({ errors: 1, deliveries: 0 });
    expect(stats['www.example.fr/hanger']).toMatchObject({ timeouts: 1, deliveries: 0 });
    expect(stats['www.example.fr/good']).toMatchObject({ errors: 0, deliveries: 1 });
    await outbox.close();
  });

  it('refuses region eu for a component without an EU endpoint, saying so', async () => {
    const usOnly: ComponentModule = {
      manifest: {
        name: 'us-only',
        permissions: ['server_network_requests'],
        hosts: [{ host: 'us.vendor.example' }],
      },
      default: () => undefined,
    };
    const { config, dir } = setup([{ id: 'us', component: 'us-only' }]);
    const outbox = await openOutbox(dir, config);
    await expect(ToolRuntime.start(config, outbox, { components: { 'us-only': usOnly } })).rejects.toThrow(
      ToolError,
    );
    await expect(ToolRuntime.start(config, outbox, { components: { 'us-only': usOnly } })).rejects.toThrow(
      /has no EU endpoint; region: eu cannot be met/,
    );
    await outbox.close();
  });
});

describe('balise config check', () => {
  it('warns when the gateway listens on loopback only and believes no proxy', async () => {
    const { configWarnings } = await import('../src/cli/config-check.js');
    const { parseConfig } = await import('../src/config/load.js');
    const behind = (server: Record<string, unknown>) =>
      configWarnings(parseConfig({ server, sites: [{ host: 'www.example.fr' }] }, { env: {} }));
    expect(behind({ host: '127.0.0.1' })).toEqual([
      "server.host is 127.0.0.1 and server.trustedProxies is empty: behind a reverse proxy on this machine every visitor would get the proxy's address; add 127.0.0.1 to server.trustedProxies (docs/deploy.md)",
    ]);
    expect(behind({ host: '127.0.0.1', trustedProxies: ['127.0.0.1'] })).toEqual([]);
    expect(behind({ host: '0.0.0.0' })).toEqual([]);
  });

  it('warns about a tool without a consent purpose', async () => {
    const { configWarnings } = await import('../src/cli/config-check.js');
    const { config } = setup([
      { id: 'hook', component: 'webhook', settings: { url: 'https://hooks.example.fr/x', secret: 's' } },
    ]);
    expect(configWarnings(config)).toEqual([
      'sites[www.example.fr].tools[hook]: no purpose, so it receives events without consent; give it one of consent.purposes',
    ]);
  });

  it('warns about a webhook whose url the egress guard will block (plain http, a private address) without allowHosts', async () => {
    const { configWarnings } = await import('../src/cli/config-check.js');
    const hook = (id: string, url: string, extra: Record<string, unknown> = {}) => ({
      id,
      component: 'webhook',
      settings: { url, secret: 's' },
      ...extra,
    });
    const { config } = setup([
      hook('plain', 'http://hooks.example.fr/x'),
      hook('internal', 'https://10.0.0.5/x'),
      hook('allowed', 'http://10.0.0.5/x', { allowHosts: ['10.0.0.5'] }),
      hook('public', 'https://hooks.example.fr/x'),
    ]);
    expect(configWarnings(config).filter((w) => w.includes('settings.url'))).toEqual([
      "sites[www.example.fr].tools[plain]: settings.url is plain http, so every delivery will be blocked; add hooks.example.fr to this tool's allowHosts if it is your own receiver",
      "sites[www.example.fr].tools[internal]: settings.url is a private address, so every delivery will be blocked; add 10.0.0.5 to this tool's allowHosts if it is your own receiver",
    ]);
  });

  it('reports a built-in tool’s missing required settings with their path', async () => {
    const { toolProblems } = await import('../src/cli/config-check.js');
    const { config } = setup([{ id: 'ga4', component: 'ga4', settings: {} }]);
    expect(toolProblems(config)).toEqual([
      'sites[0].tools[0].settings.measurementId: required by ga4; add it',
    ]);
  });

  it('refuses a tool switch looser than its site, and an unknown purpose, with their paths', () => {
    expect(() =>
      parseConfig(
        {
          sites: [
            {
              host: 'www.example.fr',
              consent: { purposes: ['analytics'] },
              tools: [
                { id: 'x', component: 'ga4', purpose: 'ads', privacy: { ip: 'keep', clientId: 'keep' } },
              ],
            },
          ],
        },
        { env: {} },
      ),
    ).toThrow(
      /sites\[0\]\.tools\[0\]\.purpose: purpose ads is not in consent\.purposes[\s\S]*sites\[0\]\.tools\[0\]\.privacy\.ip: a tool may only be stricter[\s\S]*clientId: keep is refused under cnil-proxy/,
    );
  });
});
