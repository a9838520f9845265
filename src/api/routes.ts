import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiter } from '../collect/rate-limit.js';
import type { CollectCounters } from '../collect/routes.js';
import type { Config } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import { runDetector } from '../insights/detectors/run.js';
import { getSeries } from '../insights/getSeries.js';
import type { Store } from '../store/store.js';
import { authenticate } from './auth.js';
import type { ToolRuntime } from '../tools/runtime.js';
import type { Sessions } from '../ui/sessions.js';
import { prometheusText } from './metrics.js';
import { queryEgress } from '../tools/egress-query.js';
import { openApiDocument } from './openapi.js';

/** Queries per token per minute (THREATS.md: expensive queries). */
export const API_QUERIES_PER_MINUTE = 120;

/** Registers the insights API under {prefix}/api/v1 (Bearer-token auth; OpenAPI document public). */
export function registerApiRoutes(
  app: FastifyInstance,
  deps: {
    config: Config;
    store: Store;
    version: string;
    counters: CollectCounters;
    pendingRows: () => number;
    tools?: ToolRuntime;
    outboxPending?: () => number;
    sessions?: Sessions;
  },
): void {
  const base = `${deps.config.server.prefix}/api/v1`;
  const limiter = new RateLimiter(API_QUERIES_PER_MINUTE);
  const startedAt = new Date().toISOString();
  const document = openApiDocument(deps.config.server.prefix, deps.version);

  /** A dashboard session (with its CSRF token on POST) or a Bearer token, then the per-caller query limit. */
  const authorizeQuery = (request: FastifyRequest): void => {
    const session = request.headers.authorization ? undefined : deps.sessions?.find(request);
    if (session && request.method !== 'GET') deps.sessions!.checkCsrf(request, session);
    const token = session ? `session:${session.id}` : authenticate(request, deps.config.admin.tokens);
    const wait = limiter.hit(token);
    if (wait > 0)
      throw new BaliseError(
        'rate_limited',
        429,
        'too many queries for this token; retry later',
        undefined,
        wait,
      );
  };

  app.get(`${base}/openapi.json`, () => document);

  app.get(`${deps.config.server.prefix}/metrics`, (request, reply) => {
    authenticate(request, deps.config.admin.tokens);
    return reply
      .header('content-type', 'text/plain; version=0.0.4')
      .send(prometheusText(deps.counters, deps.pendingRows(), deps.tools?.stats(), deps.outboxPending?.()));
  });

  app.get(`${base}/dlp`, (request) => {
    authorizeQuery(request);
    return { since: startedAt, findings: deps.counters.findings };
  });

  app.get(`${base}/egress`, async (request) => {
    authorizeQuery(request);
    return { records: await queryEgress(deps.store, request.query ?? {}) };
  });

  app.post(`${base}/detect/:detector`, async (request) => {
    authorizeQuery(request);
    const { detector } = request.params as { detector: string };
    const body = request.body;
    const input =
      body !== null && typeof body === 'object' && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : {};
    return runDetector(deps.store, deps.config, detector, input);
  });

  app.post(`${base}/series`, async (request) => {
    authorizeQuery(request);
    const result = await getSeries(deps.store, deps.config, request.body ?? {});
    return {
      sites: result.sites,
      tz: result.tz,
      metric: result.query.metric,
      plan: result.plan,
      rows: result.rows,
    };
  });
}
