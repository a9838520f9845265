import { z } from 'zod';
import { hostname, isCidr } from './checks.js';

/** The longest retention the CNIL's exemption conditions allow (months). */
export const CNIL_EXEMPT_MAX_MONTHS = 25;

// What every store kind shares: the local spool (each gateway keeps its own), batching, retention.
const storeCommon = {
  spoolDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Directory of this gateway’s on-disk spool (default: the DuckDB path + ".spool", or ./data/balise.spool for ClickHouse)',
    ),
  batchRows: z.number().int().min(1).max(1_000_000).default(10_000).describe('Rows per store batch'),
  flushMs: z
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(1000)
    .describe('Longest wait before a batch is written'),
  maxPendingRows: z
    .number()
    .int()
    .min(1000)
    .default(500_000)
    .describe('Rows accepted but not yet in the store above which collect answers 503'),
  retention: z
    .number()
    .int()
    .min(1)
    .max(600)
    .default(25)
    .describe(
      'Months events, hourly rollups and the egress log are kept; older ones are deleted daily (cnil-exempt sites: 25 at most)',
    ),
};

export const duckdbStoreSchema = z.strictObject({
  kind: z.literal('duckdb'),
  path: z.string().min(1).default('./data/balise.duckdb').describe('DuckDB database file'),
  threads: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .optional()
    .describe(
      'Threads DuckDB may use (default in the gateway: one less than the machine’s cores, at least one — its event loop keeps a core while DuckDB writes or answers a query; in other commands: every core)',
    ),
  ...storeCommon,
});

export const clickhouseStoreSchema = z.strictObject({
  kind: z.literal('clickhouse'),
  url: z
    .url({ protocol: /^https?$/ })
    .describe('ClickHouse HTTP(S) interface, e.g. http://127.0.0.1:8123 (https for a remote server)'),
  database: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
      'a database name: letters, digits and _, not starting with a digit',
    )
    .default('balise')
    .describe('Database holding Balise’s tables (created when missing)'),
  username: z.string().min(1).optional().describe('ClickHouse user (default: the server’s default user)'),
  password: z.string().optional().describe('ClickHouse password; give it as ${CLICKHOUSE_PASSWORD}'),
  requestTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(600_000)
    .default(120_000)
    .describe('Longest wait for one ClickHouse request'),
  cluster: z
    .string()
    .optional()
    .refine((value) => value === undefined, {
      message:
        'ClickHouse clusters (ON CLUSTER, Replicated and Distributed tables) are not supported yet: point store.url at one server (docs/scale.md#clickhouse)',
    })
    .describe('Not supported yet (ON CLUSTER tables)'),
  ...storeCommon,
});

export const outboxSchema = z
  .strictObject({
    dir: z
      .string()
      .min(1)
      .optional()
      .describe('Outbox journal directory (default: the database path + ".outbox")'),
    allowHosts: z
      .array(hostname)
      .default([])
      .describe(
        'Hosts every tool of every site may send to, private addresses and plain http included (an internal receiver); the settings API cannot change it',
      ),
    maxAttempts: z.number().int().min(1).max(100).default(12).describe('Attempts before a dead letter'),
    baseDelayMs: z.number().int().min(1).max(600_000).default(1000).describe('First retry delay'),
    maxDelayMs: z.number().int().min(1).max(86_400_000).default(600_000).describe('Longest retry delay'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe(
        'Requests in flight per tool while it keeps up (its window starts there and never goes below)',
      ),
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(64)
      .describe(
        'Most requests in flight per tool: while requests wait, its window opens up to this as the vendor answers (halved on 429, 5xx, timeouts)',
      ),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe('Vendor request timeout'),
    batchWindowMs: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(100)
      .describe('Longest wait for more events to batch with (tools whose manifest allows batches)'),
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(4_194_304)
      .default(262_144)
      .describe('Largest request to a vendor'),
    maxPending: z
      .number()
      .int()
      .min(10)
      .max(10_000_000)
      .default(200_000)
      .describe(
        'Deliveries that may wait in the outbox (all sites together); past it, events of every site with tools are refused (503 outbox_full) until it drains',
      ),
  })
  .refine((outbox) => outbox.maxConcurrency >= outbox.concurrency, {
    message: 'must be at least outbox.concurrency: a window opens from concurrency up to maxConcurrency',
    path: ['maxConcurrency'],
  })
  .prefault({});

export const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('0.0.0.0').describe('Address to listen on'),
    port: z.number().int().min(0).max(65535).default(8080),
    prefix: z
      .string()
      .regex(/^(\/[a-z0-9_-]+)+$/, 'must start with / and contain only a-z, 0-9, _ and -, e.g. /balise')
      .default('/balise'),
    trustedProxies: z
      .array(z.string().refine(isCidr, 'must be an IP address or CIDR range such as 10.0.0.0/8'))
      .default([])
      .describe('Peers whose X-Forwarded-For header is believed'),
    mode: z.enum(['production', 'development']).default('production'),
    node: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional()
      .describe('Name of this gateway in stored rows (serving node); default: the host name'),
    logFormat: z
      .enum(['text', 'json'])
      .default('text')
      .describe(
        'The log: one plain line per problem (text), or one JSON object per line with time, level, code and node (json)',
      ),
    rateLimit: z
      .strictObject({
        perIpPerMinute: z.number().int().min(1).default(600),
        perSitePerMinute: z.number().int().min(1).default(120_000),
      })
      .prefault({}),
    limits: z
      .strictObject({
        requestTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(600_000)
          .default(10_000)
          .describe(
            'Longest time to receive a whole request, headers and body (slow clients are cut off: 408)',
          ),
        headersTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(600_000)
          .default(10_000)
          .describe('Longest time to receive the request headers (no more than requestTimeoutMs)'),
        keepAliveTimeoutMs: z
          .number()
          .int()
          .min(100)
          .max(600_000)
          .default(5_000)
          .describe('How long an idle keep-alive connection is kept open'),
        idleTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .max(600_000)
          .default(30_000)
          .describe('A connection with no activity at all is closed after this'),
        maxConnections: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(10_000)
          .describe('Open connections at most (keep it under the process file limit, ulimit -n)'),
        maxConnectionsPerAddress: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(256)
          .describe('Open connections at most from one client address (trustedProxies are exempt)'),
      })
      .prefault({})
      .refine((limits) => limits.headersTimeoutMs <= limits.requestTimeoutMs, {
        message: 'headersTimeoutMs must not exceed requestTimeoutMs',
        path: ['headersTimeoutMs'],
      }),
  })
  .prefault({});

