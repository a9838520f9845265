import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../child.js';
import { readEvents, tempDir } from '../helpers.js';
import { countStored, postLoop, stopChild } from './load.js';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** Resident memory of a process, in MB (Linux). */
function rssMb(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : 0;
}

describe('overload past capacity', () => {
  it('answers 429 and 503 with Retry-After, keeps memory bounded, and stores every event it acknowledged', async () => {
    const configPath = join(temp.dir, 'balise.yaml');
    // A store that takes a batch every 2 s and a backlog bound of 5,000 rows: 64 clients
    // sending batches of 20 outrun it at once. One address is also limited to 30,000 a minute.
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: overload, rateLimit: { perIpPerMinute: 30000, perSitePerMinute: 100000000 } }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 2000, batchRows: 1000000, maxPendingRows: 5000 }',
        'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
      ].join('\n'),
    );
    const gateway = await startChild(configPath);
    const pid = gateway.child.pid!;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 200);
    const batch = Array.from({ length: 19 }, () => ({
      eventType: 'pageview',
      location: 'https://www.example.fr/batch',
    }));
    const load = postLoop(gateway.url, 64);
    // The loop posts single events; a second loop posts batches (carrying the marker in the last).
    const batches = postLoop(gateway.url, 32, {}, (event) => ({ events: [...batch, event] }));
    await load.until(() => (load.statuses.get(503) ?? 0) + (batches.statuses.get(503) ?? 0) > 500, 60_000);
    await load.until(() => (load.statuses.get(429) ?? 0) + (batches.statuses.get(429) ?? 0) > 100, 60_000);
    await Promise.all([load.stop(), batches.stop()]);
    clearInterval(sampler);
    const health = (await (await fetch(`${gateway.url}/balise/healthz`)).json()) as { pendingRows: number };
    expect(health.pendingRows).toBeLessThanOrEqual(5000);
    expect(await stopChild(gateway.child)).toBe(0);

    const counts = countStored(await readEvents(temp.dir));
    const acked = new Set([...load.acked, ...batches.acked]);
    const missing = [...acked].filter((n) => !counts.has(n));
    const statuses = new Map<number, number>();
    for (const loop of [load, batches])
      for (const [status, n] of loop.statuses) statuses.set(status, (statuses.get(status) ?? 0) + n);
    console.log(
      `overload: ${JSON.stringify(Object.fromEntries(statuses))}; ${acked.size} acknowledged, ${missing.length} lost; peak RSS ${peak.toFixed(0)} MB`,
    );
    expect(load.retryAfterMissing + batches.retryAfterMissing).toBe(0);
    expect([...statuses.keys()].filter((s) => s !== 204 && s !== 429 && s !== 503)).toEqual([]);
    expect(missing).toEqual([]);
    expect(peak).toBeLessThan(400);
  });
});
