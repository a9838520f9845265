import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import type { PipelineContext, RawEvent } from '../pipeline/event.js';
import { Pipeline } from '../pipeline/runner.js';
import type { BrowserActions, ToolRuntime } from '../tools/runtime.js';
import { PIPELINE_STEPS } from '../pipeline/steps.js';
import type { EventRow } from '../store/row.js';
import { storageUnavailable, type DurableWriter } from '../store/writer.js';
import { MAX_EVENTS_PER_REQUEST, parseWireBody, type WireEvent } from './event-schema.js';
import { requestConsent } from './consent.js';
import { debugging } from './debug-key.js';
import { allowSiteOrigin, registerPreflight } from './cors.js';
import { RateLimiter } from '../http/rate-limit.js';
import type { ClientScript } from './script.js';
import type { SiteIndex } from '../config/sites.js';
import { zodPath } from '../zod-path.js';

/** Counters of what collect did, per node (exposed by healthz, later by metrics). */
export interface CollectCounters {
  accepted: number;
  /** DLP findings per site and kind (never values). */
  findings: Record<string, Record<string, number>>;
  dropped: Record<string, number>;
  rejected: Record<string, number>;
  /**
   * Requests that carried X-Forwarded-For from a peer `server.trustedProxies` does not list: the
   * address was not believed (behind an unlisted proxy, every visitor gets the proxy's address).
   */
  untrustedForwarded?: number;
}

/** What the collect routes need from the gateway. */
export interface CollectDeps {
  config: Config;
  sites: SiteIndex;
  writer: DurableWriter;
  pipeline: PipelineContext;
  script: ClientScript;
  counters: CollectCounters;
  /** The tools runtime; absent when no site has tools. */
  tools?: ToolRuntime;
  /** Where a misconfiguration seen in traffic is reported (once). */
  logError?: (line: string) => void;
}

function toRaw(event: WireEvent, ip: string, userAgent: string, receivedAt: number): RawEvent {
  return {
    type: event.eventType === 'track' ? 'event' : event.eventType,
    name: event.name ?? null,
    url: event.location,
    title: event.title ?? null,
    referrer: event.referer || null,
    clientTimestamp: event.timestamp ?? null,
    props: event.payload ?? null,
    ip,
    userAgent,
    receivedAt,
    source: 'browser',
    ...(event.language ? { language: event.language } : {}),
    viewportWidth: event.viewportWidth ?? null,
    viewportHeight: event.viewportHeight ?? null,
    timezoneOffset: event.offset ?? null,
  };
}

