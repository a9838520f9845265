import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigSource, parseConfig } from '../src/config/load.js';
import type { Config, ConfigInput } from '../src/config/schema.js';
import { startDemoSite } from '../src/demo/site.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'balise-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A test configuration with a real DuckDB file under `dir` and the site www.example.fr. */
export function testConfig(dir: string, overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig(
    {
      server: { node: 'test-node', ...(overrides.server ?? {}) },
      // A ClickHouse store keeps this gateway's spool and outbox under `dir` too.
      store:
        overrides.store?.kind === 'clickhouse'
          ? { flushMs: 50, spoolDir: join(dir, 'balise.spool'), ...overrides.store }
          : { kind: 'duckdb', path: join(dir, 'balise.duckdb'), flushMs: 50, ...(overrides.store ?? {}) },
      ...(overrides.store?.kind === 'clickhouse' ? { outbox: { dir: join(dir, 'balise.outbox') } } : {}),
      sites: overrides.sites ?? [{ host: 'www.example.fr', aliases: ['example.fr'], group: 'news' }],
      ...(overrides.geo ? { geo: overrides.geo } : {}),
      ...(overrides.admin ? { admin: overrides.admin } : {}),
    },
    { env: {} },
  );
}

/** Starts an in-process gateway on a real DuckDB file (no listening socket; use app.inject). */
export async function startGateway(dir: string, overrides: Partial<ConfigInput> = {}): Promise<Gateway> {
  // Server-side failures (500s) are printed, so a failing test says why.
  return createGateway(testConfig(dir, overrides), { logError: (line) => console.error(line) });
}

/**
 * Starts an in-process gateway from a YAML file written under `dir` (`balise.yaml`), so settings
 * changes are written to it and applied. `yaml` holds the sites (and anything else); the store is
 * a DuckDB file under `dir`.
 */
export async function startGatewayFromFile(
  dir: string,
  yaml: string,
  env: Record<string, string> = {},
): Promise<{ gateway: Gateway; file: string }> {
  const file = join(dir, 'balise.yaml');
  writeFileSync(file, yaml);
  const source = { file, env };
  const overlay = (raw: Record<string, unknown>) => ({
    ...raw,
    server: { node: 'test-node', ...(raw.server as object) },
    store: { kind: 'duckdb', path: join(dir, 'balise.duckdb'), flushMs: 50 },
  });
  const full = { ...source, overlay };
  const gateway = await createGateway(loadConfigSource(full), {
    logError: (line) => console.error(line),
    baseDir: dir,
    source: full,
  });
  return { gateway, file };
}

/** Reads every stored event of a closed gateway's DuckDB file. */
export async function readEvents(dir: string): Promise<Record<string, unknown>[]> {
  const store = await DuckDBStore.open(join(dir, 'balise.duckdb'));
  try {
    await store.migrate();
    return await store.query('SELECT * FROM events ORDER BY ts, id');
  } finally {
    await store.close();
  }
}

/** A pageview as the client script would send it. */
export function pageview(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: 'pageview',
    location: 'https://www.example.fr/articles/1?utm_source=x&email=jane.doe@example.fr#top',
    title: 'Article 1',
    referer: 'https://news.example.org/article?id=7',
    timestamp: Date.now(),
    offset: -60,
    language: 'fr-FR',
    screenWidth: 1920,
    screenHeight: 1080,
    viewportWidth: 1280,
    viewportHeight: 800,
    ...overrides,
  };
}

/** A distinctive desktop Chrome User-Agent. */
export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.207 Safari/537.36';

/** A listening gateway for the site `localhost` and the demo website that embeds its script. */
export interface LiveSite {
  gateway: Gateway;
  gatewayUrl: string;
  siteUrl: string;
  /** Resolves once the gateway has accepted at least `count` events (fails after 10 s). */
  waitForAccepted(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a real gateway on 127.0.0.1 and the demo website beside it, for browser tests. */
export async function startLiveSite(dir: string, overrides: Partial<ConfigInput> = {}): Promise<LiveSite> {
  const gateway = await startGateway(dir, {
    sites: [{ host: 'localhost', aliases: ['127.0.0.1'] }],
    ...overrides,
  });
  const gatewayUrl = (await gateway.app.listen({ host: '127.0.0.1', port: 0 })).replace(
    '127.0.0.1',
    'localhost',
  );
  const site = await startDemoSite({ port: 0, host: '127.0.0.1', gatewayUrl, prefix: '/balise' });
  const accepted = async () =>
    (await gateway.app.inject({ method: 'GET', url: '/balise/healthz' })).json<{ accepted: number }>()
      .accepted;
  return {
    gateway,
    gatewayUrl,
    siteUrl: `http://localhost:${(site.address() as AddressInfo).port}`,
    async waitForAccepted(count) {
      for (let i = 0; i < 100; i++) {
        if ((await accepted()) >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the gateway did not receive ${count} events`);
    },
    async close() {
      await gateway.close();
      site.close();
    },
  };
}

/** Waits until `check` holds (polling every 25 ms); fails naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
