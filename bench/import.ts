// bench:import — 1,000,000 lines (the real Apache log of ../shared/data/logs repeated with shifted
// timestamps) imported into a fresh DuckDB file through `importFiles` (the CLI's code path),
// against GoAccess on the same file in the same run (`goaccess FILE --log-format=COMBINED -o
// out.json`, when installed: apt-get install goaccess). Prints lines/s for both, the ratio, and
// the importer's resident memory at each quarter of the file (flat memory = no growth with it).
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { importFiles } from '../src/import/import.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const SOURCE = resolve(process.env.BALISE_SHARED_DATA ?? '../shared/data', 'logs/apache_combined.log');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

if (!existsSync(SOURCE)) {
  process.stdout.write(`bench:import needs ${SOURCE} (../shared/data); not found\n`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'balise-bench-import-'));
try {
  // The real log, repeated: copy k shifted by k × 4 days (the log spans 17–20 May 2015).
  const original = readFileSync(SOURCE, 'utf8').split('\n').filter(Boolean);
  const file = join(dir, 'access.log');
  const out = createWriteStream(file);
  const shift = (line: string, days: number): string =>
    line.replace(
      /\[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}:\d{2}:\d{2}) \+0000\]/,
      (_, d: string, mon: string, y: string, hms: string) => {
        const date = new Date(Date.UTC(Number(y), MONTHS.indexOf(mon), Number(d) + days));
        const day = String(date.getUTCDate()).padStart(2, '0');
        return `[${day}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${hms} +0000]`;
      },
    );
  for (let i = 0; i < LINES; i++) {
    const copy = Math.floor(i / original.length);
    const line = original[i % original.length]!;
    if (!out.write(`${copy === 0 ? line : shift(line, copy * 4)}\n`))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
  process.stdout.write(
    `bench:import — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; ${LINES.toLocaleString('en-US')} lines (${SOURCE} repeated with shifted times)\n`,
  );

  // GoAccess first (a separate process), so our import's memory does not weigh on it.
  let goaccessRate: number | null = null;
  if (spawnSync('goaccess', ['--version']).status === 0) {
    const started = performance.now();
    execFileSync('goaccess', [file, '--log-format=COMBINED', '-o', join(dir, 'out.json')], {
      stdio: 'ignore',
    });
    const seconds = (performance.now() - started) / 1000;
    goaccessRate = LINES / seconds;
    process.stdout.write(
      `goaccess — ${seconds.toFixed(1)} s, ${Math.round(goaccessRate).toLocaleString('en-US')} lines/s\n`,
    );
  } else process.stdout.write('goaccess not installed (apt-get install goaccess): no comparison\n');

  const config = parseConfig(
    { store: { kind: 'duckdb', path: join(dir, 'import.duckdb') }, sites: [{ host: 'semicomplete.com' }] },
    { env: {} },
  );
  const store = await DuckDBStore.open(config.store.path);
  await store.migrate();
  const memory: string[] = [];
  let nextQuarter = 0.25;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const summary = await importFiles(store, config, [file], {
    format: 'combined',
    site: 'semicomplete.com',
    onProgress: (p) => {
      if (p.allBytesRead / p.allBytesTotal >= nextQuarter) {
        const usage = process.memoryUsage();
        memory.push(
          `${Math.round(nextQuarter * 100)}% RSS ${Math.round(usage.rss / 2 ** 20)} MB (JS heap ${Math.round(usage.heapUsed / 2 ** 20)} MB)`,
        );
        nextQuarter += 0.25;
      }
    },
  });
  clearInterval(sampler);
  const [settings] = await store.query<{ limit: string }>("SELECT current_setting('memory_limit') AS limit");
  await store.close();
  const ours = summary.linesPerSecond;
  process.stdout.write(
    `balise import — ${(summary.elapsedMs / 1000).toFixed(1)} s, ${Math.round(ours).toLocaleString('en-US')} lines/s; ${summary.imported.toLocaleString('en-US')} rows, ${summary.badLines} bad lines\n` +
      `memory: ${memory.join(', ')}; peak RSS ${Math.round(peak / 2 ** 20)} MB (DuckDB memory_limit ${settings?.limit})\n`,
  );
  process.stdout.write(
    `summary: ${LINES.toLocaleString('en-US')} lines: ${Math.round(ours).toLocaleString('en-US')} lines/s` +
      (goaccessRate ? `, ${(ours / goaccessRate).toFixed(2)}× GoAccess (goal ≥ 2×)` : '') +
      `, peak RSS ${Math.round(peak / 2 ** 20)} MB\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
