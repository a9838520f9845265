import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, formatProblems, loadConfigFile } from '../config/load.js';
import { errorLine } from '../errors.js';
import { GeoLookup } from '../enrich/geo.js';
import { ClickHouseStore } from '../store/clickhouse/clickhouse-store.js';
import { loadClearUrlsRules } from '../privacy/clearurls.js';
import { isIP } from 'node:net';
import { hostOf, isPrivateAddress } from '../tools/egress.js';
import { Outbox } from '../tools/outbox.js';
import { UsageError } from './args.js';
import type { Config } from '../config/schema.js';
import { manifestSchema } from '../tools/manifest.js';
import { BUILTIN_COMPONENTS, missingSettings, ToolRuntime } from '../tools/runtime.js';

/**
 * Valid but worth a look: tools that receive events without consent (docs/privacy.md), and a
 * `url` setting every delivery of which the egress guard will block — plain http, or a private
 * or loopback address — unless its host is in allowHosts (docs/tools.md, egress guard).
 */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  // A gateway that listens on loopback only is reached through something on this machine: a
  // reverse proxy, whose X-Forwarded-For is not believed until it is listed.
  if (config.server.trustedProxies.length === 0 && /^(127\.|::1$|localhost$)/.test(config.server.host))
    warnings.push(
      `server.host is ${config.server.host} and server.trustedProxies is empty: behind a reverse proxy on this machine every visitor would get the proxy's address; add 127.0.0.1 to server.trustedProxies (docs/deploy.md)`,
    );
  for (const site of config.sites)
    for (const tool of site.tools) {
      const where = `sites[${site.host}].tools[${tool.id}]`;
      if (!tool.purpose)
        warnings.push(
          `${where}: no purpose, so it receives events without consent; give it one of consent.purposes`,
        );
      const url = typeof tool.settings.url === 'string' ? safeUrl(tool.settings.url) : null;
      if (!url) continue;
      const host = hostOf(url);
      if (tool.allowHosts.includes(host) || config.outbox.allowHosts.includes(host)) continue;
      if (url.protocol === 'http:' || (isIP(host) !== 0 && isPrivateAddress(host)))
        warnings.push(
          `${where}: settings.url ${url.protocol === 'http:' ? 'is plain http' : 'is a private address'}, so every delivery will be blocked; add ${host} to this tool's allowHosts if it is your own receiver`,
        );
    }
  return warnings;
}

function safeUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/**
 * Problems only the tools can tell: a built-in component's required settings left out (the
 * same check the gateway makes at start, run here so that `config check` catches it first).
 */
export function toolProblems(config: Config): string[] {
  const problems: string[] = [];
  config.sites.forEach((site, i) =>
    site.tools.forEach((tool, j) => {
      const builtin = BUILTIN_COMPONENTS[tool.component];
      if (!builtin) return;
      const manifest = manifestSchema.parse(builtin.manifest);
      for (const name of missingSettings(manifest, tool.settings))
        problems.push(`sites[${i}].tools[${j}].settings.${name}: required by ${manifest.name}; add it`);
    }),
  );
  return problems;
}

/**
 * The checks `serve` makes at start beyond the schema, run without opening the store (a running
 * gateway may hold it): tracker rules files read, the geolocation databases opened, and every
 * tool's component loaded and started as the gateway would — manifest, required settings, region
 * (a tool with no EU endpoint under `region: eu`), its setup — against a throw-away outbox. Each
 * problem as `serve` would report it.
 */
export async function startProblems(
  config: Config,
  baseDir: string,
  warn: (line: string) => void = () => undefined,
): Promise<string[]> {
  const problems: string[] = [];
  for (const site of config.sites)
    if (site.privacy.trackerRules)
      try {
        loadClearUrlsRules(site.privacy.trackerRules);
      } catch (error) {
        problems.push(`sites[${site.host}].privacy.trackerRules: ${errorLine(error)}`);
      }
  try {
    await GeoLookup.open(config.geo);
  } catch (error) {
    problems.push(`geo: ${errorLine(error)}`);
  }
  if (config.store.kind === 'clickhouse') {
    // serve migrates the store first thing: a server that does not answer stops it.
    const store = ClickHouseStore.open({ ...config.store, requestTimeoutMs: 5000 });
    try {
      await store.query('SELECT 1 AS one');
    } catch (error) {
      problems.push(
        `store.url: ClickHouse at ${config.store.url} does not answer (${errorLine(error)}); start it or fix store.url`,
      );
    } finally {
      await store.close();
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'balise-config-check-'));
  try {
    const outbox = await Outbox.open(dir, config.outbox, { log: () => undefined });
    try {
      await (await ToolRuntime.start(config, outbox, { warn }, baseDir)).close();
    } catch (error) {
      problems.push(errorLine(error));
    } finally {
      await outbox.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

/**
 * `balise config check FILE` (or `--config FILE`): lists every problem with its path and what to
 * do — the schema's, then every check `serve` makes at start (`startProblems`); exit 2 when any.
 */
export async function configCheck(argv: string[], out: (line: string) => void): Promise<number> {
  const [sub, ...args] = argv;
  const file = args[0] === '--config' || args[0] === '-c' ? args[1] : args[0];
  const extra = args[0] === '--config' || args[0] === '-c' ? args.slice(2) : args.slice(1);
  if (sub !== 'check' || !file || extra.length > 0)
    throw new UsageError('usage: balise config check FILE (or --config FILE)');
  try {
    const config = loadConfigFile(file);
    const problems = toolProblems(config);
    // What the tools say while they start (a permission granted beyond a manifest, no host to
    // send to…): warnings, as serve logs them.
    const started: string[] = [];
    if (problems.length === 0)
      problems.push(...(await startProblems(config, dirname(file), (line) => started.push(line))));
    if (problems.length > 0) {
      out(`${file}: ${problems.length} problem(s)`);
      for (const problem of problems) out(`  ${problem}`);
      return 2;
    }
    out(
      `ok: ${file} is valid (${config.sites.length} site(s): ${config.sites.map((s) => s.host).join(', ')})`,
    );
    for (const line of [...configWarnings(config), ...started]) out(`warning: ${line}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    out(`${file}: ${error.problems.length} problem(s)`);
    out(formatProblems(error.problems));
    return 2;
  }
}
