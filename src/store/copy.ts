import type { EgressRecord } from './egress.js';
import { SqlWriter } from './dialect.js';
import type { EventRow, RowSource, RowType } from './row.js';
import type { Store } from './store.js';

/** What `copyStore` has done so far (progress) or in all (summary). */
export interface CopyProgress {
  /** Days of events copied, of `days` in all. */
  day: number;
  days: number;
  /** Events read from the source and how many of them the target did not hold yet. */
  events: number;
  inserted: number;
  egress: number;
}

const DAY = 86_400_000;
const BATCH = 50_000;

/** Stored rows of the source between two instants, as EventRows (both stores print them alike). */
async function eventsBetween(source: Store, from: number, to: number): Promise<EventRow[]> {
  const sql = new SqlWriter(source.dialect);
  const rows = await source.query<Record<string, string | number | boolean | null>>(
    `SELECT ${sql.text('id')} AS id, ${sql.ms('ts')} AS ts, site, type, name, path, title, referrer_host,
       referrer_class, country, region, asn, device_type, browser, os, is_bot,
       ${sql.text('visitor_hash')} AS visitor_hash, ${sql.text('session_hash')} AS session_hash, node, status,
       bytes, source, props, utm_source, utm_medium, utm_campaign, utm_term, utm_content, paid, screen_class
     FROM events WHERE ts >= ${sql.instant(from)} AND ts < ${sql.instant(to)}`,
    sql.params,
  );
  const text = (value: string | number | boolean | null | undefined) =>
    value === null || value === undefined ? null : String(value);
  const number = (value: string | number | boolean | null | undefined) =>
    value === null || value === undefined ? null : Number(value);
  return rows.map((r) => ({
    id: String(r.id),
    ts: Number(r.ts),
    site: String(r.site),
    type: String(r.type) as RowType,
    name: text(r.name),
    path: text(r.path),
    title: text(r.title),
    referrerHost: text(r.referrer_host),
    referrerClass: text(r.referrer_class),
    country: text(r.country),
    region: text(r.region),
    asn: number(r.asn),
    deviceType: text(r.device_type),
    browser: text(r.browser),
    os: text(r.os),
    isBot: r.is_bot === true || r.is_bot === 1,
    visitorHash: text(r.visitor_hash),
    sessionHash: text(r.session_hash),
    node: text(r.node),
    status: number(r.status),
    bytes: number(r.bytes),
    source: String(r.source) as RowSource,
    props: text(r.props),
    utmSource: text(r.utm_source),
    utmMedium: text(r.utm_medium),
    utmCampaign: text(r.utm_campaign),
    utmTerm: text(r.utm_term),
    utmContent: text(r.utm_content),
    paid: r.paid === true || r.paid === 1,
    screenClass: text(r.screen_class) as EventRow['screenClass'],
  }));
}

/**
 * Copies a store's events and egress log into another store (a DuckDB file into ClickHouse, say),
 * a day at a time. Idempotent like every write: run it again, or while gateways already write to
 * the target, and nothing counts twice. The target also keeps the source's import line-id scheme,
 * so files imported before the copy are recognised when imported again.
 */
export async function copyStore(
  source: Store,
  target: Store,
  onProgress: (progress: CopyProgress) => void = () => undefined,
): Promise<CopyProgress> {
  const sql = new SqlWriter(source.dialect);
  const [range] = await source.query<{ n: number; min: number | null; max: number | null }>(
    `SELECT count(*) AS n, min(${sql.ms('ts')}) AS min, max(${sql.ms('ts')}) AS max FROM events`,
  );
  const progress: CopyProgress = { day: 0, days: 0, events: 0, inserted: 0, egress: 0 };
  if ((await source.importLineIds()) === 'sha256') await markSha256LineIds(target);
  if (range && Number(range.n) > 0) {
    const first = Math.floor(Number(range.min) / DAY) * DAY;
    const last = Math.floor(Number(range.max) / DAY) * DAY;
    progress.days = (last - first) / DAY + 1;
    for (let day = first; day <= last; day += DAY) {
      const rows = await eventsBetween(source, day, day + DAY);
      for (let i = 0; i < rows.length; i += BATCH) {
        progress.inserted += (await target.append(rows.slice(i, i + BATCH))).inserted;
      }
      progress.events += rows.length;
      progress.day++;
      onProgress({ ...progress });
    }
  }
  // Egress records have no id: those older than the target's oldest are copied, so a second run
  // (or gateways already logging into the target) adds none twice.
  const targetSql = new SqlWriter(target.dialect);
  // (ClickHouse's min of no rows is 0, not NULL: the count tells.)
  const [oldest] = await target.query<{ n: number; min: number | null }>(
    `SELECT count(*) AS n, min(${targetSql.ms('ts')}) AS min FROM egress`,
  );
  const egress = new SqlWriter(source.dialect);
  const before = Number(oldest?.n ?? 0) === 0 ? null : Number(oldest!.min);
  const records = await source.query<Record<string, string | number | null>>(
    `SELECT ${egress.ms('ts')} AS ts, site, tool, host, path, bytes, sha256, policy, outcome, status, reason,
       delivery_id, deliveries, fields FROM egress ${before === null ? '' : `WHERE ts < ${egress.instant(before)}`} ORDER BY ts`,
    egress.params,
  );
  for (let i = 0; i < records.length; i += BATCH) {
    const batch: EgressRecord[] = records.slice(i, i + BATCH).map((r) => ({
      ts: Number(r.ts),
      site: String(r.site),
      tool: String(r.tool),
      host: String(r.host),
      path: String(r.path),
      bytes: Number(r.bytes),
      sha256: String(r.sha256),
      policy: String(r.policy),
      outcome: String(r.outcome) as EgressRecord['outcome'],
      status: r.status === null ? null : Number(r.status),
      reason: r.reason === null ? null : String(r.reason),
      deliveryId: String(r.delivery_id),
      deliveries: Number(r.deliveries ?? 1),
      fields: r.fields === null ? null : String(r.fields),
    }));
    await target.appendEgress(batch);
  }
  progress.egress = records.length;
  onProgress({ ...progress });
  return progress;
}

/** Records in the target that imported lines carry SHA-256 ids (a store from 0.1.0). */
async function markSha256LineIds(target: Store): Promise<void> {
  if ((await target.importLineIds()) === 'sha256') return;
  const sql = new SqlWriter(target.dialect);
  const insert = target.dialect === 'duckdb' ? 'INSERT OR IGNORE INTO' : 'INSERT INTO';
  await target.query(
    `${insert} store_facts (key, value) VALUES (${sql.bind('import_line_ids', 'String')}, ${sql.bind('sha256', 'String')})`,
    sql.params,
  );
}
