import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { CollectCounters } from './collect/routes.js';
import { loadClientScript } from './collect/script.js';
import { SiteIndex } from './config/sites.js';
import { detectAttacks } from './insights/detectors/attacks.js';
import { wallClockKey } from './time.js';
import { AttackWatch } from './proxy/attack-watch.js';
import type { SiteProxy } from './proxy/proxy.js';
import type { Config } from './config/schema.js';
import { localPaths, type ConfigSource } from './config/load.js';
import { LiveConfig } from './config/live.js';
import { SettingsEditor } from './settings/editor.js';
import { SettingsSync } from './settings/sync.js';
import { GeoLookup } from './enrich/geo.js';
import { loadClearUrlsRules } from './privacy/clearurls.js';
import type { PipelineContext } from './pipeline/event.js';
import { VisitorHasher } from './privacy/visitor-hash.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { enforceRetention } from './store/retention.js';
import { DurableWriter } from './store/writer.js';
import { VERSION } from './version.js';
import { errorLine } from './errors.js';
import { limitLog } from './log-limit.js';
import { isWeakHash } from './auth/password.js';
import { EgressLog } from './tools/egress-log.js';
import { Outbox } from './tools/outbox.js';
import { ToolRuntime, type ComponentModule } from './tools/runtime.js';
import { AlertLog } from './alerts/alert-log.js';
import { LiveAnomalies } from './alerts/live-anomalies.js';
import { Notifier } from './alerts/notify.js';
import { AlertWatch } from './alerts/watch.js';
import { join } from 'node:path';

/** A running gateway: store, durable writer and HTTP app, closed in the right order. */
export interface Gateway {
  app: FastifyInstance;
  store: Store;
  writer: DurableWriter;
  /** Rows replayed from a previous process's spool at start. */
  replayed: number;
  /** The tools' durable outbox and runtime (present even when no site has tools). */
  outbox: Outbox;
  tools: ToolRuntime;
  egressLog: EgressLog;
  /** The configuration in force; settings changes replace it. */
  live: LiveConfig;
  /** Reads and applies settings changes (read-only without a configuration file). */
  settings: SettingsEditor;
  /** Live detection and alerts (null when `alerts.enabled` is false or another node alerts). */
  alerts: AlertWatch | null;
  /** Stops accepting, writes every accepted event to the store, closes the store. */
  close(): Promise<void>;
}

