/** Kinds of stored rows. `event` is a custom track call, `request` a proxied or imported HTTP request. */
export type RowType = 'pageview' | 'event' | 'ecommerce' | 'request' | 'dns';

/** Where a row came from. */
export type RowSource = 'browser' | 'import' | 'proxy' | 'demo';

/**
 * One privacy-clean stored event (docs/architecture.md). By construction it has no field that
 * could hold an IP address, a raw User-Agent, a query string or a full external referrer URL.
 */
export interface EventRow {
  /** UUIDv7 made once at acceptance; every write is idempotent on it. */
  id: string;
  /** Event time, UTC, milliseconds since the epoch. */
  ts: number;
  site: string;
  type: RowType;
  name: string | null;
  /** URL path only (no query, no fragment). */
  path: string | null;
  title: string | null;
  referrerHost: string | null;
  referrerClass: string | null;
  country: string | null;
  /** ISO 3166-2 subdivision, e.g. FR-IDF. */
  region: string | null;
  asn: number | null;
  deviceType: string | null;
  browser: string | null;
  os: string | null;
  isBot: boolean;
  /** Keyed hash of (IP, UA, site) under the day's salt, as an unsigned 64-bit decimal string. */
  visitorHash: string | null;
  sessionHash: string | null;
  node: string | null;
  status: number | null;
  bytes: number | null;
  source: RowSource;
  /** Small JSON object of event properties, already cleaned. */
  props: string | null;
  /**
   * The campaign of the page URL (`utm_*`, `ref` or `source`), read before the query is dropped:
   * lower-cased, at most 100 characters, DLP-scanned.
   */
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  /** The URL carried an ad click id (`gclid`, `fbclid`, `msclkid`…); never its value. */
  paid: boolean;
  /** The browser window's class by width (`mobile`, `tablet`, `laptop`, `desktop`); never the width. */
  screenClass: 'mobile' | 'tablet' | 'laptop' | 'desktop' | null;
}

/** Column order shared by every store and the spool. */
export const ROW_COLUMNS = [
  'id',
  'ts',
  'site',
  'type',
  'name',
  'path',
  'title',
  'referrerHost',
  'referrerClass',
  'country',
  'region',
  'asn',
  'deviceType',
  'browser',
  'os',
  'isBot',
  'visitorHash',
  'sessionHash',
  'node',
  'status',
  'bytes',
  'source',
  'props',
  'utmSource',
  'utmMedium',
  'utmCampaign',
  'utmTerm',
  'utmContent',
  'paid',
  'screenClass',
] as const satisfies readonly (keyof EventRow)[];

/** The campaign's columns (the page URL's `utm_*` values, docs/insights.md#campaigns). */
export const CAMPAIGN_COLUMNS = ['utmSource', 'utmMedium', 'utmCampaign', 'utmTerm', 'utmContent'] as const;

/**
 * A row with its identity set and every other field empty (null / false), every field written
 * out in ROW_COLUMNS order: one object shape for every row (the pipeline makes one per event; a
 * spread of defaults would make each a copy built field by field).
 */
export function emptyRow(
  identity: Pick<EventRow, 'id' | 'ts' | 'site' | 'type' | 'node' | 'status' | 'bytes' | 'source'>,
): EventRow {
  return {
    id: identity.id,
    ts: identity.ts,
    site: identity.site,
    type: identity.type,
    name: null,
    path: null,
    title: null,
    referrerHost: null,
    referrerClass: null,
    country: null,
    region: null,
    asn: null,
    deviceType: null,
    browser: null,
    os: null,
    isBot: false,
    visitorHash: null,
    sessionHash: null,
    node: identity.node,
    status: identity.status,
    bytes: identity.bytes,
    source: identity.source,
    props: null,
    utmSource: null,
    utmMedium: null,
    utmCampaign: null,
    utmTerm: null,
    utmContent: null,
    paid: false,
    screenClass: null,
  };
}

/** A row with the identifying fields set and every other field empty (null / false). */
export function blankRow(
  fields: Pick<EventRow, 'id' | 'ts' | 'site' | 'type' | 'source'> & Partial<EventRow>,
): EventRow {
  return { ...emptyRow({ node: null, status: null, bytes: null, ...fields }), ...fields };
}
