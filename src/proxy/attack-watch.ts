import type { SiteConfig } from '../config/schema.js';
import type { SiteProxy } from './proxy.js';

/** How long the detector must find nothing before a site it switched goes back (ms). */
const QUIET_MS = 5 * 60_000;

/**
 * Switches proxied sites with `protect.auto` to "under attack" when the attack detector finds a
 * burst in their last ten minutes of requests, and back once it has found none for five minutes
 * — only the sites it switched itself (a switch made by hand stays until undone by hand).
 */
export class AttackWatch {
  private timer: NodeJS.Timeout | null = null;
  /** Sites this watch switched, with the last time the detector still found a burst. */
  private readonly switched = new Map<string, number>();
  private running = false;

  constructor(
    private readonly proxy: SiteProxy,
    private readonly sites: () => readonly SiteConfig[],
    /** True when the attack detector finds a burst on the site in its last ten minutes. */
    private readonly detect: (site: SiteConfig) => Promise<boolean>,
    private readonly log: (line: string) => void,
    private readonly everyMs = 30_000,
  ) {}

  /** Looks every `everyMs`. */
  start(): void {
    this.timer = setInterval(() => void this.look(), this.everyMs);
    this.timer.unref();
  }

  /** Stops looking. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One look at every site that asks for it. */
  async look(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const site of this.sites()) {
        if (!site.proxy?.protect.auto) continue;
        let found: boolean;
        try {
          found = await this.detect(site);
        } catch (error) {
          this.log(
            `proxy: the attack detector failed for ${site.host}: ${error instanceof Error ? error.message : String(error)}`,
          );
          continue;
        }
        if (found) {
          if (!this.switched.has(site.host) && this.proxy.setUnderAttack(site.host, true))
            this.log(
              `proxy: ${site.host} is under attack (the attack detector found a burst); the small bucket applies`,
            );
          this.switched.set(site.host, now);
        } else {
          const last = this.switched.get(site.host);
          if (last !== undefined && last < now - QUIET_MS) {
            this.switched.delete(site.host);
            this.proxy.setUnderAttack(site.host, false);
            this.log(
              `proxy: ${site.host} is no longer under attack (the detector found nothing for 5 minutes)`,
            );
          }
        }
      }
    } finally {
      this.running = false;
    }
  }
}
