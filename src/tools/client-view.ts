import type { SiteConfig } from '../config/schema.js';
import type { RawEvent } from '../pipeline/event.js';
import { applyClientIdRule } from '../privacy/client-id.js';
import { scanText } from '../privacy/dlp/scan.js';
import { scanUrlParts, scanUrlText } from '../privacy/dlp/url-parts.js';
import { applyIpRule } from '../privacy/ip.js';
import type { ToolPolicy } from '../privacy/policy.js';
import { cleanUrl } from '../privacy/query.js';
import { applyReferrerRule } from '../privacy/referrer.js';
import type { TrackerList } from '../privacy/trackers.js';
import { applyUserAgentRule } from '../privacy/user-agent.js';
import type { EventRow } from '../store/row.js';

/** What a tool may know of one event's visitor and page: every value already through its policy. */
export interface PrivacyView {
  url: URL;
  ip: string;
  userAgent: string;
  referer: string;
  language: string;
  title: string | undefined;
  timestamp: number;
  /** The id the tool's `clientId` rule gives (16 hex digits of the day's visitor hash when hashed). */
  clientId: string;
  /** What the script measured of the window and the clock, when it sent them (null otherwise). */
  timezoneOffset: number | null;
  viewportWidth: number | null;
  viewportHeight: number | null;
  /** The event's properties after the tool's query and DLP rules. */
  payload: Record<string, unknown>;
  /** DLP findings in this view (counted per tool; `drop` means the tool does not get the event). */
  findings: string[];
}

// Properties holding URLs get the query rule too (docs/privacy.md `query`).
const URL_PROPERTIES = new Set(['url', 'page_location', 'dl', 'dr']);

/** The day's visitor hash (a decimal 64-bit value) as 16 hex digits. */
export function hexClientId(visitorHash: string | null): string {
  if (!visitorHash) return '0000000000000000';
  return BigInt(visitorHash).toString(16).padStart(16, '0');
}

/**
 * What a tool's privacy view is made from, of the raw event: the page URL, referrer, IP,
 * User-Agent, language, the tool's own client id and the properties; never the rest.
 */
export type ToolInput = Pick<
  RawEvent,
  | 'url'
  | 'referrer'
  | 'ip'
  | 'userAgent'
  | 'language'
  | 'vendorId'
  | 'props'
  | 'viewportWidth'
  | 'viewportHeight'
  | 'timezoneOffset'
>;

/**
 * Builds the privacy view of an event for one tool: URL and referrer through the `query` and
 * `referrer` rules, IP through `ip` (empty when hidden), User-Agent through `userAgent` (empty
 * when removed), client id through `clientId`, and DLP (the tool's mode) over the title and every
 * property. The raw request is never handed to a component.
 */
export function privacyView(
  raw: ToolInput,
  row: EventRow,
  site: SiteConfig,
  policy: ToolPolicy,
  trackers: TrackerList,
): PrivacyView {
  const findings: string[] = [];
  const scan = (text: string): string => {
    const result = scanText(text, policy.dlp);
    findings.push(...result.found);
    return result.text;
  };
  const walk = (value: unknown, key: string | null, depth: number): unknown => {
    if (typeof value === 'string') {
      // The query rule applies to the named URL properties and, stricter than docs/privacy.md asks,
      // to any value that is an absolute http(s) URL.
      const isUrl = (key !== null && URL_PROPERTIES.has(key)) || /^https?:\/\//i.test(value);
      if (!isUrl) return scan(value);
      const cleaned = cleanUrl(value, policy.query, trackers) ?? value;
      // A URL: each of its parts scanned on its own (a finding masks that part only).
      return scanUrlText(cleaned, scan);
    }
    if (depth > 4) return null;
    if (Array.isArray(value)) return value.map((v) => walk(v, null, depth + 1));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        out[scan(k)] = walk(v, k, depth + 1);
      return out;
    }
    return value;
  };
  const pageUrl = cleanUrl(raw.url, policy.query, trackers) ?? `https://${site.host}/`;
  const payload = (raw.props ? walk(raw.props, null, 0) : {}) as Record<string, unknown>;
  const title = row.title === null ? undefined : scan(row.title);
  const url = new URL(pageUrl);
  // Every path segment, kept query value and the fragment, each decoded (as often as it was
  // encoded) before the scan: `?email=jean%2540example.fr` is masked like `?email=jean@example.fr`.
  scanUrlParts(url, scan);
  const referer = applyReferrerRule(raw.referrer, site, policy.referrer, policy.query, trackers) ?? '';
  return {
    url,
    ip: applyIpRule(raw.ip, policy.ip) ?? '',
    userAgent: applyUserAgentRule(raw.userAgent, policy.userAgent) ?? '',
    referer: scanUrlText(referer, scan),
    language: raw.language ?? '',
    title,
    timestamp: row.ts,
    clientId: applyClientIdRule(policy.clientId, hexClientId(row.visitorHash), raw.vendorId ?? null) ?? '',
    timezoneOffset: raw.timezoneOffset ?? null,
    viewportWidth: raw.viewportWidth ?? null,
    viewportHeight: raw.viewportHeight ?? null,
    payload,
    findings,
  };
}
