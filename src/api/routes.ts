import { auditHtml } from '../audit/render.js';
import { auditPeriod, runAudit } from '../audit/run.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiter } from '../http/rate-limit.js';
import type { CollectCounters } from '../collect/routes.js';
import type { LiveConfig } from '../config/live.js';
import { BaliseError } from '../errors.js';
import { runDetector } from '../insights/detectors/run.js';
import { getSeries } from '../insights/getSeries.js';
import { goalsReport } from '../insights/goals.js';
import { topProperties } from '../insights/properties.js';
import { plausibleQuery } from '../plausible/run.js';
import type { Store } from '../store/store.js';
import { authenticate } from './auth.js';
import type { ToolRuntime } from '../tools/runtime.js';
import type { Sessions } from '../ui/sessions.js';
import { prometheusText, type NodeHealth } from './metrics.js';
import type { ProcessMetrics } from './process-metrics.js';
import { queryEgress } from '../tools/egress-query.js';
import { openApiDocument } from './openapi.js';
import type { SiteProxy } from '../proxy/proxy.js';
import type { SettingsEditor } from '../settings/editor.js';
import type { ToolStatus } from '../settings/view.js';
import type { AlertLog } from '../alerts/alert-log.js';
import type { AlertCounters } from '../alerts/watch.js';
import { alertsMetricsText, registerAlertRoutes } from './alerts.js';

/** Queries per token per minute (docs/threats.md: expensive queries). */
export const API_QUERIES_PER_MINUTE = 120;

/**
 * Queries per dashboard session per minute: one view of the overview asks about 25 (cards,
 * series, tables, detectors), so a reader changing the range or the site a few times a minute
 * stays under it.
 */
export const SESSION_QUERIES_PER_MINUTE = 600;

/** Registers the insights API under {prefix}/api/v1 (Bearer-token auth; OpenAPI document public). */
export function registerApiRoutes(
  app: FastifyInstance,
  deps: {
    live: LiveConfig;
    store: Store;
    version: string;
    counters: CollectCounters;
    pendingRows: () => number;
    /** The spool's and the store's state, and the connection guard's counters (metrics). */
    health?: () => NodeHealth;
    tools?: ToolRuntime;
    /** Node.js and process metrics and request latencies (prom-client). */
    processMetrics?: ProcessMetrics;
    sessions?: Sessions;
    settings?: SettingsEditor;
    /** Proxy mode: the upstreams' health, the protection's decisions, the "under attack" switch. */
    proxy?: SiteProxy;
    /** The alert log and the live detection's counters. */
    alerts?: { log: AlertLog; counters: AlertCounters | null };
  },
): void {
  const base = `${deps.live.current.server.prefix}/api/v1`;
  const limiter = new RateLimiter(API_QUERIES_PER_MINUTE);
  const sessionLimiter = new RateLimiter(SESSION_QUERIES_PER_MINUTE);
  const startedAt = new Date().toISOString();
  const document = openApiDocument(deps.live.current.server.prefix, deps.version);

  /** A dashboard session (with its CSRF token on POST) or a Bearer token, then the per-caller query limit. */
  const authorizeQuery = (request: FastifyRequest): void => {
    const session = request.headers.authorization ? undefined : deps.sessions?.find(request);
    if (session && request.method !== 'GET') deps.sessions!.checkCsrf(request, session);
    const token = session ? `session:${session.id}` : authenticate(request, deps.live.current.admin.tokens);
    const wait = (session ? sessionLimiter : limiter).hit(token);
    if (wait > 0)
      throw new BaliseError('rate_limited', 'too many queries for this token; retry later', undefined, wait);
  };

  app.get(`${base}/openapi.json`, () => document);

  app.get(`${deps.live.current.server.prefix}/metrics`, async (request, reply) => {
    authenticate(request, deps.live.current.admin.tokens);
    const own = prometheusText(
      deps.counters,
      deps.pendingRows(),
      deps.tools?.stats(),
      deps.tools?.outboxPending,
      deps.health?.(),
      deps.tools?.outboxWindows,
      deps.tools?.outboxOldestAgeSeconds,
    );
    const process = deps.processMetrics ? await deps.processMetrics.text() : '';
    const proxied = deps.proxy?.metricsText() ?? '';
    const alerting = deps.alerts?.counters ? alertsMetricsText(deps.alerts.counters) : '';
    return reply
      .header('content-type', 'text/plain; version=0.0.4')
      .send(`${own}${proxied}${alerting}${process}`);
  });

  app.get(`${base}/dlp`, (request) => {
    authorizeQuery(request);
    return { since: startedAt, findings: deps.counters.findings };
  });

  app.get(`${base}/audit`, async (request, reply) => {
    authorizeQuery(request);
    const query = (request.query ?? {}) as { format?: string };
    const period = auditPeriod(request.query ?? {});
    const report = await runAudit(deps.store, deps.live.current, deps.tools?.manifests() ?? {}, period);
    if (query.format === 'html') return reply.type('text/html; charset=utf-8').send(auditHtml(report));
    return report;
  });

  app.get(`${base}/egress`, async (request) => {
    authorizeQuery(request);
    return { records: await queryEgress(deps.store, request.query ?? {}) };
  });

  app.post(`${base}/detect/:detector`, async (request) => {
    authorizeQuery(request);
    const { detector } = request.params as { detector: string };
    const input = objectBody(request);
    return runDetector(deps.store, deps.live.current, detector, input);
  });

  if (deps.proxy) {
    const proxy = deps.proxy;
    app.get(`${base}/proxy`, (request) => {
      authorizeQuery(request);
      return { sites: proxy.status() };
    });
    app.post(`${base}/proxy/under-attack`, (request) => {
      authorizeQuery(request);
      const { site, on } = objectBody(request);
      if (typeof site !== 'string' || typeof on !== 'boolean')
        throw new BaliseError('invalid_request', 'send {"site": "www.example.fr", "on": true|false}');
      if (!proxy.setUnderAttack(site, on))
        throw new BaliseError('not_found', `${site} is not a site in proxy mode`);
      return { site, underAttack: on };
    });
  }

  if (deps.alerts) registerAlertRoutes(app, base, deps.alerts.log, authorizeQuery);

  if (deps.settings) registerSettingsRoutes(app, base, deps.settings, authorizeQuery, deps.tools);

  // Plausible's Stats API v2, for the clients and dashboards that speak it (docs/plausible.md).
  app.post(`${deps.live.current.server.prefix}/api/v2/query`, async (request) => {
    authorizeQuery(request);
    return plausibleQuery(deps.store, deps.live.current, request.body ?? {});
  });

  app.post(`${base}/goals`, async (request) => {
    authorizeQuery(request);
    const input = objectBody(request);
    return goalsReport(deps.store, deps.live.current, input);
  });

  app.post(`${base}/properties`, async (request) => {
    authorizeQuery(request);
    const input = objectBody(request);
    return topProperties(deps.store, deps.live.current, input);
  });

  app.post(`${base}/series`, async (request) => {
    authorizeQuery(request);
    const result = await getSeries(deps.store, deps.live.current, request.body ?? {});
    return {
      sites: result.sites,
      tz: result.tz,
      metric: result.query.metric,
      plan: result.plan,
      rows: result.rows,
    };
  });
}

