import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Which part of the gateway a request went to (a small, closed set of label values). */
export type RouteGroup = 'collect' | 'script' | 'api' | 'dashboard' | 'tools' | 'health' | 'other';

// Node.js and process figures are the process's, whatever the number of gateways in it: collected
// once, into one registry, the first time a gateway asks.
let processRegistry: Registry | undefined;
function processWide(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}

// When a request reached the gateway's HTTP server (performance.now()), kept on Node's own request.
const ARRIVED = Symbol('balise.arrived');
type Stamped = IncomingMessage & { [ARRIVED]?: number };

/**
 * Stamps a request as it reaches the server, for its latency (`ProcessMetrics.observe`). Fastify's
 * own timing (`reply.elapsedTime`) is 0 without a request logger or an onResponse hook, which the
 * gateway has neither of.
 */
export function stampArrival(request: IncomingMessage): void {
  (request as Stamped)[ARRIVED] = performance.now();
}

/**
 * This gateway's metrics on `prom-client`: Node.js and process figures (CPU, memory, event-loop
 * delay, garbage collection, handles) and the latency of its requests per route group, as
 * histograms (one registry per gateway: several gateways in one process stay apart). The counters
 * of what collect did are written beside them (`prometheusText`).
 */
export class ProcessMetrics {
  private readonly registry = new Registry();
  private readonly latency: Histogram<'route' | 'method'>;

  constructor(private readonly prefix: string) {
    processWide();
    this.latency = new Histogram({
      name: 'balise_http_request_duration_seconds',
      help: 'Time from request to response, per route group (collect, script, api, dashboard, tools, health, other) and method.',
      labelNames: ['route', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /** The route group of a matched route pattern. */
  private group(url: string | undefined): RouteGroup {
    if (!url || !url.startsWith(this.prefix)) return 'other';
    const rest = url.slice(this.prefix.length);
    if (rest === '/e') return 'collect';
    if (rest === '/s.js') return 'script';
    if (rest.startsWith('/api/')) return 'api';
    if (rest.startsWith('/ui')) return 'dashboard';
    if (rest.startsWith('/mc/')) return 'tools';
    if (rest === '/healthz' || rest === '/metrics') return 'health';
    return 'other';
  }

  /**
   * Records an answer's latency — from the request's arrival at the server (`stampArrival`) to
   * its answer handed to Fastify's sending — by the route it matched. A request that did not come
   * through the server (Fastify's `inject`) has no stamp and is not counted.
   */
  observe(request: FastifyRequest): void {
    const arrived = (request.raw as Stamped)[ARRIVED];
    if (arrived === undefined) return;
    this.latency.observe(
      { route: this.group(request.routeOptions.url), method: request.method },
      (performance.now() - arrived) / 1000,
    );
  }

  /** The metrics in the Prometheus text format. */
  text(): Promise<string> {
    return Registry.merge([processWide(), this.registry]).metrics();
  }
}
