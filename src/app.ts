import { isUtf8 } from 'node:buffer';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { registerApiRoutes } from './api/routes.js';
import { SiteProxy } from './proxy/proxy.js';
import { RequestRecorder } from './proxy/requests.js';
import type { GeoData } from './enrich/geo.js';
import { registerCollectRoutes, type CollectDeps } from './collect/routes.js';
import { BaliseError } from './errors.js';
import { addressSet, guardConnections } from './server/connections.js';
import { registerToolRoutes } from './tools/routes.js';
import { registerDashboardRoutes } from './ui/routes.js';
import { Sessions } from './ui/sessions.js';
import { ProcessMetrics, stampArrival } from './api/process-metrics.js';
import type { Store } from './store/store.js';
import type { LiveConfig } from './config/live.js';
import type { SettingsEditor } from './settings/editor.js';
import type { AlertLog } from './alerts/alert-log.js';
import type { AlertCounters } from './alerts/watch.js';

/** Largest request body accepted by collect (docs/threats.md: oversized bodies). */
export const BODY_LIMIT = 64 * 1024;

/** Everything the HTTP app needs; built by the Gateway (src/gateway.ts). */
export interface AppDeps extends CollectDeps {
  version: string;
  store: Store;
  /** The configuration in force (sites and tools change without a restart). */
  live: LiveConfig;
  /** Reads and applies settings changes from the dashboard and the API. */
  settings?: SettingsEditor;
  /** Where server-side failures are reported: a code and a route, never request data. */
  logError?: (line: string) => void;
  /** The dashboard sessions' signing key, shared by the gateways on the store (default: one of this process's). */
  sessionKey?: Buffer;
  /** The geolocation databases' bytes (shared with the proxy's recording thread). */
  geo: GeoData;
  /** The alert log (API, dashboard) and the live detection's counters (metrics). */
  alerts?: { log: AlertLog; counters: AlertCounters | null };
}

/** Deepest nesting of arrays and objects a request body may have (a deeper one is refused, 400 too_deep). */
export const MAX_JSON_DEPTH = 32;

/**
 * The deepest nesting of `[` and `{` in a JSON text, outside strings: one pass over at most
 * BODY_LIMIT characters, before anything recursive (parsing, validation) sees the value.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Maps Fastify's own errors to Balise's stable codes. */