export const geoSchema = z
  .strictObject({
    countryMmdb: z.string().optional().describe('Country mmdb (default: bundled iptoasn country database)'),
    cityMmdb: z
      .string()
      .optional()
      .describe('Your own GeoIP2/GeoLite2-City mmdb for ISO 3166-2 regions (never bundled: EULA)'),
    asnMmdb: z.string().optional().describe('Your own GeoLite2-ASN-format mmdb for the ASN column'),
  })
  .prefault({});

export const adminSchema = z
  .strictObject({
    tokens: z
      .array(
        z
          .string()
          .regex(
            /^(sha256:)?[0-9a-f]{64}$/,
            'must be the SHA-256 hex of a token (make one with: balise token new)',
          ),
      )
      .default([])
      .describe('SHA-256 hashes of the API tokens; the tokens themselves are never stored'),
    passwordHash: z
      .string()
      .regex(
        /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
        'must be a scrypt hash from: balise password hash (or set BALISE_ADMIN_PASSWORD)',
      )
      .optional()
      .describe(
        'scrypt hash of the dashboard password (balise password hash); without it the dashboard is off',
      ),
  })
  .prefault({});

export const jsonlMappingSchema = z
  .strictObject({
    time: z.string().min(1).describe('Field with the time: RFC 3339, Unix seconds, ms or ns'),
    ip: z.string().min(1).optional().describe('Client IP (geolocation and visitor hash, then dropped)'),
    host: z.string().min(1).optional().describe('Requested host (the site, unless --site is given)'),
    path: z.string().min(1).optional().describe('Path or URI (the query is removed)'),
    userAgent: z
      .string()
      .min(1)
      .optional()
      .describe('User-Agent (device families and bot flag, then dropped)'),
    referrer: z.string().min(1).optional().describe('Referer URL (host and class kept)'),
    status: z.string().min(1).optional().describe('HTTP status'),
    bytes: z.string().min(1).optional().describe('Response bytes'),
    country: z.string().min(1).optional().describe('ISO 3166-1 alpha-2 country (wins over the IP lookup)'),
    region: z.string().min(1).optional().describe('Subdivision part of ISO 3166-2, e.g. IDF'),
    asn: z.string().min(1).optional().describe('Autonomous system number'),
    deviceType: z.string().min(1).optional().describe('desktop, mobile or tablet'),
    node: z.string().min(1).optional().describe('Serving node (e.g. a CDN colo code)'),
  })
  .describe('Field names of a JSON-lines log (dotted paths reach nested objects)');

export const importSchema = z
  .strictObject({
    logFormats: z
      .record(
        z.string().regex(/^[a-z0-9_-]+$/, 'use lowercase letters, digits, - and _'),
        z.string().includes('$', { message: 'an NGINX log_format string has $variables' }),
      )
      .default({})
      .describe('NGINX log_format strings by name, for --format nginx:NAME'),
    jsonl: z
      .record(z.string().regex(/^[a-z0-9_-]+$/, 'use lowercase letters, digits, - and _'), jsonlMappingSchema)
      .default({})
      .describe('JSON-lines field mappings by name, for --format jsonl:NAME (cloudflare is built in)'),
  })
  .prefault({});
