// Builds what tests load from dist/ (client script, CLI for child processes) when it is missing or stale.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startClickHouse } from './clickhouse/engine.js';

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds dist/ when stale; starts the ClickHouse test server when the run includes ClickHouse. */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const built = 'dist/cli/main.js';
  if (!existsSync(built) || !existsSync('dist/client/s.js') || statSync(built).mtimeMs < newest('src')) {
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  }
  if ((process.env.BALISE_TEST_STORES ?? '').includes('clickhouse')) {
    const server = await startClickHouse();
    project.provide('clickhouseUrl', server.url);
    return () => server.stop();
  }
}
