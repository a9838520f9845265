import type { FastifyInstance } from 'fastify';
import { RateLimiter } from '../collect/rate-limit.js';
import type { CollectCounters } from '../collect/routes.js';
import type { Config } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import { detectSeriesAnomalies } from '../insights/detectors/detectSeriesAnomalies.js';
import { detectSpikes } from '../insights/detectors/spikes.js';
import { getSeries } from '../insights/getSeries.js';
import type { Store } from '../store/store.js';
import { authenticate } from './auth.js';
import { prometheusText } from './metrics.js';
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
  },
): void {
  const base = `${deps.config.server.prefix}/api/v1`;
  const limiter = new RateLimiter(API_QUERIES_PER_MINUTE);
  const document = openApiDocument(deps.config.server.prefix, deps.version);

  app.get(`${base}/openapi.json`, () => document);

  app.get(`${deps.config.server.prefix}/metrics`, (request, reply) => {
    authenticate(request, deps.config.admin.tokens);
    return reply
      .header('content-type', 'text/plain; version=0.0.4')
      .send(prometheusText(deps.counters, deps.pendingRows()));
  });

  app.post(`${base}/detect/:detector`, async (request) => {
    const token = authenticate(request, deps.config.admin.tokens);
    const wait = limiter.hit(token);
    if (wait > 0)
      throw new BaliseError(
        'rate_limited',
        429,
        'too many queries for this token; retry later',
        undefined,
        wait,
      );
    const { detector } = request.params as { detector: string };
    if (detector === 'anomalies')
      return detectSeriesAnomalies(deps.store, deps.config, (request.body ?? {}) as Record<string, unknown>);
    if (detector !== 'spikes' && detector !== 'dips') {
      throw new BaliseError(
        'invalid_query',
        400,
        'detector must be spikes, dips or anomalies (others come later)',
        'detector',
      );
    }
    const direction: 'spikes' | 'dips' = detector;
    const { limit, floor, ...query } = (request.body ?? {}) as Record<string, unknown>;
    const options = {
      direction,
      ...(typeof limit === 'number' ? { limit } : {}),
      ...(typeof floor === 'number' ? { floor } : {}),
    };
    return detectSpikes(deps.store, deps.config, query, options);
  });

  app.post(`${base}/series`, async (request) => {
    const token = authenticate(request, deps.config.admin.tokens);
    const wait = limiter.hit(token);
    if (wait > 0)
      throw new BaliseError(
        'rate_limited',
        429,
        'too many queries for this token; retry later',
        undefined,
        wait,
      );
    const result = await getSeries(deps.store, deps.config, request.body ?? {});
    return { sites: result.sites, tz: result.tz, metric: result.query.metric, rows: result.rows };
  });
}
