// kill -9 between the insert and its mark: ClickHouse holds a spool segment's rows, the spool still
// holds the segment; the next start sends it again, and nothing counts twice.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { DurableWriter } from '../../src/store/writer.js';
import { tempDir } from '../helpers.js';
import { freshDatabase } from '../stores.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('a writer killed between the insert and its mark', () => {
  it('leaves the segment in the spool, and its replay adds none of the rows again', async () => {
    const url = inject('clickhouseUrl');
    const database = freshDatabase();
    const spoolDir = join(temp.dir, 'spool');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve('test/clickhouse/crash-writer.ts'), url, database, spoolDir, '2500'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((done) =>
      child.once('exit', (_code, sig) => done(sig)),
    );
    expect(signal).toBe('SIGKILL');
    expect(output).toContain('acknowledged');
    expect(output).toContain('inserted 2500');
    expect(output).not.toContain('not killed');

    const store = ClickHouseStore.open({ url, database });
    try {
      const count = async () =>
        Number((await store.query<{ n: number }>('SELECT count() AS n FROM events'))[0]!.n);
      expect(await count()).toBe(2500);
      const segments = () => readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl'));
      expect(segments()).toHaveLength(1);
      // The next start finds the segment, sends it again, and marks it.
      const { writer, replayed } = await DurableWriter.start(store, {
        spoolDir,
        batchRows: 1000,
        flushMs: 50,
        maxPendingRows: 100_000,
      });
      await writer.close();
      expect(replayed).toBe(0);
      expect(segments()).toEqual([]);
      expect(await count()).toBe(2500);
      const [hourly] = await store.query<{ n: number }>('SELECT sum(n) AS n FROM events_hourly');
      expect(Number(hourly!.n)).toBe(2500);
    } finally {
      await store.close();
    }
  }, 60_000);
});
