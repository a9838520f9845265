import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from './journal.js';

const dir = mkdtempSync(join(tmpdir(), 'balise-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Entry {
  n: number;
  text: string;
}

describe('Journal', () => {
  it('keeps every record of concurrent appends, lazy ones with them, one JSON line each', async () => {
    const path = join(dir, 'a.jsonl');
    const journal = new Journal<Entry>(path);
    const appends: Promise<void>[] = [];
    for (let n = 0; n < 300; n += 3)
      appends.push(journal.append({ n, text: 'é"\n' }, { n: n + 1, text: '—' }, { n: n + 2, text: '' }));
    journal.appendLazy({ n: -1, text: 'lazy' });
    await Promise.all(appends);
    await journal.close();
    const read = new Journal<Entry>(path).read();
    expect(read.filter((e) => e.n >= 0).map((e) => e.n)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    expect(read.find((e) => e.n === -1)?.text).toBe('lazy');
    expect(read.find((e) => e.n === 0)?.text).toBe('é"\n');
    expect(readFileSync(path, 'utf8').split('\n').length).toBe(302);
  });

  it('rewrites a journal of several MiB whole and in order, then appends after it', async () => {
    const path = join(dir, 'b.jsonl');
    const journal = new Journal<Entry>(path);
    await journal.append({ n: -1, text: 'before' });
    const long = 'x'.repeat(900);
    const records = Array.from({ length: 6000 }, (_, n) => ({ n, text: `${n}${long}` }));
    await journal.rewrite(() => records);
    await journal.append({ n: 6000, text: 'after' });
    await journal.close();
    const read = new Journal<Entry>(path).read();
    expect(read.length).toBe(6001);
    expect(read.map((e) => e.n)).toEqual(Array.from({ length: 6001 }, (_, n) => n));
    expect(read[5999]!.text).toBe(`5999${long}`);
    expect(readFileSync(path).length).toBeGreaterThan(5 * 2 ** 20);
  });
});
