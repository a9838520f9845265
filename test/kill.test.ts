import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEvents, tempDir } from './helpers.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** Starts `balise serve` as a child process and resolves with its base URL once it listens. */
function startChild(configPath: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${output}`)));
  });
}

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
    const acked = new Set<number>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (!killed) {
        const n = next++;
        try {
          const response = await fetch(`${first.url}/balise/e`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({
              eventType: 'track',
              name: 'load',
              location: 'https://www.example.fr/',
              payload: { n },
            }),
          });
          if (response.status === 204) acked.add(n);
        } catch {
          // In flight when the process died: not acknowledged.
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const exit = exited(first.child);
    first.child.kill('SIGKILL');
    killed = true;
    await exit;
    await Promise.all(workers);
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
