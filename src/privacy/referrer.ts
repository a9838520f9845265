import { getDomain } from 'tldts';
import { Memo } from '../memo.js';
import { cleanUrl, type QueryRule } from './query.js';
import type { TrackerList } from './trackers.js';

/** The `referrer` switch (docs/privacy.md). */
export type ReferrerRule = 'keep' | 'strip-external' | 'remove';

// Hosts repeat (a site's own, the search engines): the Public Suffix List is asked once per host.
const domains = new Memo<string>(10_000);
const computeDomain = (host: string) => getDomain(host) ?? host;

/** Registrable domain (Public Suffix List, via tldts), or the host itself for IPs and local names. */
export function registrableDomain(host: string): string {
  return domains.get(host, computeDomain);
}

/** A site's hosts and their registrable domains, to test referrers against. */
export function siteDomains(siteHosts: readonly string[]): ReadonlySet<string> {
  return new Set(siteHosts.flatMap((h) => [h, registrableDomain(h)]));
}

/** The hosts of a site: its own and its aliases. */
export interface SiteHosts {
  host: string;
  aliases: readonly string[];
}

// Computed once per (frozen) site object, for the collect step and every tool's privacy view.
const domainsOf = new WeakMap<SiteHosts, ReadonlySet<string>>();

/** `siteDomains` of a site's host and aliases, remembered per site. */
export function domainsOfSite(site: SiteHosts): ReadonlySet<string> {
  let domains = domainsOf.get(site);
  if (!domains) domainsOf.set(site, (domains = siteDomains([site.host, ...site.aliases])));
  return domains;
}

/** True when `host` is one of the site's hosts or shares its registrable domain (internal navigation). */
export function isInternalHost(host: string, domains: ReadonlySet<string>): boolean {
  return domains.has(host) || domains.has(registrableDomain(host));
}

/**
 * The referrer a tool may receive: `remove` → none; `strip-external` → an external referrer is
 * removed, an internal one keeps its path after the `query` rule; `keep` → after the `query` rule.
 */
export function applyReferrerRule(
  referrer: string | null,
  site: SiteHosts,
  rule: ReferrerRule,
  query: QueryRule,
  trackers: TrackerList,
): string | null {
  if (!referrer || rule === 'remove') return null;
  const cleaned = cleanUrl(referrer, query, trackers);
  if (cleaned === null) return null;
  if (rule === 'strip-external' && !isInternalHost(new URL(cleaned).hostname, domainsOfSite(site)))
    return null;
  return cleaned;
}
