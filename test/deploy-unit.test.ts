// docs/deploy.md's systemd unit: it starts Node with the options and environment the project
// measures (src/cli/gateway-node.ts), and a gateway started by its ExecStart line serves, with
// V8's young generation held to them and DuckDB's allocator set by the CLI.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newToken } from '../src/api/auth.js';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS } from '../src/cli/gateway-node.js';
import { startChild } from './child.js';
import { tempDir } from './helpers.js';

const unit = /```ini\n([\s\S]*?)```/.exec(readFileSync('docs/deploy.md', 'utf8'))?.[1] ?? '';
const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
const environment = Object.fromEntries(
  [...unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!]),
);

/** A metric's value in a Prometheus text (NaN when absent). */
const metric = (text: string, line: string) =>
  Number(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe("docs/deploy.md's systemd unit", () => {
  it('starts Node with the options and environment the gateway is measured with', () => {
    expect(execStart).toBe(
      `/usr/bin/node ${GATEWAY_NODE_FLAGS.join(' ')} /opt/balise/dist/cli/main.js serve --config /etc/balise/balise.yaml`,
    );
    expect(environment).toEqual(GATEWAY_ENV);
  });

  it('starts a gateway whose young generation stays within the option under load', async () => {
    const temp = tempDir();
    const { token, hash } = newToken();
    const config = join(temp.dir, 'balise.yaml');
    writeFileSync(
      config,
      [
        'server: { host: 127.0.0.1, port: 0, rateLimit: { perIpPerMinute: 100000 } }',
        `store: { kind: duckdb, path: ${join(temp.dir, 'balise.duckdb')} }`,
        `admin: { tokens: ["${hash}"] }`,
        'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
      ].join('\n'),
    );
    // The unit's command, with this checkout for /opt/balise and the test's configuration.
    const [, ...args] = execStart
      .replace('/opt/balise/', `${process.cwd()}/`)
      .replace('/etc/balise/balise.yaml', config)
      .split(' ');
    const { child, url } = await startChild(config, { args, env: environment });
    const body = JSON.stringify({
      eventType: 'pageview',
      location: 'https://www.example.fr/a',
      title: 'A',
      referer: 'https://www.google.com/',
    });
    // Enough allocation for V8 to grow its young generation to the most it may.
    for (let round = 0; round < 20; round++)
      await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${url}/balise/e`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain', 'user-agent': 'Mozilla/5.0 Firefox/133.0' },
            body,
          }).then((answer) => answer.arrayBuffer()),
        ),
      );
    const metrics = await (
      await fetch(`${url}/balise/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    const young = metric(metrics, 'nodejs_heap_space_size_total_bytes{space="new"}');
    const semiSpaceMb = Number(/--max-semi-space-size=(\d+)/.exec(execStart)?.[1]);
    expect(young).toBeGreaterThan(0);
    // Two halves of the given size at most (V8's default grows them to 16 MB each).
    expect(young).toBeLessThanOrEqual(2 * semiSpaceMb * 1024 * 1024);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    temp.cleanup();
  }, 60_000);
});
