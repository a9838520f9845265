/**
 * A gateway's writer on ClickHouse that dies with SIGKILL at the worst moment: right after
 * ClickHouse acknowledged a spool segment's insert, before the spool marks it done. Run by
 * crash-after-insert.test.ts: `node --import tsx crash-writer.ts URL DATABASE SPOOL ROWS`.
 */
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { deterministicId } from '../../src/store/ids.js';
import { blankRow } from '../../src/store/row.js';
import type { FileRows } from '../../src/store/store.js';
import { DurableWriter } from '../../src/store/writer.js';

const [url, database, spoolDir, count] = process.argv.slice(2) as [string, string, string, string];
const store = ClickHouseStore.open({ url, database });
await store.migrate();
const dying = Object.assign(Object.create(store) as ClickHouseStore, {
  async appendJsonLines(path: string, rows?: FileRows) {
    const result = await store.appendJsonLines(path, rows);
    process.stdout.write(`inserted ${result.inserted}\n`);
    process.kill(process.pid, 'SIGKILL');
    return result;
  },
});
const { writer } = await DurableWriter.start(dying, {
  spoolDir,
  batchRows: 1_000_000,
  flushMs: 60_000,
  maxPendingRows: 1_000_000,
});
const ts = Date.UTC(2026, 11, 5, 12);
const rows = Array.from({ length: Number(count) }, (_, i) =>
  blankRow({
    id: deterministicId(ts + i, `crash:${i}`),
    ts: ts + i,
    site: 'www.example.fr',
    type: 'pageview',
    source: 'browser',
  }),
);
await writer.write(rows);
process.stdout.write('acknowledged\n');
await writer.flush();
process.stdout.write('not killed\n');
