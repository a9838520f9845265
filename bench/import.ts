// bench:import — 1,000,000 lines (the real Apache log of ../shared/data/logs repeated with shifted
// timestamps) imported into a fresh DuckDB file through the built `importFiles` (the CLI's code path),
// against GoAccess on the same file in the same run (`goaccess FILE --log-format=COMBINED -o
// out.json`, when installed: apt-get install goaccess), in BENCH_ROUNDS alternating rounds
// (default 5: this VM's speed swings by ±20 % from minute to minute). Prints lines/s for both in
// each round, the medians and the median ratio, and the importer's resident memory at each
// quarter of the file (flat memory = no growth with it). Each round also runs the CLI as a user
// does (`bin/balise import … --json`, timed from start to exit, with the peak memory
// it reports), against the same GoAccess run. BENCH_BATCH_ROWS sets the store batch size
// (default: the importer's); BENCH_LINES the file's length (the CLI goals: ≥ 1× GoAccess on
// 200,000 lines, ≥ 2× on 1,000,000). BENCH_DISTINCT=1 makes every line's IP, path and referrer
// its own (the real log's User-Agents, statuses and times kept): a log that never repeats, where
// the import's memos cannot help and must not grow.
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// The built JavaScript (npm run build), as `balise import` runs it: worker threads load
// dist/import/worker.js, not TypeScript through a loader.
const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).href;
const { parseConfig } = (await import(dist('config/load.js'))) as typeof import('../src/config/load.js');
const { importFiles } = (await import(dist('import/import.js'))) as typeof import('../src/import/import.js');
const { STORE_MEMORY_MB } = (await import(
  dist('import/setup.js')
)) as typeof import('../src/import/setup.js');
const { DuckDBStore } = (await import(
  dist('store/duckdb/duckdb-store.js')
)) as typeof import('../src/store/duckdb/duckdb-store.js');

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DISTINCT = process.env.BENCH_DISTINCT === '1';