/** A request's JSON body when it is an object, else `{}` (the schema then says what is missing). */
function objectBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

/** The revision a change was made against: the If-Match header, quoted or not. */
function ifMatch(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return typeof value === 'string' && value.length > 0
    ? value.replace(/^W\//, '').replace(/"/g, '')
    : undefined;
}

/** The site object of a settings change: `{"site": {…}}`. */
function siteOf(request: FastifyRequest): unknown {
  const body = request.body as { site?: unknown } | null;
  return body !== null && typeof body === 'object' ? body.site : undefined;
}

/**
 * Settings of the sites (docs/dashboard.md): read, add, replace and remove a site with its privacy
 * switches, consent purposes and tools. Every change names the revision it was made against in
 * If-Match and is applied without a restart, or refused whole.
 */
function registerSettingsRoutes(
  app: FastifyInstance,
  base: string,
  settings: SettingsEditor,
  authorize: (request: FastifyRequest) => void,
  tools: ToolRuntime | undefined,
): void {
  app.get(`${base}/settings`, (request, reply) => {
    authorize(request);
    const view = settings.read();
    if (view.revision) void reply.header('etag', `"${view.revision}"`);
    const stats = tools?.stats();
    if (!stats) return view;
    const toolStatus: Record<string, ToolStatus> = {};
    for (const [name, s] of Object.entries(stats))
      toolStatus[name] = {
        disabled: s.disabled,
        events: s.events,
        deliveries: s.deliveries,
        errors: s.errors + s.timeouts,
        permissionDenied: s.permissionDenied,
      };
    return { ...view, toolStatus };
  });
  app.post(`${base}/settings/sites`, async (request, reply) => {
    authorize(request);
    const revision = await settings.saveSite(undefined, siteOf(request), ifMatch(request));
    return reply.code(201).header('etag', `"${revision}"`).send({ revision, applied: true });
  });
  app.put(`${base}/settings/sites/:host`, async (request, reply) => {
    authorize(request);
    const { host } = request.params as { host: string };
    const revision = await settings.saveSite(host, siteOf(request), ifMatch(request));
    return reply.header('etag', `"${revision}"`).send({ revision, applied: true });
  });
  app.delete(`${base}/settings/sites/:host`, async (request, reply) => {
    authorize(request);
    const { host } = request.params as { host: string };
    const revision = await settings.deleteSite(host, ifMatch(request));
    return reply.header('etag', `"${revision}"`).send({ revision, applied: true });
  });
}
