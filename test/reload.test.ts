import type { ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from './child.js';
import { tempDir } from './helpers.js';

// `balise serve` applies its configuration file again on SIGHUP (a hand edit, or another gateway
// sharing the file): a valid file takes effect without a restart, an invalid one is refused and
// the running configuration kept.
const temp = tempDir('balise-reload-');
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  temp.cleanup();
});

async function waitForOutput(lines: string[], pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (lines.some((l) => pattern.test(l))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no line matching ${pattern} in: ${lines.join('')}`);
}

describe('SIGHUP', () => {
  it('applies a hand-edited configuration file, and keeps the running one when the file is invalid', async () => {
    const configPath = join(temp.dir, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: reload-test }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 20 }',
        'sites:',
        '  - host: www.example.fr',
        '',
      ].join('\n'),
    );
    const started = await startChild(configPath);
    child = started.child;
    const output: string[] = [];
    child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    // node:http, because fetch does not let a caller set the Host header.
    const collect = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const request = httpRequest(
          `${started.url}/balise/e`,
          { method: 'POST', headers: { host, 'content-type': 'application/json' } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        request.end(JSON.stringify({ eventType: 'pageview', location: `https://${host}/` }));
      });

    expect(await collect('www.added.fr')).toBe(403);
    appendFileSync(configPath, '  - host: www.added.fr\n');
    child.kill('SIGHUP');
    await waitForOutput(output, /SIGHUP: configuration [0-9a-f]{16} applied/);
    expect(await collect('www.added.fr')).toBe(204);

    appendFileSync(configPath, '  - host: Not A Host\n');
    child.kill('SIGHUP');
    await waitForOutput(
      output,
      /SIGHUP: configuration not applied, the running one is kept: .*sites\[2\]\.host/,
    );
    expect(await collect('www.added.fr')).toBe(204);
    expect(await collect('www.example.fr')).toBe(204);
  });
});