/** Opens the store (migrated), replays the spool, and builds the app. Does not listen. */
export async function createGateway(
  config: Config,
  options: {
    logError?: (line: string) => void;
    /** Extra component modules by name (tests, embedding). */
    components?: Record<string, ComponentModule>;
    /** Where relative component paths are resolved (the config file's folder). */
    baseDir?: string;
    /** The file the configuration was read from: settings changes are written there and applied. */
    source?: ConfigSource;
    /** How often the attack detector is asked about sites with `proxy.protect.auto` (ms, default 30 s). */
    attackWatchMs?: number;
    /** false: build the alert watch without starting its timer (tests call `look`). */
    alerts?: boolean;
  } = {},
): Promise<Gateway> {
  if (options.logError) options = { ...options, logError: limitLog(options.logError) };
  const store = await openStore(config, { serving: true });
  try {
    await store.migrate();
    const { writer, replayed } = await DurableWriter.start(store, {
      spoolDir: localPaths(config).spoolDir,
      batchRows: config.store.batchRows,
      flushMs: config.store.flushMs,
      maxPendingRows: config.store.maxPendingRows,
      onStoreError: (error) =>
        options.logError?.(`store_unavailable: ${errorLine(error)}; batches kept in the spool and retried`),
      onSpoolError: (error) =>
        options.logError?.(
          `storage_unavailable: the spool cannot write (${errorLine(error)}); collect answers 503 until it can`,
        ),
      onRepair: (path, kept, rejected) =>
        options.logError?.(
          `spool_repaired: ${path} could not be read by the store; rewritten with ${kept} rows` +
            (rejected > 0 ? `, ${rejected} unreadable lines moved to ${path}.rejected` : ''),
        ),
    });
    const retention = enforceRetention(store, config.store.retention, (line) => options.logError?.(line));
    await retention.done;
    const geo = await GeoLookup.open(config.geo);
    // Tracker rules files are read at start, so a bad file is reported now rather than later.
    for (const site of config.sites)
      if (site.privacy.trackerRules) loadClearUrlsRules(site.privacy.trackerRules);
    const egressLog = new EgressLog(store, 500, 100_000, (error) =>
      options.logError?.(`egress_log_unavailable: ${errorLine(error)}`),
    );
    const outbox = await Outbox.open(localPaths(config).outboxDir, config.outbox, {
      log: egressLog.add,
    });
    let tools: ToolRuntime;
    try {
      tools = await ToolRuntime.start(
        config,
        outbox,
        {
          warn: (line) => options.logError?.(line),
          egressLog: egressLog.add,
          ...(options.components ? { components: options.components } : {}),
        },
        options.baseDir,
      );
    } catch (error) {
      await outbox.close();
      await egressLog.close();
      throw error;
    }
    if (config.admin.passwordHash && isWeakHash(config.admin.passwordHash))
      options.logError?.(
        'weak_password_hash: admin.passwordHash was made with a lower scrypt cost than this version uses; make a new one with: balise password hash',
      );
    const hasher = new VisitorHasher(store);
    const counters: CollectCounters = { accepted: 0, findings: {}, dropped: {}, rejected: {} };
    const pipeline: PipelineContext = {
      countFinding: (site, kind) => {
        const perSite = (counters.findings[site] ??= {});
        perSite[kind] = (perSite[kind] ?? 0) + 1;
      },
      node: config.server.node ?? 'balise',
      geo: (ip) => geo.lookup(ip),
      visitorHash: (site, ip, ua, ts) => hasher.hash(site.host, site.timezone, ip, ua, ts),
    };
    const live = new LiveConfig(config);
    const sites = new SiteIndex(config.sites);
    // Several gateways on one ClickHouse: a dashboard change made on one reaches the others.
    const source = options.source;
    const sync =
      store.dialect === 'clickhouse' && source
        ? new SettingsSync(
            store,
            `${config.server.node ?? hostname()}#${process.pid}`,
            source.file,
            () => settings,
            (line) => options.logError?.(line),
          )
        : undefined;
    const settings: SettingsEditor = new SettingsEditor(
      options.source,
      async (next) => {
        if (next.server.prefix !== live.current.server.prefix)
          throw new Error('server.prefix changed in the file; restart the gateway to apply it');
        const switchTools = await tools.prepare(next);
        return () => {
          switchTools();
          sites.replace(next.sites);
          live.replace(next);
        };
      },
      () => tools.manifests(),
      sync ? (sites) => sync.publish(sites) : undefined,
    );
    await sync?.start();
    const alertsDir = localPaths(config).alertsDir;
    const alertLog = await AlertLog.open(join(alertsDir, 'alerts.jsonl'));
    const alerting =
      config.alerts.enabled && (!config.alerts.node || config.alerts.node === config.server.node);
    const alerts = alerting
      ? new AlertWatch(
          store,
          () => live.current,
          await LiveAnomalies.open(join(alertsDir, 'detectors.json')),
          alertLog,
          new Notifier(config.alerts, (line) => options.logError?.(line)),
          (line) => options.logError?.(line),
        )
      : null;
    const app = await buildApp({
      config,
      live,
      settings,
      sites,
      writer,
      pipeline,
      geo: geo.data,
      script: loadClientScript(),
      counters,
      tools,
      version: VERSION,
      store,
      // Any gateway on the store recognises a dashboard login made on another.
      sessionKey: await store.ensureSecret('dashboard_sessions'),
      alerts: { log: alertLog, counters: alerts?.counters ?? null },
      ...(options.logError ? { logError: options.logError } : {}),
    });
    // Proxy mode: "under attack" switched by the attack detector for the sites that ask for it.
    const watch = new AttackWatch(
      (app as typeof app & { siteProxy: SiteProxy }).siteProxy,
      () => live.current.sites,
      async (site) => {
        // The last ten minutes, to the minute after now, in the site's zone (the query model's form).
        const minute = (ms: number) => wallClockKey(ms, site.timezone);
        const now = Date.now();
        const input = { sites: [site.host], from: minute(now - 10 * 60_000), to: minute(now + 60_000) };
        return (await detectAttacks(store, live.current, input)).attacks.length > 0;
      },
      (line) => options.logError?.(line),
      options.attackWatchMs,
    );
    watch.start();
    if (options.alerts !== false) alerts?.start();
    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      watch.stop();
      await alerts?.stop();
      retention.stop();
      sync?.stop();
      await app.close();
      try {
        await tools.close();
        await outbox.close();
        await writer.close();
        await egressLog.close();
      } finally {
        await store.close();
      }
    };
    return {
      app,
      store,
      writer,
      replayed,
      outbox,
      tools,
      egressLog,
      live,
      settings,
      alerts,
      close: () => (closing ??= close()),
    };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}
