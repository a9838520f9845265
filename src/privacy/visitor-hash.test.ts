import { describe, expect, it } from 'vitest';
import { DuckDBStore } from '../store/duckdb/duckdb-store.js';
import { createHash } from 'node:crypto';
import { hashVisitor, localDay, previousDay, visitorKey, VisitorHasher } from './visitor-hash.js';

const ua = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';

async function memoryStore() {
  const store = await DuckDBStore.open(':memory:');
  await store.migrate();
  return store;
}

describe('visitor hash', () => {
  it('is the HMAC nested construction over hex keys, cut to 64 bits', () => {
    const salt = Buffer.alloc(32, 9);
    const key = visitorKey(salt);
    expect(key.inner).toBe('3f'.repeat(32)); // 0x09 ^ 0x36
    expect(key.outer).toBe('55'.repeat(32)); // 0x09 ^ 0x5c
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const inner = sha(`${key.inner}s\n1.2.3.4\n${ua}`);
    const expected = BigInt(`0x${sha(`${key.outer}${inner}`).slice(0, 16)}`).toString();
    expect(hashVisitor(key, 's', '1.2.3.4', ua)).toBe(expected);
    expect(hashVisitor(visitorKey(Buffer.alloc(32, 10)), 's', '1.2.3.4', ua)).not.toBe(expected);
  });

  it('computes the local day in the site’s time zone', () => {
    const t = Date.UTC(2026, 10, 22, 23, 30);
    expect(localDay(t, 'Europe/Paris')).toBe('2026-11-23');
    expect(localDay(t, 'America/New_York')).toBe('2026-11-22');
    expect(previousDay('2026-03-01')).toBe('2026-02-28');
  });

  it('is stable within a local day and changes across midnight in the site’s time zone', async () => {
    const store = await memoryStore();
    const hasher = new VisitorHasher(store);
    const beforeMidnight = Date.UTC(2026, 10, 22, 22, 59); // 23:59 in Paris
    const afterMidnight = Date.UTC(2026, 10, 22, 23, 1); // 00:01 in Paris, next day
    const morning = Date.UTC(2026, 10, 22, 8, 0);
    const a = await hasher.hash('www.example.fr', 'Europe/Paris', '203.0.113.77', ua, morning);
    const b = await hasher.hash('www.example.fr', 'Europe/Paris', '203.0.113.77', ua, beforeMidnight);
    const c = await hasher.hash('www.example.fr', 'Europe/Paris', '203.0.113.77', ua, afterMidnight);
    expect(a).toBe(b);
    expect(c).not.toBe(b);
    await store.close();
  });

  it('differs across sites for the same visitor (no cross-site identifier)', async () => {
    const store = await memoryStore();
    const hasher = new VisitorHasher(store);
    const t = Date.UTC(2026, 10, 22, 8, 0);
    const a = await hasher.hash('a.example', 'Europe/Paris', '203.0.113.77', ua, t);
    const b = await hasher.hash('b.example', 'Europe/Paris', '203.0.113.77', ua, t);
    expect(a).not.toBe(b);
    await store.close();
  });

  it('keeps only the current and previous days’ salts in the store', async () => {
    const store = await memoryStore();
    const hasher = new VisitorHasher(store);
    for (const day of [20, 21, 22, 23])
      await hasher.hash('s', 'UTC', '1.2.3.4', ua, Date.UTC(2026, 10, day, 12));
    const days = await store.query<{ day: string }>(
      "SELECT strftime(day, '%Y-%m-%d') AS day FROM salts ORDER BY day",
    );
    expect(days.map((d) => d.day)).toEqual(['2026-11-22', '2026-11-23']);
    await store.close();
  });

  it('uses a random salt, not one derived from the date: two stores give different hashes for the same day', async () => {
    const [s1, s2] = [await memoryStore(), await memoryStore()];
    const t = Date.UTC(2026, 10, 22, 12);
    const h1 = await new VisitorHasher(s1).hash('s', 'UTC', '1.2.3.4', ua, t);
    const h2 = await new VisitorHasher(s2).hash('s', 'UTC', '1.2.3.4', ua, t);
    expect(h1).not.toBe(h2);
    const salt = await s1.ensureSalt('2026-11-22', '2026-11-21');
    expect(salt).toHaveLength(32);
    expect(salt.toString('utf8')).not.toContain('2026');
    await Promise.all([s1.close(), s2.close()]);
  });

  it('agrees across two hashers (gateway processes) on one store: the first salt written wins', async () => {
    const store = await memoryStore();
    const t = Date.UTC(2026, 10, 22, 12);
    const [h1, h2] = await Promise.all([
      new VisitorHasher(store).hash('s', 'UTC', '1.2.3.4', ua, t),
      new VisitorHasher(store).hash('s', 'UTC', '1.2.3.4', ua, t),
    ]);
    expect(h1).toBe(h2);
    expect(h1).toBe(
      hashVisitor(visitorKey(await store.ensureSalt('2026-11-22', '2026-11-21')), 's', '1.2.3.4', ua),
    );
    await store.close();
  });
});
