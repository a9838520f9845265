import { getDomain } from 'tldts';
import { cleanUrl, type QueryRule } from './query.js';
import type { TrackerList } from './trackers.js';

/** The `referrer` switch (PRIVACY.md). */
export type ReferrerRule = 'keep' | 'strip-external' | 'remove';

/** Registrable domain (Public Suffix List, via tldts), or the host itself for IPs and local names. */
export function registrableDomain(host: string): string {
  return getDomain(host) ?? host;
}

/** True when `host` has the registrable domain of one of `siteHosts` (internal navigation). */
export function isInternalHost(host: string, siteHosts: readonly string[]): boolean {
  const domain = registrableDomain(host);
  return siteHosts.some((h) => h === host || registrableDomain(h) === domain);
}

/**
 * The referrer a tool may receive: `remove` → none; `strip-external` → an external referrer is
 * removed, an internal one keeps its path after the `query` rule; `keep` → after the `query` rule.
 */
export function applyReferrerRule(
  referrer: string | null,
  siteHosts: readonly string[],
  rule: ReferrerRule,
  query: QueryRule,
  trackers: TrackerList,
): string | null {
  if (!referrer || rule === 'remove') return null;
  const cleaned = cleanUrl(referrer, query, trackers);
  if (cleaned === null) return null;
  if (rule === 'strip-external' && !isInternalHost(new URL(cleaned).hostname, siteHosts)) return null;
  return cleaned;
}
