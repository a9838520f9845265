import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { importFiles } from '../src/import/import.js';
import { importWorkersStarted, takeWarmWorkers, warmImportWorkers } from '../src/import/warm-workers.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { tempDir } from './helpers.js';

// Warm workers: `balise import` starts its worker threads before it loads the rest of the import
// (src/cli/import-start.ts), and the import takes them when it starts its workers.
const temp = tempDir('balise-warm-');
afterAll(() => temp.cleanup());

const config = parseConfig({ sites: [{ host: 'www.example.fr' }] }, { env: {} });

describe('warm import workers', () => {
  it('are taken first by the import, which stops those it does not need; the rows are the same', async () => {
    const log = join(temp.dir, 'access.log');
    writeFileSync(
      log,
      Array.from(
        { length: 30_000 },
        (_, i) =>
          `198.51.100.${i % 200} - - [05/Jul/2026:10:${String(Math.floor(i / 600) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} +0200] "GET /p${i % 97} HTTP/1.1" ${i % 7 === 0 ? 404 : 200} ${i}\n`,
      ).join(''),
    );
    const digest = async (name: string, workers: number) => {
      const store = await DuckDBStore.open(join(temp.dir, `${name}.duckdb`));
      await store.migrate();
      const summary = await importFiles(store, config, [log], {
        format: 'common',
        site: 'www.example.fr',
        workers,
        chunkBytes: 100_000,
      });
      const rows = await store.query(
        `SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(status) AS statuses, sum(bytes) AS bytes,
                sum(epoch_ms(ts) % 1000003) AS ts FROM events`,
      );
      await store.close();
      return { summary, rows };
    };
    const inThread = await digest('in-thread', 0);
    const before = importWorkersStarted();
    warmImportWorkers(3);
    const warm = await digest('warm', 2);
    // Two were taken (the import started none of its own), the third stopped: none is left.
    expect(importWorkersStarted() - before).toBe(3);
    expect(takeWarmWorkers(8)).toEqual([]);
    expect(warm.summary).toMatchObject({ lines: 30_000, imported: 30_000, badLines: 0 });
    expect(warm.rows).toEqual(inThread.rows);
  }, 60_000);

  it('wait alive for an import, and do not keep a process alive when none takes them (a command that fails, or a gateway runs)', () => {
    const warmWorkers = JSON.stringify(new URL('../dist/import/warm-workers.js', import.meta.url).href);
    const run = (name: string, after: string) => {
      const script = join(temp.dir, `${name}.mjs`);
      writeFileSync(
        script,
        `const m = await import(${warmWorkers});\nm.warmImportWorkers(2);\nsetTimeout(() => { ${after} }, 1000);\n`,
      );
      const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
      return { status: result.status, out: result.stdout.trim(), err: result.stderr };
    };
    // A second later both are still there, waiting for their start.
    expect(
      run(
        'alive',
        'const taken = m.takeWarmWorkers(8); console.log(taken.length); for (const w of taken) w.terminate();',
      ),
    ).toEqual({ status: 0, out: '2', err: '' });
    // Not taken, they let the process end (else spawnSync's timeout ends it: status null).
    expect(run('left', "console.log('done');")).toEqual({ status: 0, out: 'done', err: '' });
  });
});
