import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadUntil, startChild } from './child.js';
import { readEvents, tempDir } from './helpers.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('a gateway killed with SIGKILL mid-load', () => {
  it('finds every acknowledged event exactly once after a restart', async () => {
    const configPath = join(temp.dir, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: kill-test, rateLimit: { perIpPerMinute: 1000000 } }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 20, batchRows: 50 }',
        'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
      ].join('\n'),
    );
    const first = await startChild(configPath);
    let killed = false;
    const loading = loadUntil(first.url, 16, () => killed);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const exit = exited(first.child);
    first.child.kill('SIGKILL');
    killed = true;
    await exit;
    const acked = await loading;
    expect(acked.size).toBeGreaterThan(100);

    const second = await startChild(configPath);
    const stopped = exited(second.child);
    second.child.kill('SIGTERM');
    expect(await stopped).toBe(0);

    const rows = await readEvents(temp.dir);
    const seen = new Map<number, number>();
    for (const r of rows) {
      const n = (JSON.parse(String(r.props)) as { n: number }).n;
      seen.set(n, (seen.get(n) ?? 0) + 1);
    }
    const missing = [...acked].filter((n) => !seen.has(n));
    const duplicated = [...seen].filter(([, c]) => c > 1);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
  }, 60_000);
});
