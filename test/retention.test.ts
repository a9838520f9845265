import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { createGateway } from '../src/gateway.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { deterministicId } from '../src/store/ids.js';
import { retentionCutoff } from '../src/store/retention.js';
import { blankRow } from '../src/store/row.js';
import { testConfig, tempDir } from './helpers.js';

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.cleanup());

const MONTH_MS = 30.44 * 86_400_000;

describe('store.retention', () => {
  it('deletes events, hourly rollups and egress records older than 25 months when the gateway starts', async () => {
    const now = Date.now();
    const ages = [30, 26, 24, 1]; // months
    const store = await DuckDBStore.open(join(temp.dir, 'balise.duckdb'));
    await store.migrate();
    await store.append(
      ages.map((months) => {
        const ts = Math.round(now - months * MONTH_MS);
        return blankRow({
          id: deterministicId(ts, `r${months}`),
          ts,
          site: 'www.example.fr',
          type: 'pageview',
          source: 'browser',
        });
      }),
    );
    await store.refreshRollups();
    await store.appendEgress(
      ages.map((months) => ({
        ts: Math.round(now - months * MONTH_MS),
        site: 'www.example.fr',
        tool: 'hook',
        host: 'hooks.example.fr',
        path: '/',
        bytes: 1,
        sha256: '',
        policy: 'p',
        outcome: 'sent' as const,
        status: 200,
        reason: null,
        deliveryId: `d${months}`,
        deliveries: 1,
      })),
    );
    await store.close();

    const logged: string[] = [];
    const gateway = await createGateway(testConfig(temp.dir), { logError: (line) => logged.push(line) });
    const count = async (table: string) =>
      Number((await gateway.store.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
    expect(await count('events')).toBe(2);
    expect(await count('egress')).toBe(2);
    await gateway.store.refreshRollups();
    expect(await count('events_hourly')).toBe(2);
    const oldest = await gateway.store.query<{ ts: Date }>('SELECT min(ts) AS ts FROM events');
    expect(new Date(oldest[0]!.ts).getTime()).toBeGreaterThanOrEqual(retentionCutoff(25, now) - 1000);
    expect(logged.join('\n')).toMatch(
      /retention: deleted 2 events, 2 hourly rows and 2 egress records older than/,
    );
    await gateway.close();
  });

  it('refuses more than 25 months for a cnil-exempt site, naming store.retention', () => {
    const config = (retention: number) =>
      parseConfig(
        {
          store: { kind: 'duckdb', retention },
          sites: [{ host: 'www.example.fr', privacy: { profile: 'cnil-exempt' } }],
        },
        { env: {} },
      );
    expect(() => config(30)).toThrow(ConfigError);
    expect(() => config(30)).toThrow(/store\.retention: site www\.example\.fr uses cnil-exempt/);
    expect(config(25).store.retention).toBe(25);
  });

  it('counts months on the calendar', () => {
    expect(new Date(retentionCutoff(25, Date.UTC(2026, 11, 5, 13))).toISOString()).toBe(
      '2024-11-05T00:00:00.000Z',
    );
    expect(new Date(retentionCutoff(1, Date.UTC(2026, 2, 31))).toISOString()).toBe(
      '2026-03-03T00:00:00.000Z',
    );
  });
});