function toBaliseError(error: FastifyError | BaliseError): BaliseError {
  if (error instanceof BaliseError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BaliseError('body_too_large', `request body larger than ${BODY_LIMIT} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new BaliseError('unsupported_media_type', 'send application/json or text/plain');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_BODY':
      return new BaliseError('invalid_json', 'empty body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new BaliseError('invalid_request', 'content-length does not match the body');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new BaliseError('invalid_request', 'invalid request');
  return new BaliseError('internal', 'internal error');
}

/**
 * Builds the HTTP app without listening (tests use `app.inject`). Client IP comes from the
 * socket unless `trustedProxies` covers the peer; then the right-most untrusted X-Forwarded-For hop.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const prefix = config.server.prefix;
  const proxies = config.server.trustedProxies;
  const limits = config.server.limits;
  // Proxy mode: requests of a proxied site outside the prefix are forwarded before Fastify sees
  // them (streamed both ways, none of the gateway's own body limits or headers).
  const proxy = new SiteProxy({
    sites: deps.sites,
    prefix,
    trustedProxies: proxies,
    recorder: new RequestRecorder({
      writer: deps.writer,
      salts: deps.store,
      start: { geo: deps.geo, geoFiles: config.geo, node: deps.pipeline.node },
      counters: deps.counters,
      logError: (line) => deps.logError?.(line),
    }),
    logError: (line) => deps.logError?.(line),
  });
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // Slow clients are cut off (docs/limits.md): the whole request within
    // requestTimeoutMs (Node answers 408), its headers within headersTimeoutMs, checked every
    // second (Node's default checks every 30 s); idle keep-alive and silent connections closed.
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout: limits.requestTimeoutMs,
          headersTimeout: limits.headersTimeoutMs,
          connectionsCheckingInterval: 1000,
        },
        (request, response) => {
          stampArrival(request);
          const site = deps.sites.proxied ? proxy.siteOf(request) : null;
          if (site) void proxy.handle(site, request, response);
          else handler(request, response);
        },
      );
      // What Fastify sets on a server it makes itself: idle keep-alive and silent connections closed.
      server.keepAliveTimeout = limits.keepAliveTimeoutMs;
      server.setTimeout(limits.idleTimeoutMs);
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!deps.sites.proxied || !proxy.upgrade(request, socket, head)) socket.destroy();
      });
      return server;
    },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    trustProxy: proxies.length > 0 ? [...proxies] : false,
    // No per-request logger: failures are reported through deps.logError with a code and a
    // route only — never IPs, queries, bodies or tokens (docs/threats.md, logs).
    logger: false,
    return503OnClosing: true,
  });

  app.decorate('siteProxy', proxy);
  // Closing the proxy writes its last request events (RequestRecorder.close), then stops.
  app.addHook('onClose', () => proxy.close());
  app.server.maxConnections = limits.maxConnections;
  const connections = guardConnections(app.server, limits.maxConnectionsPerAddress, addressSet(proxies));

  // Every answer: never sniffed as another type. Everything but the client script (cached on
  // purpose) is not stored by browsers or shared caches (API answers carry site data).
  // The same hook times each answer (request latency per route group, /metrics): one hook, not two.
  const processMetrics = new ProcessMetrics(prefix);
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    processMetrics.observe(request);
    done(null, payload);
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'buffer' },
    (request, body, done) => {
      // A body the gateway would have to decode is refused rather than read as it is (docs/errors.md).
      const encoding = request.headers['content-encoding'];
      if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
        done(
          new BaliseError(
            'unsupported_content_encoding',
            'send the body without Content-Encoding (identity)',
          ),
          undefined,
        );
        return;
      }
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
      if (charset !== undefined && !/^(utf-?8|us-ascii)$/i.test(charset)) {
        done(
          new BaliseError('unsupported_charset', `send UTF-8 (charset=${charset} is not read)`),
          undefined,
        );
        return;
      }
      if (!isUtf8(body as Buffer)) {
        done(new BaliseError('invalid_encoding', 'body is not valid UTF-8'), undefined);
        return;
      }
      const text = (body as Buffer).toString('utf8');
      if (text.trim().length === 0) {
        done(new BaliseError('invalid_json', 'empty body'), undefined);
        return;
      }
      if (nestingDepth(text) > MAX_JSON_DEPTH) {
        done(new BaliseError('too_deep', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
        return;
      }
      try {
        done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
      } catch {
        done(
          new BaliseError('invalid_json', 'body is not valid JSON (or uses __proto__/constructor keys)'),
          undefined,
        );
      }
    },
  );

  app.setErrorHandler((error: FastifyError | BaliseError, request, reply) => {
    const mapped = toBaliseError(error);
    deps.counters.rejected[mapped.code] = (deps.counters.rejected[mapped.code] ?? 0) + 1;
    // Expected refusals (503 overloaded or storage_unavailable, 429) are counted, not logged per
    // request: their cause is logged once where it arises (the writer, rate-limited).
    if (mapped.code === 'internal') {
      const reason = error instanceof Error ? error.message.split('\n')[0] : 'unknown';
      // The request id is also in the answer's X-Request-Id: a report of the error names the line.
      void reply.header('x-request-id', request.id);
      deps.logError?.(
        `${mapped.code} on ${request.method} ${request.routeOptions.url ?? '(no route)'} (request ${request.id}): ${reason}`,
      );
    }
    if (mapped.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(mapped.retryAfterSeconds));
    return reply.code(mapped.status).send(mapped.toJSON());
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(new BaliseError('not_found', 'no such route').toJSON()),
  );

  app.get(`${prefix}/healthz`, (_request, reply) => {
    const writer = deps.writer.health;
    // failing: collect refuses events (the spool cannot write) — 503, so a load balancer moves on;
    // overloaded: collect refuses until the backlog shrinks; degraded: accepted events are safe in
    // the spool but the store refuses them for now.
    const status = writer.spoolFailing
      ? 'failing'
      : deps.writer.overloaded
        ? 'overloaded'
        : writer.storeFailing
          ? 'degraded'
          : 'ok';
    void reply.header('cache-control', 'no-store');
    if (status === 'failing') void reply.code(503);
    return {
      status,
      // Kinds only: healthz is public, the errors themselves are in the gateway's log.
      problems: [
        ...(writer.spoolFailing ? ['spool_cannot_write'] : []),
        ...(writer.storeFailing ? ['store_refuses_batches'] : []),
        // Not a failure: visitor counts and geolocation are wrong (docs/deploy.md).
        ...((deps.counters.untrustedForwarded ?? 0) > 0 ? ['untrusted_proxy'] : []),
        // Not a failure either: one tool stopped for good (its reason is in /metrics and the log).
        ...(Object.values(deps.tools?.stats() ?? {}).some((s) => s.disabled !== null)
          ? ['tool_disabled']
          : []),
      ],
      version: deps.version,
      store: config.store.kind,
      connections: { open: connections.open, refusedPerAddress: connections.refusedPerAddress },
      pendingRows: deps.writer.pendingRows,
      accepted: deps.counters.accepted,
      dlpFindings: Object.values(deps.counters.findings).reduce(
        (n, kinds) => n + Object.values(kinds).reduce((a, b) => a + b, 0),
        0,
      ),
    };
  });

  const sessions = new Sessions(deps.sessionKey, {
    revoke: (nonce, expires) => deps.store.revokeSession(nonce, expires),
    revoked: () => deps.store.revokedSessions(Date.now()),
  });
  registerDashboardRoutes(app, deps.live, sessions);
  registerCollectRoutes(app, deps);
  if (deps.tools) registerToolRoutes(app, prefix, deps.tools);
  registerApiRoutes(app, {
    live: deps.live,
    store: deps.store,
    version: deps.version,
    counters: deps.counters,
    pendingRows: () => deps.writer.pendingRows,
    health: () => ({
      ...deps.writer.health,
      connectionsOpen: connections.open,
      connectionsRefusedPerAddress: connections.refusedPerAddress,
    }),
    ...(deps.tools ? { tools: deps.tools } : {}),
    sessions,
    processMetrics,
    ...(deps.settings ? { settings: deps.settings } : {}),
    ...(deps.alerts ? { alerts: deps.alerts } : {}),
    proxy,
  });
  return app;
}
