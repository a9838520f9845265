import { Pool } from 'undici';

/** One origin a proxied site's requests go to. */
export interface Upstream {
  origin: string;
  /** `host:port`: the serving node its requests are counted under (the shifts detector's node). */
  name: string;
  pool: Pool;
  healthy: boolean;
}

/** What the health checks do, from `proxy.healthCheck`. */
export interface HealthCheck {
  path: string;
  intervalMs: number;
  timeoutMs: number;
}

/**
 * A site's upstreams in order of preference: requests go to the first healthy one. With several,
 * each is checked every `intervalMs` (a GET of `path` that must answer below 500 within
 * `timeoutMs`) and one that fails a request's connection is taken out at once until a check
 * passes: the traffic moves to the next, and back when the first recovers.
 */
export class Upstreams {
  readonly list: Upstream[];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    origins: readonly string[],
    private readonly check: HealthCheck,
    private readonly onChange: (upstream: Upstream, healthy: boolean) => void = () => undefined,
  ) {
    this.list = origins.map((origin) => {
      const url = new URL(origin);
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      return {
        origin: url.origin,
        name: `${url.hostname}:${port}`,
        // Upstream answers are streamed to the client: no body timeout of undici's own.
        pool: new Pool(url.origin, { connections: 128, pipelining: 1, bodyTimeout: 0 }),
        healthy: true,
      };
    });
    if (this.list.length > 1) {
      this.timer = setInterval(() => void this.checkAll(), check.intervalMs);
      this.timer.unref();
    }
  }

  /** The upstream to use now: the first healthy one (the first of all when none is). */
  pick(): Upstream {
    return this.list.find((upstream) => upstream.healthy) ?? this.list[0]!;
  }

  /** An upstream whose connection failed: out until a health check passes (when there are others). */
  failed(upstream: Upstream): void {
    if (this.list.length > 1) this.set(upstream, false);
  }

  /** Runs every upstream's health check once. */
  async checkAll(): Promise<void> {
    await Promise.all(
      this.list.map(async (upstream) => {
        let healthy = false;
        try {
          const answer = await upstream.pool.request({
            path: this.check.path,
            method: 'GET',
            headers: { 'user-agent': 'balise-health-check' },
            headersTimeout: this.check.timeoutMs,
            bodyTimeout: this.check.timeoutMs,
          });
          await answer.body.dump();
          healthy = answer.statusCode < 500;
        } catch {
          healthy = false;
        }
        this.set(upstream, healthy);
      }),
    );
  }

  /** Stops the checks and closes the connections. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.list.map((upstream) => upstream.pool.close()));
  }

  private set(upstream: Upstream, healthy: boolean): void {
    if (upstream.healthy === healthy) return;
    upstream.healthy = healthy;
    this.onChange(upstream, healthy);
  }
}
