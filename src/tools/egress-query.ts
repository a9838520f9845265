import { z } from 'zod';
import { BaliseError } from '../errors.js';
import { SqlWriter } from '../store/dialect.js';
import type { StoreReader } from '../store/store.js';
import { zodPath } from '../zod-path.js';

/** Filters of the egress log (API and CLI). */
export const egressQuerySchema = z.strictObject({
  site: z.string().min(1).optional(),
  tool: z.string().min(1).optional(),
  outcome: z.enum(['sent', 'retry', 'dead', 'blocked']).optional(),
  since: z
    .string()
    .regex(/^\d{1,4}(m|h|d)$/, 'must look like 30m, 24h or 7d')
    .default('24h'),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});

const UNIT = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The newest egress-log records matching the filters (bound parameters only). */
export async function queryEgress(
  store: StoreReader,
  input: unknown,
  now = Date.now(),
): Promise<Record<string, unknown>[]> {
  const parsed = egressQuerySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BaliseError('invalid_query', issue.message, zodPath(issue.path));
  }
  const q = parsed.data;
  const since = now - Number(q.since.slice(0, -1)) * UNIT[q.since.slice(-1) as keyof typeof UNIT];
  const sql = new SqlWriter(store.dialect);
  const where = [`ts >= ${sql.instant(since)}`];
  for (const key of ['site', 'tool', 'outcome'] as const) {
    const value = q[key];
    if (value !== undefined) where.push(`${key} = ${sql.bind(value, 'String')}`);
  }
  const rows = await store.query<Record<string, unknown> & { ms: number }>(
    `SELECT ${sql.ms('ts')} AS ms, site, tool, host, path, bytes, sha256, policy, outcome, status, reason, delivery_id AS delivery, deliveries, fields
     FROM egress WHERE ${where.join(' AND ')} ORDER BY ts DESC LIMIT ${q.limit}`,
    sql.params,
  );
  // The time as ISO text, the same from both stores.
  return rows.map(({ ms, ...row }) => ({ time: new Date(Number(ms)).toISOString(), ...row }));
}
