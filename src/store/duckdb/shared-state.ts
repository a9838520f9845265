import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBBlobValue } from './api.js';
import type { SharedState } from '../store.js';

/**
 * What gateways on one store share, kept in the DuckDB file (one gateway owns it, but the same
 * contract as ClickHouse's): the day's salts, the dashboard's session key and logouts, the
 * published site settings. `run` gives the store's connection under its lock.
 */
export class DuckDBSharedState implements SharedState {
  constructor(private readonly run: <T>(work: (connection: DuckDBConnection) => Promise<T>) => Promise<T>) {}

  ensureSalt(day: string, keepFrom: string): Promise<Buffer> {
    return this.run(async (connection) => {
      await connection.run('INSERT OR IGNORE INTO salts (day, salt) VALUES ($1::DATE, $2)', [
        day,
        new DuckDBBlobValue(randomBytes(32)),
      ]);
      await connection.run('DELETE FROM salts WHERE day < $1::DATE', [keepFrom]);
      const reader = await connection.runAndReadAll('SELECT salt FROM salts WHERE day = $1::DATE', [day]);
      const value = reader.getRows()[0]?.[0];
      if (!(value instanceof DuckDBBlobValue)) throw new Error(`salt for ${day} missing after insert`);
      return Buffer.from(value.bytes);
    });
  }

  ensureSecret(name: string): Promise<Buffer> {
    return this.run(async (connection) => {
      const key = `secret:${name}`;
      await connection.run('INSERT OR IGNORE INTO store_facts VALUES ($1, $2)', [
        key,
        randomBytes(32).toString('hex'),
      ]);
      const reader = await connection.runAndReadAll('SELECT value FROM store_facts WHERE key = $1', [key]);
      return Buffer.from(String(reader.getRows()[0]?.[0]), 'hex');
    });
  }

  revokeSession(nonce: string, expires: number): Promise<void> {
    return this.run(async (connection) => {
      await connection.run('INSERT OR IGNORE INTO store_facts VALUES ($1, $2)', [
        `revoked:${nonce}`,
        String(Math.trunc(expires)),
      ]);
    });
  }

  revokedSessions(now: number): Promise<Map<string, number>> {
    return this.run(async (connection) => {
      await connection.run(
        "DELETE FROM store_facts WHERE key LIKE 'revoked:%' AND CAST(value AS BIGINT) <= $1",
        [Math.trunc(now)],
      );
      const reader = await connection.runAndReadAll(
        "SELECT substr(key, 9) AS nonce, CAST(value AS BIGINT) AS expires FROM store_facts WHERE key LIKE 'revoked:%'",
      );
      return new Map(reader.getRows().map(([nonce, expires]) => [String(nonce), Number(expires)]));
    });
  }

  publishSettings(value: string): Promise<void> {
    return this.run(async (connection) => {
      await connection.run('INSERT OR REPLACE INTO store_facts VALUES ($1, $2)', ['settings:sites', value]);
    });
  }

  publishedSettings(): Promise<string[]> {
    return this.run(async (connection) => {
      const reader = await connection.runAndReadAll(
        "SELECT value FROM store_facts WHERE key = 'settings:sites'",
      );
      return reader.getRows().map(([value]) => String(value));
    });
  }
}
