import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import { startChild } from '../child.js';
import { tempDir } from '../helpers.js';
import { stopChild } from './load.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('password guessing on the dashboard login', () => {
  it('checks only a handful of 400 guesses from 40 addresses, and healthz stays fast meanwhile', async () => {
    const configPath = join(temp.dir, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: login }',
        'store: { kind: duckdb, path: ./balise.duckdb }',
        `admin: { passwordHash: '${hashPassword('the right password')}' }`,
        'sites: [{ host: www.example.fr }]',
      ].join('\n'),
    );
    const gateway = await startChild(configPath);
    const statuses = new Map<number, number>();
    let healthWorst = 0;
    let guessing = true;
    const health = (async () => {
      while (guessing) {
        const started = performance.now();
        await (await fetch(`${gateway.url}/balise/healthz`)).arrayBuffer();
        healthWorst = Math.max(healthWorst, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 40 }, async (_, a) => {
        const client = new Client(gateway.url, { localAddress: `127.0.1.${a + 1}` });
        for (let i = 0; i < 10; i++) {
          const answer = await client.request({
            method: 'POST',
            path: '/balise/ui/login',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ password: `guess ${a}-${i}` }),
          });
          await answer.body.dump();
          statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
        }
        await client.close();
      }),
    );
    guessing = false;
    await health;
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `login guessing: 400 guesses from 40 addresses in ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `slowest healthz ${healthWorst.toFixed(0)} ms`,
    );
    // Checked: the first five wrong passwords, then one per wait (1 s, 2 s, 4 s …).
    expect(statuses.get(401) ?? 0).toBeLessThanOrEqual(8);
    expect((statuses.get(401) ?? 0) + (statuses.get(429) ?? 0)).toBe(400);
    expect(healthWorst).toBeLessThan(250);
    expect(await stopChild(gateway.child)).toBe(0);
  });
});
