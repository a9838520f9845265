import { isUtf8 } from 'node:buffer';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { registerApiRoutes } from './api/routes.js';
import { registerCollectRoutes, type CollectDeps } from './collect/routes.js';
import { BaliseError } from './errors.js';
import { registerToolRoutes } from './tools/routes.js';
import { registerDashboardRoutes } from './ui/routes.js';
import { Sessions } from './ui/sessions.js';
import type { Store } from './store/store.js';
import type { LiveConfig } from './config/live.js';
import type { SettingsEditor } from './settings/editor.js';

/** Largest request body accepted by collect (THREATS.md: oversized bodies). */
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
}

/** Maps Fastify's own errors to Balise's stable codes. */
function toBaliseError(error: FastifyError | BaliseError): BaliseError {
  if (error instanceof BaliseError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BaliseError('body_too_large', 413, `request body larger than ${BODY_LIMIT} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new BaliseError('unsupported_media_type', 415, 'send application/json or text/plain');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_BODY':
      return new BaliseError('invalid_json', 400, 'empty body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new BaliseError('invalid_request', 400, 'content-length does not match the body');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new BaliseError('invalid_request', status, 'invalid request');
  return new BaliseError('internal', 500, 'internal error');
}

/**
 * Builds the HTTP app without listening (tests use `app.inject`). Client IP comes from the
 * socket unless `trustedProxies` covers the peer; then the right-most untrusted X-Forwarded-For hop.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const prefix = config.server.prefix;
  const proxies = config.server.trustedProxies;
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    trustProxy: proxies.length > 0 ? [...proxies] : false,
    // No per-request logger: failures are reported through deps.logError with a code and a
    // route only — never IPs, queries, bodies or tokens (THREATS.md, logs).
    logger: false,
    return503OnClosing: true,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'buffer' },
    (_request, body, done) => {
      if (!isUtf8(body as Buffer)) {
        done(new BaliseError('invalid_encoding', 400, 'body is not valid UTF-8'), undefined);
        return;
      }
      const text = (body as Buffer).toString('utf8');
      if (text.trim().length === 0) {
        done(new BaliseError('invalid_json', 400, 'empty body'), undefined);
        return;
      }
      try {
        done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
      } catch {
        done(
          new BaliseError('invalid_json', 400, 'body is not valid JSON (or uses __proto__/constructor keys)'),
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
      deps.logError?.(
        `${mapped.code} on ${request.method} ${request.routeOptions.url ?? '(no route)'}: ${reason}`,
      );
    }
    if (mapped.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(mapped.retryAfterSeconds));
    return reply.code(mapped.status).send(mapped.toJSON());
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(new BaliseError('not_found', 404, 'no such route').toJSON()),
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
      ],
      version: deps.version,
      store: config.store.kind,
      pendingRows: deps.writer.pendingRows,
      accepted: deps.counters.accepted,
      dlpFindings: Object.values(deps.counters.findings).reduce(
        (n, kinds) => n + Object.values(kinds).reduce((a, b) => a + b, 0),
        0,
      ),
    };
  });

  const sessions = new Sessions();
  registerDashboardRoutes(app, deps.live, sessions);
  registerCollectRoutes(app, deps);
  if (deps.tools) registerToolRoutes(app, prefix, deps.tools);
  registerApiRoutes(app, {
    live: deps.live,
    store: deps.store,
    version: deps.version,
    counters: deps.counters,
    pendingRows: () => deps.writer.pendingRows,
    ...(deps.tools ? { tools: deps.tools, outboxPending: () => deps.tools!.outboxPending } : {}),
    sessions,
    ...(deps.settings ? { settings: deps.settings } : {}),
  });
  return app;
}
