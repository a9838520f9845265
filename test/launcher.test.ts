import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_ENV, IMPORT_FLAGS } from '../src/cli/import-node.js';
import { VERSION } from '../src/version.js';
import { tempDir } from './helpers.js';

// The `balise` command (bin/balise, package.json's `bin`): the shell script that starts the CLI's
// Node, and an import's Node with the settings it needs at start, so that an import runs in one
// Node instead of a Node that starts another.
const LAUNCHER = resolve('bin/balise');
const temp = tempDir();
afterAll(() => temp.cleanup());

/**
 * The launcher linked from another folder as npm links a package's `bin`: node_modules/.bin/balise
 * → ../balise/bin/balise (a relative link), the package folder itself a link to this repository.
 */
function linkedLauncher(): string {
  const modules = join(temp.dir, 'node_modules');
  if (!existsSync(join(modules, 'balise'))) {
    mkdirSync(modules, { recursive: true });
    symlinkSync(resolve('.'), join(modules, 'balise'));
  }
  return binLink(modules);
}

/** `modules`/.bin/balise → ../balise/bin/balise, as npm links the package `modules`/balise's command. */
function binLink(modules: string): string {
  const link = join(modules, '.bin', 'balise');
  if (!existsSync(link)) {
    mkdirSync(join(modules, '.bin'), { recursive: true });
    symlinkSync(join('..', 'balise', 'bin', 'balise'), link);
  }
  return link;
}

describe('bin/balise', () => {
  it('starts an import with every Node option and variable of IMPORT_FLAGS and IMPORT_ENV', () => {
    const script = readFileSync(LAUNCHER, 'utf8');
    const importLine = /exec node (.*) "\$main" "\$@"/.exec(script.split('if [ "$1" = import ]')[1] ?? '');
    expect(importLine?.[1]?.split(' ')).toEqual(IMPORT_FLAGS);
    const defaults = Object.fromEntries(
      [...script.matchAll(/^\s*([A-Z_]+)="\$\{\1-([^}]*)\}"$/gm)].map((match) => [match[1]!, match[2]!]),
    );
    expect(defaults).toEqual(IMPORT_ENV);
  });

  it('runs from any folder through a link, as npm installs it', () => {
    const result = spawnSync(linkedLauncher(), ['--version'], { cwd: temp.dir, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(`balise ${VERSION}`);
    const unknown = spawnSync(linkedLauncher(), ['nonsense'], { cwd: temp.dir, encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "nonsense"');
  });

  it('says to build when the built CLI is missing, instead of a Node stack trace', () => {
    const checkout = join(temp.dir, 'unbuilt');
    mkdirSync(join(checkout, 'bin'), { recursive: true });
    copyFileSync(LAUNCHER, join(checkout, 'bin', 'balise'));
    const result = spawnSync(join(checkout, 'bin', 'balise'), ['--version'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `balise: ${checkout}/bin/../dist/cli/main.js is missing: build it first (npm run build, in ${checkout}/bin/..)\n`,
    );
  });

  it('is in the package npm makes, executable, with the files an import runs (installed from it, offline)', () => {
    const packed = join(temp.dir, 'packed');
    mkdirSync(packed, { recursive: true });
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', packed], { encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string; mode: number }[] }[];
    const files = new Map(info!.files.map((file) => [file.path, file.mode]));
    expect((files.get('bin/balise') ?? 0) & 0o111).toBe(0o111);
    for (const file of ['dist/cli/main.js', 'dist/import/worker.bundle.js', 'dist/client/s.js', 'LICENSE'])
      expect(files.has(file), file).toBe(true);
    // Installed as npm installs it: the package under node_modules, its command linked into .bin
    // (its dependencies are this repository's, already installed).
    const project = join(packed, 'project');
    const installed = join(project, 'node_modules', 'balise');
    mkdirSync(installed, { recursive: true });
    const untar = spawnSync('tar', [
      '-xzf',
      join(packed, info!.filename),
      '-C',
      installed,
      '--strip-components=1',
    ]);
    expect(untar.status).toBe(0);
    symlinkSync(resolve('node_modules'), join(installed, 'node_modules'));
    const command = binLink(join(project, 'node_modules'));
    const log = join(packed, 'one.log');
    writeFileSync(log, '203.0.113.9 - - [07/Jul/2026:20:00:00 +0200] "GET / HTTP/1.1" 200 1 "-" "curl/8"\n');
    const config = join(packed, 'balise.yaml');
    writeFileSync(
      config,
      `store: { kind: duckdb, path: ${join(packed, 'store.duckdb')} }\nsites: [{ host: www.example.fr }]\n`,
    );
    const run = spawnSync(
      command,
      ['import', log, '--config', config, '--format', 'combined', '--site', 'www.example.fr', '--json'],
      { cwd: project, encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ lines: 1, imported: 1 });
  }, 60_000);

  it.skipIf(process.platform !== 'linux')(
    'runs `balise import` in one Node, the one it starts, with the import options (Linux: read from /proc)',
    async () => {
      const log = join(temp.dir, 'access.log');
      const line = (i: number) =>
        `203.0.113.${i % 200} - - [07/Jul/2026:20:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} +0200] "GET /p/${i % 50} HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"\n`;
      writeFileSync(log, Array.from({ length: 2_000 }, (_, i) => line(i)).join(''));
      const config = join(temp.dir, 'balise.yaml');
      writeFileSync(
        config,
        `store: { kind: duckdb, path: ${join(temp.dir, 'store.duckdb')} }\nsites: [{ host: www.example.fr }]\n`,
      );
      const { MALLOC_ARENA_MAX: _arenas, DUCKDB_JE_MALLOC_CONF: _allocator, ...env } = process.env;
      const child = spawn(
        linkedLauncher(),
        ['import', log, '--config', config, '--format', 'combined', '--site', 'www.example.fr', '--json'],
        { cwd: temp.dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      // The launcher's process becomes the import's Node (exec): seen while it runs.
      const pid = child.pid!;
      let seen: { argv: string[]; env: string[]; children: string } | undefined;
      for (let tries = 0; tries < 2_000 && !seen && child.exitCode === null; tries++) {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          if (argv.some((arg) => arg.endsWith('dist/cli/main.js'))) {
            seen = {
              argv,
              env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'),
              children: readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim(),
            };
          }
        } catch {
          // Not started yet, or already gone.
        }
        if (!seen) await new Promise((wait) => setTimeout(wait, 2));
      }
      expect(await exited, stderr).toBe(0);
      expect(seen, 'the import process was not seen running').toBeDefined();
      expect(seen!.argv.slice(1, 1 + IMPORT_FLAGS.length)).toEqual(IMPORT_FLAGS);
      for (const [name, value] of Object.entries(IMPORT_ENV)) expect(seen!.env).toContain(`${name}=${value}`);
      expect(seen!.children).toBe('');
      const summary = JSON.parse(stdout) as { lines: number; imported: number };
      expect(summary).toMatchObject({ lines: 2_000, imported: 2_000 });
    },
    30_000,
  );
});
