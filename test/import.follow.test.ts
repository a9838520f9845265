import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_ALLOCATOR_ENV } from '../src/config/child-env.js';
import { parseConfig } from '../src/config/load.js';
import { followFile } from '../src/import/follow.js';
import { importFiles, type ImportSummary } from '../src/import/import.js';
import { DuckDBStore } from '../src/store/duckdb/duckdb-store.js';
import { tempDir } from './helpers.js';

// `balise import --follow` (docs/import.md#following-a-log): a growing log is imported as it
// grows, through rotation and truncation, with the ids a plain import gives the same lines.

const temp = tempDir('balise-follow-');
afterAll(() => temp.cleanup());
const config = parseConfig({ sites: [{ host: 'www.example.fr' }] }, { env: {} });

/** A combined log line of request `n` at second `n` of 5 July 2026. */
function line(n: number, path = `/page-${n}`): string {
  const s = String(n % 60).padStart(2, '0');
  const m = String(Math.floor(n / 60) % 60).padStart(2, '0');
  return `203.0.113.${n % 250} - - [05/Jul/2026:10:${m}:${s} +0000] "GET ${path} HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"`;
}
const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${line(from + i)}\n`).join('');

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('import --follow', () => {
  it('imports what the log holds, then each line appended, through a rotation and a truncation, with the ids of a plain import', async () => {
    const store = await DuckDBStore.open(join(temp.dir, 'follow.duckdb'));
    await store.migrate();
    const file = join(temp.dir, 'access.log');
    writeFileSync(file, lines(0, 50));
    const stop = new AbortController();
    let seen: ImportSummary | undefined;
    const following = followFile(store, config, file, {
      format: 'combined',
      site: 'www.example.fr',
      signal: stop.signal,
      pollMs: 10,
      flushMs: 10,
      onWrite: (summary) => (seen = { ...summary }),
    });
    const imported = () => (seen?.imported ?? 0) + (seen?.duplicates ?? 0);
    await until(() => imported() === 50, 'the first 50 lines');

    // A line written in two pieces counts once it is whole.
    appendFileSync(file, lines(50, 60) + line(60).slice(0, 40));
    await until(() => imported() === 60, '10 appended lines');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(imported()).toBe(60);
    appendFileSync(file, `${line(60).slice(40)}\n`);
    await until(() => imported() === 61, 'the line completed');

    // Rotation: the old file gets its last lines (the last without a newline), then the new one.
    appendFileSync(file, `${line(61)}\n${line(62)}`);
    renameSync(file, `${file}.1`);
    writeFileSync(file, lines(100, 120));
    await until(() => imported() === 83, 'the rotated file’s end and the new file');

    // Truncated in place (copytruncate): read again from its first line.
    truncateSync(file, 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    writeFileSync(file, lines(200, 205));
    await until(() => imported() === 88, 'the truncated file’s new lines');

    stop.abort();
    const summary = await following;
    expect(summary).toMatchObject({ lines: 88, imported: 88, duplicates: 0, badLines: 0 });
    const [count] = await store.query<{ n: number }>('SELECT count(*) AS n FROM events');
    expect(Number(count!.n)).toBe(88);

    // The rotated file imported by a plain import: every line is already there, by its id.
    const again = await importFiles(store, config, [`${file}.1`], {
      format: 'combined',
      site: 'www.example.fr',
      workers: 0,
    });
    expect(again).toMatchObject({ lines: 63, imported: 0, duplicates: 63 });
    await store.close();
  });

  it('refuses a gzip file and more than one file, saying what to do', async () => {
    const store = await DuckDBStore.open(':memory:');
    await store.migrate();
    const gz = join(temp.dir, 'old.log.gz');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    await expect(
      followFile(store, config, gz, {
        format: 'combined',
        site: 'www.example.fr',
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(/plain growing log/);
    await store.close();
  });

  /** `balise import FILE --follow …` started as a user does, in `name`'s own files. */
  function followFromCli(name: string, env: NodeJS.ProcessEnv = process.env) {
    const dir = join(temp.dir, name);
    const configPath = join(temp.dir, `${name}.yaml`);
    writeFileSync(
      configPath,
      `store: { kind: duckdb, path: ${join(dir, 'cli.duckdb')} }\nsites:\n  - host: www.example.fr\n`,
    );
    const file = join(temp.dir, `${name}.log`);
    writeFileSync(file, lines(0, 5));
    const child = spawn(
      process.execPath,
      [
        join('dist', 'cli', 'main.js'),
        'import',
        file,
        '--follow',
        '--config',
        configPath,
        '--format',
        'combined',
        '--site',
        'www.example.fr',
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    const output = { out: '', err: '' };
    child.stdout.on('data', (data: Buffer) => (output.out += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output.err += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, file, output, exited };
  }

  it('runs from the CLI until SIGTERM, then writes what it read and prints the summary', async () => {
    const { child, file, output, exited } = followFromCli('cli');
    await until(() => output.err.includes('(Ctrl-C to stop)'), 'the command to start following');
    appendFileSync(file, lines(5, 12));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    child.kill('SIGTERM');
    expect(await exited, output.err).toBe(0);
    expect(JSON.parse(output.out)).toMatchObject({ lines: 12, imported: 12 });
  });

  // The import's Node (src/cli/main.ts, IMPORT_FLAGS and IMPORT_ENV): read from /proc.
  it.skipIf(process.platform !== 'linux')(
    'runs in a Node started for the import: its collector flags and allocator settings, a variable the user set kept',
    async () => {
      const { DUCKDB_JE_MALLOC_CONF: _unset, ...env } = process.env;
      const { child, output, exited } = followFromCli('node', { ...env, MALLOC_ARENA_MAX: '3' });
      await until(() => output.err.includes('(Ctrl-C to stop)'), 'the command to start following');
      const pid = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim();
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const vars = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      child.kill('SIGTERM');
      expect(await exited, output.err).toBe(0);
      for (const flag of ['--single-threaded-gc', '--max-semi-space-size=2', '--heap-growing-percent=20'])
        expect(args).toContain(flag);
      expect(args).toContain('import');
      expect(vars).toContain(`DUCKDB_JE_MALLOC_CONF=${IMPORT_ALLOCATOR_ENV.DUCKDB_JE_MALLOC_CONF}`);
      expect(vars).toContain('MALLOC_ARENA_MAX=3');
    },
  );
});
