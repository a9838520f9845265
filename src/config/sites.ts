import type { SiteConfig } from './schema.js';
import { BaliseError } from '../errors.js';

/** Host name of a Host header or an Origin, lower-case, without port or brackets. */
export function hostOf(value: string): string | null {
  let host = value.trim().toLowerCase();
  if (host.includes('://')) {
    try {
      host = new URL(host).hostname;
    } catch {
      return null;
    }
  } else {
    // host, host:port, [v6] or [v6]:port — anything else after the name (`www.example.fr:evil.com`,
    // a path, credentials) makes the header invalid rather than being cut off.
    const match = /^(\[[0-9a-f:.]+\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/.exec(host);
    if (!match) return null;
    host = match[1]!;
  }
  host = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return host.length > 0 ? host : null;
}

/** Finds the site of a request from configured hosts only (docs/threats.md: forged Host/Origin). */
export class SiteIndex {
  private byHost = new Map<string, SiteConfig>();

  constructor(sites: readonly SiteConfig[]) {
    this.replace(sites);
  }

  /** True when a site has proxy mode (the server then looks at each request's Host first). */
  proxied = false;

  /** Switches to a new list of sites at once (settings applied without a restart). */
  replace(sites: readonly SiteConfig[]): void {
    const byHost = new Map<string, SiteConfig>();
    for (const site of sites) for (const host of [site.host, ...site.aliases]) byHost.set(host, site);
    this.byHost = byHost;
    this.proxied = sites.some((site) => site.proxy !== undefined);
  }

  /** Every site, once each. */
  list(): SiteConfig[] {
    return [...new Set(this.byHost.values())];
  }

  /** The site a host name belongs to, if any. */
  find(host: string | null | undefined): SiteConfig | undefined {
    return host ? this.byHost.get(host) : undefined;
  }

  /** The site for an Origin header value, if it is one of a site's own origins. */
  forOrigin(origin: string | undefined): SiteConfig | undefined {
    return origin ? this.find(hostOf(origin)) : undefined;
  }

  /**
   * Resolves the site of a collect request: by Host; when the Host is not a site's (a shared
   * collector), by Origin. When both name a site they must agree. Throws 403 otherwise.
   */
  resolve(hostHeader: string | undefined, originHeader: string | undefined): SiteConfig {
    const byHost = this.find(hostHeader ? hostOf(hostHeader) : null);
    const byOrigin = originHeader && originHeader !== 'null' ? this.forOrigin(originHeader) : undefined;
    if (byHost && originHeader && originHeader !== 'null' && byOrigin !== byHost) {
      throw new BaliseError('origin_mismatch', 'Origin does not belong to the site of this host');
    }
    const site = byHost ?? byOrigin;
    if (!site) throw new BaliseError('unknown_site', 'no configured site for this Host or Origin');
    return site;
  }
}
