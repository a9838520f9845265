import type { SiteConfig } from '../config/schema.js';
import type { RowSource, RowType } from '../store/row.js';

/**
 * What arrives before any step: the raw values, held in memory only. Steps read from it and fill
 * `row`; only `row` is ever stored, and it has no field for an IP, a raw UA or a query string.
 */
export interface RawEvent {
  type: RowType;
  name: string | null;
  /** Full page URL as sent (may carry a query string and fragment). */
  url: string;
  title: string | null;
  referrer: string | null;
  /** Client clock, ms since the epoch, if sent. */
  clientTimestamp: number | null;
  props: Record<string, unknown> | null;
  ip: string;
  userAgent: string;
  receivedAt: number;
  source: RowSource;
  status?: number | null;
  bytes?: number | null;
  /** First language of Accept-Language, for tools (e.g. `fr-FR`). */
  language?: string;
  /** The serving node a log line names (imports); live events get the context's node. */
  node?: string | null;
  /** Values a log gives itself (CDN exports): they win over the lookups of the IP and User-Agent. */
  country?: string | null;
  region?: string | null;
  asn?: number | null;
  deviceType?: string | null;
  /** The browser window's width in CSS pixels, if the script sent it (its screen class is kept). */
  viewportWidth?: number | null;
  /** The window's height and the visitor's time-zone offset (minutes), for tools that read them. */
  viewportHeight?: number | null;
  timezoneOffset?: number | null;
  /** The tool's own client id, if the browser sent one (used only by `clientId: keep`). */
  vendorId?: string | null;
}

/** Services and settings the steps may use (no process-level state). */
export interface PipelineContext {
  /** The node rows are stamped with (null for imports: the log names its own). */
  node: string | null;
  /** Returns the visitor hash for (ip, ua, site) at time `ts` in the site's time zone. */
  visitorHash(site: SiteConfig, ip: string, userAgent: string, ts: number): Promise<string> | string;
  geo(ip: string): { country: string | null; region: string | null; asn: number | null };
  /** Counts one DLP finding (never its value). */
  countFinding(site: string, kind: string): void;
}