/** Registers GET {prefix}/s.js and POST {prefix}/e. */
export function registerCollectRoutes(app: FastifyInstance, deps: CollectDeps): void {
  const { config, sites, writer, pipeline, script, counters, tools } = deps;
  const prefix = config.server.prefix;
  const perIp = new RateLimiter(config.server.rateLimit.perIpPerMinute);
  const perSite = new RateLimiter(config.server.rateLimit.perSitePerMinute);
  // Live events are unlike one another (times, ids): no memo beyond the steps' own lookups.
  const steps = new Pipeline(PIPELINE_STEPS);

  app.get(`${prefix}/s.js`, (request: FastifyRequest, reply: FastifyReply) => {
    void reply
      .header('content-type', 'application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .header('etag', script.etag)
      .header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === script.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      return reply.header('content-encoding', 'gzip').send(script.gzip);
    }
    return reply.send(script.body);
  });

  registerPreflight(app, `${prefix}/e`, sites);
  // Behind a reverse proxy that trustedProxies does not list, every visitor gets the proxy's
  // address: visitor counts and geolocation are wrong without a word. Counted (healthz,
  // /metrics), and said in the log once, at the first sign.
  let proxyWarned = false;
  app.post(`${prefix}/e`, async (request: FastifyRequest, reply: FastifyReply) => {
    // The header was not believed when the client address is still the socket's peer.
    if (request.headers['x-forwarded-for'] !== undefined && request.ip === request.socket.remoteAddress) {
      deps.counters.untrustedForwarded = (deps.counters.untrustedForwarded ?? 0) + 1;
    }
    if (!proxyWarned && (deps.counters.untrustedForwarded ?? 0) > 0) {
      proxyWarned = true;
      deps.logError?.(
        // The peer's address is not written: it may be a visitor's own.
        "untrusted_proxy: requests carry X-Forwarded-For from a peer that server.trustedProxies does not list, so every visitor gets that peer's address (visitor counts and geolocation are then wrong); if a reverse proxy sits in front of the gateway, add its address to server.trustedProxies",
      );
    }
    allowSiteOrigin(sites, request, reply);
    const site = sites.resolve(request.headers.host, request.headers.origin);
    const ipWait = perIp.hit(request.ip);
    const siteWait = ipWait === 0 ? perSite.hit(site.host) : 0;
    if (ipWait > 0 || siteWait > 0) {
      throw new BaliseError(
        'rate_limited',
        'too many requests; retry later',
        undefined,
        Math.max(ipWait, siteWait),
      );
    }
    const body = request.body as { events?: unknown } | null;
    if (
      body &&
      typeof body === 'object' &&
      Array.isArray(body.events) &&
      body.events.length > MAX_EVENTS_PER_REQUEST
    ) {
      throw new BaliseError(
        'too_many_events',
        `at most ${MAX_EVENTS_PER_REQUEST} events per request`,
        'events',
      );
    }
    const parsed = parseWireBody(body);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      throw new BaliseError(
        'invalid_event',
        issue?.message ?? 'invalid event',
        issue ? zodPath(issue.path) : undefined,
      );
    }
    // Refused before any pipeline work while a backlog is full or the disk failing: the store's,
    // or — for a site with tools — the outbox's (a vendor down, or slower than the traffic).
    writer.admit(0);
    const withTools = tools?.hasTools(site.host) ?? false;
    if (withTools && tools!.outboxPending >= config.outbox.maxPending)
      throw new BaliseError('outbox_full', "the gateway's tools are behind; retry later", undefined, 1);

    const events = parsed.data;
    const receivedAt = Date.now();
    const userAgent = request.headers['user-agent'] ?? '';
    const rows: EventRow[] = [];
    const routes: { raw: RawEvent; row: EventRow; consent: WireEvent['consent'] }[] = [];
    for (const event of events) {
      const raw = toRaw(event, request.ip, userAgent, receivedAt);
      const pending = steps.run(raw, site, pipeline);
      const result = pending instanceof Promise ? await pending : pending;
      if (result.kind === 'ok') {
        rows.push(result.value);
        if (withTools) routes.push({ raw, row: result.value, consent: event.consent });
      } else counters.dropped[result.reason] = (counters.dropped[result.reason] ?? 0) + 1;
    }
    // Refused (503) before any tool is given the events: the backlog bound is checked and the
    // rows counted in it in this same turn, so concurrent requests cannot overshoot it.
    writer.admit(rows.length);
    const writing = writer.write(rows);
    const consent = withTools ? requestConsent(site, request.headers) : null;
    const debug = withTools && debugging(site, request.headers);
    const routed = routes.map((r) => tools!.dispatch(site, r.raw, r.row, consent!.of(r.consent), debug));
    // Both durable before the answer: the rows (spool) and every tool delivery (outbox).
    let actions: BrowserActions[] = [];
    try {
      if (routed.length === 0) await writing;
      else [, actions] = await Promise.all([writing, Promise.all(routed)]);
    } catch (error) {
      // The outbox's journal could not be written (a full disk): refused, like the spool's own failure.
      if (!(error instanceof BaliseError) && typeof (error as NodeJS.ErrnoException)?.code === 'string')
        throw storageUnavailable();
      throw error;
    }
    counters.accepted += rows.length;
    if (actions.length === 0) return reply.code(204).send();
    const answer: BrowserActions = { fetch: [], execute: [], return: {} };
    for (const a of actions) {
      answer.fetch.push(...a.fetch);
      answer.execute.push(...a.execute);
      Object.assign(answer.return, a.return);
      if (a.debug) (answer.debug ??= []).push(...a.debug);
    }
    if (answer.debug) reply.header('cache-control', 'no-store');
    if (answer.fetch.length || answer.execute.length || Object.keys(answer.return).length || answer.debug)
      return reply.code(200).send(answer);
    return reply.code(204).send();
  });
}
