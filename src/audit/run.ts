import { SqlWriter } from '../store/dialect.js';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { BaliseError } from '../errors.js';
import type { StoreReader } from '../store/store.js';
import type { Manifest } from '../tools/manifest.js';
import { zodPath } from '../zod-path.js';
import { audit, type AuditReport, type EgressAggregate } from './audit.js';

/** The period of an audit (API query, CLI flags): `since` (30d, 24h) or `from`/`to` dates. */
export const auditPeriodSchema = z.strictObject({
  since: z
    .string()
    .regex(/^\d{1,4}(h|d)$/, 'must look like 24h or 30d')
    .optional(),
  from: z.iso.date('must be a date such as 2026-11-01').optional(),
  to: z.iso.date('must be a date such as 2026-12-01').optional(),
  format: z.enum(['json', 'html', 'text']).optional(),
});

const UNIT = { h: 3_600_000, d: 86_400_000 } as const;

/** The period's bounds (epoch ms): `from`/`to` (UTC days, `to` included), else the last `since` (30 days by default). */
export function auditPeriod(input: unknown, now = Date.now()): { from: number; to: number } {
  const parsed = auditPeriodSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BaliseError('invalid_query', issue.message, zodPath(issue.path));
  }
  const q = parsed.data;
  if (q.from || q.to) {
    const from = q.from ? Date.parse(`${q.from}T00:00:00Z`) : 0;
    const to = q.to ? Date.parse(`${q.to}T00:00:00Z`) + UNIT.d : now;
    if (to <= from) throw new BaliseError('invalid_query', 'to must not be before from', 'to');
    return { from, to };
  }
  const since = q.since ?? '30d';
  return { from: now - Number(since.slice(0, -1)) * UNIT[since.slice(-1) as 'h' | 'd'], to: now };
}

/** Reads the egress log over the period and audits the configuration against it. */
export async function runAudit(
  store: StoreReader,
  config: Config,
  manifests: Record<string, Manifest>,
  period: { from: number; to: number },
): Promise<AuditReport> {
  const sql = new SqlWriter(store.dialect);
  const rows = await store.query<EgressAggregate & { n: number | bigint }>(
    `SELECT site, tool, host, policy, outcome, fields, ${sql.count()} AS n FROM egress
     WHERE ts >= ${sql.instant(period.from)} AND ts < ${sql.instant(period.to)} GROUP BY ALL`,
    sql.params,
  );
  return audit(
    config,
    rows.map((r) => ({ ...r, n: Number(r.n) })),
    manifests,
    period,
  );
}
