import type { Migration } from '../duckdb/migrations.js';

/** Columns of `events`, as ClickHouse stores them (the same names and meaning as DuckDB's). */
export const EVENT_COLUMNS = `
  id UUID,
  ts DateTime64(3, 'UTC'),
  site LowCardinality(String),
  type LowCardinality(String),
  name Nullable(String),
  path Nullable(String),
  title Nullable(String),
  referrer_host Nullable(String),
  referrer_class LowCardinality(Nullable(String)),
  country LowCardinality(Nullable(String)),
  region LowCardinality(Nullable(String)),
  asn Nullable(UInt32),
  device_type LowCardinality(Nullable(String)),
  browser LowCardinality(Nullable(String)),
  os LowCardinality(Nullable(String)),
  is_bot Bool,
  visitor_hash Nullable(UInt64),
  session_hash Nullable(UInt64),
  node LowCardinality(Nullable(String)),
  status Nullable(UInt16),
  bytes Nullable(UInt64),
  source LowCardinality(String),
  props Nullable(String)`;

/** Columns migration 3 added to `events` (the campaign, docs/insights.md#campaigns). */
const CAMPAIGN_COLUMNS = [
  'utm_source Nullable(String)',
  'utm_medium LowCardinality(Nullable(String))',
  'utm_campaign Nullable(String)',
  'utm_term Nullable(String)',
  'utm_content Nullable(String)',
  'paid Bool DEFAULT false',
];

/** The column migration 4 added to `events` (the window's class by width, pipeline step putScreen). */
const SCREEN_COLUMN = 'screen_class LowCardinality(Nullable(String))';

/** Every column of `events` now, in its order: the session's landing table has the same. */
export const STORED_EVENT_COLUMNS = `${EVENT_COLUMNS},
  ${CAMPAIGN_COLUMNS.join(',\n  ')},
  ${SCREEN_COLUMN}`;

/** Dimensions kept in the hourly rollup, in its column order (after ts). */
export const ROLLUP_COLUMNS =
  'site, type, is_bot, device_type, country, region, browser, os, referrer_class, node';

/**
 * ClickHouse migrations, oldest first; the same schema as DuckDB's in ClickHouse's terms. Every
 * statement is idempotent (IF NOT EXISTS), so two gateways may migrate at once. Never edit a
 * released migration: add a new one.
 */
export const CLICKHOUSE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'events, hourly rollup, salts, egress log, store facts',
    statements: [
      // Partitioned by month (retention drops whole months); ordered for the dashboard's reads,
      // which filter on site and a time range. Rows are never inserted twice (the store's insert
      // leaves out the ids already stored in the batch's time range), so no FINAL is needed.
      `CREATE TABLE IF NOT EXISTS events (${EVENT_COLUMNS}
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(ts)
      ORDER BY (site, ts)
      SETTINGS non_replicated_deduplication_window = 1000`,
      // Counts per UTC hour and low-cardinality dimension, kept by a materialized view on every
      // insert into events; read with sum(n), so unmerged parts give the same answer.
      `CREATE TABLE IF NOT EXISTS events_hourly (
        ts DateTime64(3, 'UTC'),
        site LowCardinality(String),
        type LowCardinality(String),
        is_bot Bool,
        device_type LowCardinality(Nullable(String)),
        country LowCardinality(Nullable(String)),
        region LowCardinality(Nullable(String)),
        browser LowCardinality(Nullable(String)),
        os LowCardinality(Nullable(String)),
        referrer_class LowCardinality(Nullable(String)),
        node LowCardinality(Nullable(String)),
        n UInt64
      ) ENGINE = SummingMergeTree(n)
      PARTITION BY toYYYYMM(ts)
      ORDER BY (site, ts, ${ROLLUP_COLUMNS.split(', ').slice(1).join(', ')})
      SETTINGS allow_nullable_key = 1`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS events_hourly_mv TO events_hourly AS
        SELECT toStartOfHour(ts) AS ts, ${ROLLUP_COLUMNS}, count() AS n
        FROM events GROUP BY ts, ${ROLLUP_COLUMNS}`,
      // One salt per day; the first gateway's insert wins (the others' carry the same
      // deduplication token and are dropped), so every gateway hashes with the same salt.
      `CREATE TABLE IF NOT EXISTS salts (
        day Date,
        salt String,
        created_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = MergeTree ORDER BY day
      SETTINGS non_replicated_deduplication_window = 1000`,
      `CREATE TABLE IF NOT EXISTS egress (
        ts DateTime64(3, 'UTC'),
        site LowCardinality(String),
        tool LowCardinality(String),
        host LowCardinality(String),
        path String,
        bytes Int64,
        sha256 String,
        policy LowCardinality(String),
        outcome LowCardinality(String),
        status Nullable(Int32),
        reason Nullable(String),
        delivery_id String,
        deliveries Int32 DEFAULT 1,
        fields Nullable(String)
      ) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY ts`,
      `CREATE TABLE IF NOT EXISTS store_facts (key String, value String)
        ENGINE = ReplacingMergeTree ORDER BY key`,
    ],
  },
  {
    version: 2,
    name: 'shared secrets',
    statements: [
      // A secret offered by several gateways at once: the first insert wins (deduplication token).
      'ALTER TABLE store_facts MODIFY SETTING non_replicated_deduplication_window = 1000',
    ],
  },
  {
    version: 3,
    name: 'campaigns',
    statements: [
      // The page URL's campaign, read before its query is dropped (docs/insights.md#campaigns).
      `ALTER TABLE events ${CAMPAIGN_COLUMNS.map((column) => `ADD COLUMN IF NOT EXISTS ${column}`).join(', ')}`,
    ],
  },
  {
    version: 4,
    name: 'screen class',
    statements: [`ALTER TABLE events ADD COLUMN IF NOT EXISTS ${SCREEN_COLUMN}`],
  },
];
