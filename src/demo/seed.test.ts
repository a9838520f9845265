import { describe, expect, it } from 'vitest';
import { DuckDBStore } from '../store/duckdb/duckdb-store.js';
import { PROFILES, seedDemo } from './seed.js';

describe('demo seeding', () => {
  it('seeds up to now, and a later run adds only what is missing', async () => {
    const store = await DuckDBStore.open(':memory:');
    await store.migrate();
    const site = { host: 'localhost', peakPerHour: 100, profile: PROFILES.news };
    const at = Date.UTC(2026, 10, 22, 19, 30); // 20:30 in Paris
    const first = await seedDemo(store, [site], { days: 1, timeZone: 'Europe/Paris', node: 'demo', now: at });
    const [latest] = await store.query<{ t: Date }>('SELECT max(ts) AS t FROM events');
    expect(latest!.t.getTime()).toBeLessThan(at);
    expect(latest!.t.getTime()).toBeGreaterThan(at - 30 * 60_000);
    expect(await seedDemo(store, [site], { days: 1, timeZone: 'Europe/Paris', node: 'demo', now: at })).toBe(
      0,
    );
    const later = await seedDemo(store, [site], {
      days: 1,
      timeZone: 'Europe/Paris',
      node: 'demo',
      now: at + 20 * 60_000,
    });
    expect(later).toBeGreaterThan(0);
    const [count] = await store.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM events');
    expect(count!.n).toBe(first + later);
    await store.close();
  });
});
