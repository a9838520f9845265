import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import proxyaddr from 'proxy-addr';
import type { SiteConfig } from '../config/schema.js';
import { hostOf, type SiteIndex } from '../config/sites.js';
import type { RawEvent } from '../pipeline/event.js';
import { endToEnd, failureStatus, forward, targetPath } from './forward.js';
import type { RequestRecorder } from './requests.js';
import { Protection } from './protect.js';
import { Upstreams } from './upstreams.js';

/** What the proxy needs of the gateway. */
export interface ProxyDeps {
  sites: SiteIndex;
  prefix: string;
  trustedProxies: readonly string[];
  recorder: RequestRecorder;
  logError: (line: string) => void;
}

/**
 * Proxy mode (docs/proxy.md): a request whose Host is a site with `proxy` and whose path is
 * outside the gateway's prefix goes to that site's upstream, its answer streamed back (HTML with
 * the script), and becomes an event of type `request`. Only configured hosts are proxied — an
 * unknown Host never reaches here — and the upstream comes from the configuration alone.
 */
export class SiteProxy {
  private readonly upstreams = new Map<
    string,
    { site: SiteConfig; upstreams: Upstreams; protection: Protection }
  >();
  /** Sites switched to "under attack" (by hand: the API or the dashboard), kept across reloads. */
  private readonly attacked = new Set<string>();
  private readonly trust: (address: string, hop: number) => boolean;

  constructor(private readonly deps: ProxyDeps) {
    this.trust = proxyaddr.compile([...deps.trustedProxies]);
  }

  /** The proxied site of a request, or null when the gateway answers it itself. */
  siteOf(request: IncomingMessage): SiteConfig | null {
    const site = this.deps.sites.find(hostOf(request.headers.host ?? ''));
    if (!site?.proxy) return null;
    const url = request.url ?? '/';
    const path = targetPath(url) ?? url;
    const prefix = this.deps.prefix;
    if (path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`)) return null;
    return site;
  }

  /** Forwards one request of a proxied site and records it. */
  async handle(site: SiteConfig, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const path = targetPath(request.url);
    if (path === null) {
      response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('bad request target\n');
      return;
    }
    const { upstreams, protection } = this.entryOf(site);
    const upstream = upstreams.pick();
    const proxy = site.proxy!;
    // Read before the answer: once it is sent, the request may no longer have its socket.
    const peer = request.socket.remoteAddress ?? '';
    const clientIp = proxyaddr(request, this.trust);
    const decision = protection.decide(clientIp, path);
    const trusted = this.trust(peer, 0);
    const previous = trusted ? request.headers['x-forwarded-for'] : undefined;
    const forwardedFor = previous ? `${String(previous)}, ${peer}` : peer;
    const proto =
      (request.socket as { encrypted?: boolean }).encrypted === true
        ? 'https'
        : trusted && typeof request.headers['x-forwarded-proto'] === 'string'
          ? request.headers['x-forwarded-proto']
          : 'http';
    let status: number;
    let bytes = 0;
    let cache: string | null = null;
    let node: string | null = upstream.name;
    try {
      if (!decision.ok) {
        node = null;
        status = 429;
        response
          .writeHead(429, {
            'content-type': 'text/plain; charset=utf-8',
            'retry-after': String(decision.retryAfter),
          })
          .end('too many requests; retry later\n');
        request.resume();
      } else {
        const done = await forward(request, response, {
          upstream,
          path,
          forwardedFor,
          proto,
          timeoutMs: proxy.timeoutMs,
          scriptSrc: proxy.inject ? `${this.deps.prefix}/s.js` : null,
        });
        ({ status, bytes, cache } = done);
      }
    } catch (error) {
      status = failureStatus(error);
      if (status === 502) upstreams.failed(upstream);
      if (!response.headersSent)
        response
          .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', via: '1.1 balise' })
          .end(status === 504 ? 'the site did not answer in time\n' : 'the site cannot be reached\n');
      else response.destroy();
    }
    const raw: RawEvent = {
      type: 'request',
      name: null,
      url: `${proto}://${site.host}${path}`,
      title: null,
      referrer: typeof request.headers.referer === 'string' ? request.headers.referer : null,
      clientTimestamp: null,
      props: {
        method: request.method ?? 'GET',
        duration_ms: Date.now() - started,
        ...(cache ? { cache } : {}),
      },
      ip: clientIp,
      userAgent: request.headers['user-agent'] ?? '',
      receivedAt: started,
      source: 'proxy',
      status,
      bytes,
      node,
    };
    this.deps.recorder.record(site, raw);
  }

