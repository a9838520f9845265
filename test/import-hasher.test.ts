import { describe, expect, it } from 'vitest';
import { ImportHasher } from '../src/import/hasher.js';

const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const DAY = 86_400_000;
const start = Date.UTC(2026, 0, 5, 12);

describe('ImportHasher', () => {
  it('caches the hashes of the latest two days only, and hashes a dropped day alike again', () => {
    const hasher = new ImportHasher(new Uint8Array(32).fill(3));
    const hash = (ip: string, day: number) => hasher.hash('www.example.fr', 'UTC', ip, UA, start + day * DAY);
    const first = hash('192.0.2.1', 0);
    // Ten days of 50 visitors each, in time order as a log comes.
    for (let day = 0; day < 10; day++)
      for (let visitor = 0; visitor < 50; visitor++) hash(`198.51.100.${visitor}`, day);
    expect(hasher.cached).toBeLessThanOrEqual(2 * 50);
    expect(hasher.cached).toBeGreaterThanOrEqual(50);
    // The first day's cache is gone; its visitor's hash is made again, the same (the day's salt).
    expect(hash('192.0.2.1', 0)).toBe(first);
    // Another day, another salt.
    expect(hash('192.0.2.1', 1)).not.toBe(first);
    // A day's lines after the next day's first (a log's last seconds of a day written late).
    const late = hash('192.0.2.9', 9);
    hash('192.0.2.9', 10);
    expect(hash('192.0.2.9', 9)).toBe(late);
  });

  it('holds a bounded number of key copies, and hashes alike after starting them again', () => {
    const hasher = new ImportHasher(new Uint8Array(32).fill(5));
    // Keys cut from longer strings, as they are cut from log lines.
    const line = (visitor: number) => `${visitor} - - [05/Jan/2026] "GET / HTTP/1.1" 200 5 "-" "${UA}"`;
    const ipOf = (visitor: number) => line(visitor).split(' ')[0]!;
    const first = hasher.hash('www.example.fr', 'UTC', ipOf(0), UA, start);
    let most = 0;
    for (let visitor = 0; visitor < 60_000; visitor++) {
      hasher.hash('www.example.fr', 'UTC', ipOf(visitor), UA, start + (visitor % 3) * DAY);
      most = Math.max(most, hasher.copies);
    }
    expect(most).toBeGreaterThan(1_000);
    expect(most).toBeLessThanOrEqual(20_000);
    expect(hasher.hash('www.example.fr', 'UTC', ipOf(0), UA, start)).toBe(first);
  });
});
