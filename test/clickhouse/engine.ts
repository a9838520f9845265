/**
 * The ClickHouse engine the tests and benchmarks run on: chdb 3.4.0 (ClickHouse 26.7 as a
 * library), installed on first use into test/clickhouse/engine/ (not in the project's lock: its
 * package names platform builds the registry does not have, which `npm ci` refuses), and served
 * over HTTP by server.ts in a process of its own, so that several gateways can share it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ENGINE_DIR = join(HERE, 'engine');

/** The part of chdb's Session the server uses. */
export interface ChdbSession {
  query(sql: string, format?: string): string;
  queryBindAsync(
    sql: string,
    params: object,
    options?: { format?: string; timeout?: number },
  ): Promise<{ text(): string; rowsRead: number }>;
  insert(params: {
    table: string;
    values: Buffer;
    format: 'JSONEachRow';
    columns?: string[];
    settings?: Record<string, string>;
  }): Promise<{ rowsWritten: number }>;
  close(): void;
}

/** Installs chdb into test/clickhouse/engine/ unless it is there (≈ 540 MB from the npm registry). */
export function ensureEngine(): void {
  if (existsSync(join(ENGINE_DIR, 'node_modules', 'chdb', 'package.json'))) return;
  console.error(
    'installing the ClickHouse test engine (chdb 3.4.0, ClickHouse 26.7) into test/clickhouse/engine …',
  );
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', '--prefix', ENGINE_DIR],
    { stdio: 'inherit' },
  );
}

/** Loads chdb from test/clickhouse/engine/ (installing it first when needed). */
export function loadChdb(): { Session: new (path: string) => ChdbSession } {
  ensureEngine();
  const require = createRequire(join(ENGINE_DIR, 'package.json'));
  return require('chdb') as { Session: new (path: string) => ChdbSession };
}

/** A running ClickHouse server (server.ts over chdb) on a fresh data directory. */
export interface ClickHouseServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a ClickHouse server process on 127.0.0.1 and a free port (or `port`); resolves once it
 * answers. Its data lives in a fresh folder removed when it stops, or in `dataDir`, kept (a server
 * stopped and started again on the same data).
 */
export async function startClickHouse(
  options: { dataDir?: string; port?: number } = {},
): Promise<ClickHouseServer> {
  ensureEngine();
  const owned = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'balise-clickhouse-'));
  const script = join(HERE, 'server.ts');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', script, dataDir, String(options.port ?? 0)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: join(HERE, '..', '..'),
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error('the ClickHouse test server did not start in 60 s')),
      60_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ClickHouse test server exited with ${code}`));
    });
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          if (owned) rmSync(dataDir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) {
          done();
          return;
        }
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
