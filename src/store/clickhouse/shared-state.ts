import { randomBytes } from 'node:crypto';
import type { SqlParam, SharedState } from '../store.js';

/** What the shared state needs of the ClickHouse store: inserts with settings, queries, commands. */
export interface ClickHouseAccess {
  insert(params: {
    table: string;
    values: Record<string, unknown>[];
    format: 'JSONEachRow';
    clickhouse_settings: { insert_deduplication_token: string };
  }): Promise<unknown>;
  query<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  command(sql: string, params?: readonly SqlParam[]): Promise<void>;
}

/**
 * What the gateways on one ClickHouse share besides events (tables `salts` and `store_facts`):
 * the day's salts and the dashboard's session key (the first gateway's insert wins: the others
 * carry the same deduplication token and are dropped), logouts, and published site settings.
 */
export class ClickHouseSharedState implements SharedState {
  constructor(private readonly server: ClickHouseAccess) {}

  async ensureSalt(day: string, keepFrom: string): Promise<Buffer> {
    // Every gateway inserts its own random salt under the same deduplication token: the server
    // keeps the first and drops the others, so all read back the same one.
    await this.server.insert({
      table: 'salts',
      values: [{ day, salt: randomBytes(32).toString('hex') }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `salt:${day}` },
    });
    const old = await this.server.query<{ n: number }>(
      'SELECT count() AS n FROM salts WHERE day < {p1:Date}',
      [keepFrom],
    );
    if (Number(old[0]?.n ?? 0) > 0)
      await this.server.command('DELETE FROM salts WHERE day < {p1:Date}', [keepFrom]);
    const rows = await this.server.query<{ salt: string }>(
      'SELECT salt FROM salts WHERE day = {p1:Date} ORDER BY created_at, salt LIMIT 1',
      [day],
    );
    if (!rows[0]) throw new Error(`salt for ${day} missing after insert`);
    return Buffer.from(rows[0].salt, 'hex');
  }

  async ensureSecret(name: string): Promise<Buffer> {
    // As salts: every gateway offers its own under one deduplication token; the first is kept.
    const key = `secret:${name}`;
    await this.server.insert({
      table: 'store_facts',
      values: [{ key, value: randomBytes(32).toString('hex') }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: key },
    });
    const rows = await this.server.query<{ value: string }>(
      'SELECT value FROM store_facts WHERE key = {p1:String} ORDER BY value LIMIT 1',
      [key],
    );
    if (!rows[0]) throw new Error(`secret ${name} missing after insert`);
    return Buffer.from(rows[0].value, 'hex');
  }

  async revokeSession(nonce: string, expires: number): Promise<void> {
    await this.server.command('INSERT INTO store_facts (key, value) VALUES ({p1:String}, {p2:String})', [
      `revoked:${nonce}`,
      String(Math.trunc(expires)),
    ]);
  }

  async revokedSessions(now: number): Promise<Map<string, number>> {
    const rows = await this.server.query<{ nonce: string; expires: number }>(
      "SELECT substring(key, 9) AS nonce, toInt64(value) AS expires FROM store_facts WHERE startsWith(key, 'revoked:') AND toInt64(value) > {p1:Int64}",
      [Math.trunc(now)],
    );
    return new Map(rows.map((r) => [r.nonce, Number(r.expires)]));
  }

  async publishSettings(value: string): Promise<void> {
    await this.server.command('INSERT INTO store_facts (key, value) VALUES ({p1:String}, {p2:String})', [
      'settings:sites',
      value,
    ]);
  }

  async publishedSettings(): Promise<string[]> {
    const rows = await this.server.query<{ value: string }>(
      "SELECT value FROM store_facts WHERE key = 'settings:sites'",
    );
    return rows.map((r) => r.value);
  }
}
