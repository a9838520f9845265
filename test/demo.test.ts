import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { readEvents, tempDir } from './helpers.js';

const temp = tempDir();
const stopAfterAll: (() => void)[] = [];
afterAll(() => {
  for (const stop of stopAfterAll) stop();
  temp.cleanup();
});

describe('balise demo (the README quick start)', () => {
  it('seeds traffic, serves the demo website and the script, prints the URLs, and flushes on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['dist/cli/main.js', 'demo', '--port', '0', '--site-port', '0', '--days', '2', '--data', temp.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // A failing assertion must not leave the demo running after the test file.
    stopAfterAll.push(() => child.kill('SIGKILL'));
    for (let i = 0; i < 300 && !output.includes('Press Ctrl+C'); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('Balise demo is running');
    const site = /demo website\s+(http:\/\/localhost:\d+\/)/.exec(output)?.[1];
    const script = /client script\s+(http:\/\/localhost:\d+\/balise\/s\.js)/.exec(output)?.[1];
    const seeded = Number(/\(\+(\d+) seeded events\)/.exec(output)?.[1]);
    expect(site).toBeDefined();
    expect(script).toBeDefined();
    expect(seeded).toBeGreaterThan(1000);

    const page = await fetch(site!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(script!);
    expect((await fetch(script!)).status).toBe(200);
    const gateway = script!.replace('/s.js', '');
    const sent = await fetch(`${gateway}/e`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ eventType: 'pageview', location: `${site!}politique`, title: 'Politique' }),
    });
    expect(sent.status).toBe(204);

    const token = /token for this run: (\S+)\)/.exec(output)?.[1];
    const api = await fetch(`${gateway}/api/v1/series`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token!}` },
      body: JSON.stringify({ group: 'news', metric: 'pageviews', interval: '1d', last: '2d' }),
    });
    expect(api.status).toBe(200);
    const series = (await api.json()) as { rows: { value: number }[] };
    expect(series.rows.reduce((sum, r) => sum + r.value, 0)).toBeGreaterThan(100);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const rows = await readEvents(temp.dir);
    expect(rows.length).toBe(seeded + 1);
    expect(rows.filter((r) => r.source === 'browser').map((r) => r.path)).toEqual(['/politique']);
    expect(new Set(rows.map((r) => r.site))).toEqual(
      new Set(['localhost', 'www.quotidien-demo.fr', 'www.tele-demo.fr']),
    );
  }, 60_000);
});