  /**
   * Passes a WebSocket (or any Upgrade) of a proxied site to its upstream, both ways; true when
   * the socket was taken.
   */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const site = this.siteOf(request);
    const path = targetPath(request.url);
    if (!site || path === null) return false;
    const upstream = this.entryOf(site).upstreams.pick();
    const target = new URL(upstream.origin);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = endToEnd(request.headers);
    headers.connection = 'Upgrade';
    headers.upgrade = String(request.headers.upgrade ?? 'websocket');
    const outgoing = send({
      host: target.hostname,
      port: target.port || undefined,
      path,
      method: request.method,
      headers,
    });
    outgoing.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
      // A WebSocket may be quiet for long: the server's idle timeout is for HTTP requests.
      (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(0);
      const lines = [`HTTP/1.1 101 ${answer.statusMessage ?? 'Switching Protocols'}`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2)
        lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upstreamHead.length) socket.write(upstreamHead);
      upstreamSocket.pipe(socket).pipe(upstreamSocket);
      const close = () => {
        upstreamSocket.destroy();
        socket.destroy();
      };
      upstreamSocket.on('error', close);
      socket.on('error', close);
    });
    outgoing.on('response', (answer) => {
      socket.end(
        `HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}\r\nconnection: close\r\n\r\n`,
      );
      answer.resume();
    });
    outgoing.on('error', () => socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n'));
    if (head.length) outgoing.write(head);
    outgoing.end();
    return true;
  }

  /** Stops the health checks, closes the upstream connections and ends the request recording. */
  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((entry) => entry.upstreams.close()));
    this.upstreams.clear();
    await this.deps.recorder.close();
  }

  /** Switches a proxied site's "under attack" mode; false when the host is not a proxied site. */
  setUnderAttack(host: string, on: boolean): boolean {
    const site = this.deps.sites.find(host);
    if (!site?.proxy) return false;
    if (on) this.attacked.add(site.host);
    else this.attacked.delete(site.host);
    this.entryOf(site).protection.underAttack = on;
    return true;
  }

  /** Each proxied site: its upstreams' health, its mode and its decisions. */
  status(): {
    site: string;
    underAttack: boolean;
    upstreams: { name: string; healthy: boolean }[];
    decisions: Protection['counts'];
  }[] {
    return this.deps.sites
      .list()
      .filter((site) => site.proxy !== undefined)
      .map((site) => ({ site, ...this.entryOf(site) }))
      .map(({ site, upstreams, protection }) => ({
        site: site.host,
        underAttack: protection.underAttack,
        upstreams: upstreams.list.map(({ name, healthy }) => ({ name, healthy })),
        decisions: { ...protection.counts },
      }));
  }

  /** The proxy's figures in the Prometheus text format (docs/metrics.md). */
  metricsText(): string {
    const status = this.status();
    if (status.length === 0) return '';
    const lines = [
      '# HELP balise_proxy_requests_total Proxied requests by decision: forwarded, or refused (prefix, path, under_attack).',
      '# TYPE balise_proxy_requests_total counter',
      ...status.flatMap((s) =>
        Object.entries(s.decisions).map(
          ([decision, n]) => `balise_proxy_requests_total{site="${s.site}",decision="${decision}"} ${n}`,
        ),
      ),
      '# HELP balise_proxy_under_attack 1 while a proxied site is under attack (switched by hand).',
      '# TYPE balise_proxy_under_attack gauge',
      ...status.map((s) => `balise_proxy_under_attack{site="${s.site}"} ${s.underAttack ? 1 : 0}`),
      '# HELP balise_proxy_upstream_healthy 1 while an upstream passes its health checks.',
      '# TYPE balise_proxy_upstream_healthy gauge',
      ...status.flatMap((s) =>
        s.upstreams.map(
          (u) => `balise_proxy_upstream_healthy{site="${s.site}",upstream="${u.name}"} ${u.healthy ? 1 : 0}`,
        ),
      ),
    ];
    return `${lines.join('\n')}\n`;
  }

  /** The site's upstreams and protection, made again when its configuration changed (settings applied live). */
  private entryOf(site: SiteConfig): { upstreams: Upstreams; protection: Protection } {
    const known = this.upstreams.get(site.host);
    if (known && known.site === site) return known;
    if (known) void known.upstreams.close();
    const proxy = site.proxy!;
    const origins = typeof proxy.upstream === 'string' ? [proxy.upstream] : proxy.upstream;
    const upstreams = new Upstreams(origins, proxy.healthCheck, (upstream, healthy) =>
      this.deps.logError(`proxy: ${site.host} upstream ${upstream.name} is ${healthy ? 'back' : 'down'}`),
    );
    const protection = new Protection(proxy.protect);
    protection.underAttack = this.attacked.has(site.host);
    const entry = { site, upstreams, protection };
    this.upstreams.set(site.host, entry);
    return entry;
  }
}