/** Line `i` with an IP, a path and a referrer of its own (BENCH_DISTINCT). */
function distinct(line: string, i: number): string {
  const ip = `${1 + ((i >>> 24) % 223)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
  return line
    .replace(/^\S+/, ip)
    .replace(/"(\w+) \//, `"$1 /d${i}/`)
    .replace(/"[^"]*" ("[^"]*")$/, `"https://r${i % 99_991}.example.org/p/${i}" $1`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
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
    const real = original[i % original.length]!;
    const line = DISTINCT ? distinct(real, i) : real;
    if (!out.write(`${copy === 0 ? line : shift(line, copy * 4)}\n`))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
  process.stdout.write(
    `bench:import — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; ${LINES.toLocaleString('en-US')} lines (${SOURCE} repeated with shifted times${DISTINCT ? '; every IP, path and referrer distinct' : ''})\n`,
  );

  // Rounds alternate GoAccess and our import, each on the same file, so that a slower minute of
  // a shared machine weighs on both; the summary gives medians and the median of the ratios.
  const hasGoaccess = spawnSync('goaccess', ['--version']).status === 0;
  if (!hasGoaccess)
    process.stdout.write('goaccess not installed (apt-get install goaccess): no comparison\n');
  const goaccessRates: number[] = [];
  const ourRates: number[] = [];
  const ratios: number[] = [];
  const cliRatios: number[] = [];
  const cliPeaks: number[] = [];
  let peak = 0;
  let memory: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    let goaccessRate: number | null = null;
    if (hasGoaccess) {
      // A separate process, before ours, so that our import's memory does not weigh on it.
      const started = performance.now();
      execFileSync('goaccess', [file, '--log-format=COMBINED', '-o', join(dir, 'out.json')], {
        stdio: 'ignore',
      });
      const seconds = (performance.now() - started) / 1000;
      goaccessRate = LINES / seconds;
      goaccessRates.push(goaccessRate);
      process.stdout.write(
        `round ${round}: goaccess — ${seconds.toFixed(1)} s, ${Math.round(goaccessRate).toLocaleString('en-US')} lines/s\n`,
      );
    }
    const path = join(dir, `import-${round}.duckdb`);
    const config = parseConfig(
      { store: { kind: 'duckdb', path }, sites: [{ host: 'semicomplete.com' }] },
      { env: {} },
    );
    const store = await DuckDBStore.open(path);
    await store.migrate();
    memory = [];
    let nextQuarter = 0.25;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const summary = await importFiles(store, config, [file], {
      format: 'combined',
      site: 'semicomplete.com',
      // This process owns the store, as the CLI does: DuckDB bounded the same way.
      ownStore: true,
      ...(process.env.BENCH_BATCH_ROWS ? { batchRows: Number(process.env.BENCH_BATCH_ROWS) } : {}),
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
    await store.close();
    rmSync(path, { force: true });
    const ours = summary.linesPerSecond;
    ourRates.push(ours);
    if (goaccessRate) ratios.push(ours / goaccessRate);
    process.stdout.write(
      `round ${round}: balise import — ${(summary.elapsedMs / 1000).toFixed(1)} s, ${Math.round(ours).toLocaleString('en-US')} lines/s` +
        (goaccessRate ? ` (${(ours / goaccessRate).toFixed(2)}× GoAccess)` : '') +
        `; ${summary.imported.toLocaleString('en-US')} rows, ${summary.badLines} bad lines\n` +
        `round ${round}: memory ${memory.join(', ')} (DuckDB held to ${STORE_MEMORY_MB} MB)\n`,
    );
    // The CLI as a user runs it (the `balise` command, bin/balise): a new process, from start to
    // exit (the launcher, config parsing, workers, the store's checkpoint).
    const cliPath = join(dir, `cli-${round}.duckdb`);
    const cliConfig = join(dir, 'cli.yaml');
    writeFileSync(
      cliConfig,
      `store: { kind: duckdb, path: ${cliPath} }\nsites:\n  - host: semicomplete.com\n`,
    );
    const cliStarted = performance.now();
    const cliRun = spawnSync(
      resolve('bin/balise'),
      ['import', file, '--config', cliConfig, '--format', 'combined', '--site', 'semicomplete.com', '--json'],
      { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
    );
    const cliSeconds = (performance.now() - cliStarted) / 1000;
    rmSync(cliPath, { force: true });
    if (cliRun.status !== 0) throw new Error(`balise import exited ${cliRun.status}: ${cliRun.stderr}`);
    const cliSummary = JSON.parse(cliRun.stdout) as { peakRssMb: number };
    cliPeaks.push(cliSummary.peakRssMb);
    const cliRate = LINES / cliSeconds;
    if (goaccessRate) cliRatios.push(cliRate / goaccessRate);
    process.stdout.write(
      `round ${round}: balise import CLI, start to exit — ${cliSeconds.toFixed(1)} s, ${Math.round(cliRate).toLocaleString('en-US')} lines/s` +
        (goaccessRate ? ` (${(cliRate / goaccessRate).toFixed(2)}× GoAccess)` : '') +
        `, peak RSS ${cliSummary.peakRssMb} MB\n`,
    );
  }
  const lines = (rate: number) => `${Math.round(rate).toLocaleString('en-US')} lines/s`;
  process.stdout.write(
    `summary: ${LINES.toLocaleString('en-US')} lines, median of ${ROUNDS} rounds: balise ${lines(median(ourRates))}` +
      (ratios.length > 0
        ? `, GoAccess ${lines(median(goaccessRates))}; ratio ${median(ratios).toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}; goal ≥ 2×)`
        : '') +
      `; peak RSS ${Math.round(peak / 2 ** 20)} MB\n` +
      `summary: CLI start to exit` +
      (cliRatios.length > 0
        ? ` ${median(cliRatios).toFixed(2)}× GoAccess (rounds: ${cliRatios.map((r) => r.toFixed(2)).join(', ')})`
        : '') +
      `; CLI peak RSS ${Math.max(...cliPeaks)} MB (goal ≤ 256 MB)\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
