import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../child.js';
import { acceptedEvents, startWebhookReceiver } from '../fake-vendors.js';
import { readEvents, tempDir } from '../helpers.js';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import type { EventRow } from '../../src/store/row.js';
import { countStored, postLoop, stopChild } from './load.js';

// A real full disk: a small tmpfs holding the store, the spool and the outbox, filled by a
// ballast file while clients post, then emptied. Mounting needs root (CI runs as root); elsewhere
// the test says so in its name and is skipped.
const IS_ROOT = process.getuid?.() === 0;
const temp = tempDir();
const mountPoint = join(temp.dir, 'disk');
const mounts: string[] = [];
afterAll(() => {
  for (const point of mounts) execFileSync('umount', ['-l', point]);
  temp.cleanup();
});

function mountTmpfs(point: string, size: string): void {
  mkdirSync(point, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', point]);
  mounts.push(point);
}

/** Fills `point` but for `spare` bytes with a file, and returns its path. */
function fill(point: string, spare: number): string {
  const ballast = join(point, 'ballast');
  execFileSync('fallocate', ['-l', String(Math.max(0, freeBytes(point) - spare)), ballast]);
  return ballast;
}

function row(i: number): EventRow {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    ts: Date.UTC(2026, 0, 1) + i * 1000,
    site: 'www.example.fr',
    type: 'pageview',
    name: null,
    path: `/p/${i}`,
    title: 'x'.repeat(300),
    referrerHost: null,
    referrerClass: 'direct',
    country: 'FR',
    region: null,
    asn: null,
    deviceType: 'desktop',
    browser: 'Firefox',
    os: 'Linux',
    isBot: false,
    visitorHash: String(i),
    sessionHash: String(i),
    node: 'disk',
    status: null,
    bytes: null,
    source: 'browser',
    props: null,
    utmSource: null,
    utmMedium: null,
    utmCampaign: null,
    utmTerm: null,
    utmContent: null,
    paid: false,
    screenClass: null,
  };
}

function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

describe.skipIf(!IS_ROOT)('a full disk (needs root to mount a tmpfs)', () => {
  it('never acknowledges an event it did not keep, answers 503 with Retry-After, and recovers without a restart', async () => {
    mountTmpfs(mountPoint, '32m');
    // A tool too: its outbox journal lives on the same disk.
    const hook = await startWebhookReceiver('disk-secret');
    const configPath = join(mountPoint, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: disk, rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 50, batchRows: 200 }',
        'outbox: { baseDelayMs: 200, maxDelayMs: 1000, maxAttempts: 100 }',
        'sites:',
        '  - host: www.example.fr',
        '    aliases: [127.0.0.1]',
        '    tools:',
        `      - { id: hook, component: webhook, allowHosts: [127.0.0.1], settings: { url: "${hook.url}/hook", secret: disk-secret } }`,
      ].join('\n'),
    );
    const gateway = await startChild(configPath);
    let log = '';
    gateway.child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    gateway.child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const load = postLoop(gateway.url, 8, { title: 'x'.repeat(200) });
    await load.until(() => load.acked.size > 2000);

    // Fill the disk but for ~100 kB: the spool, DuckDB's WAL and checkpoints all run out.
    const ballast = fill(mountPoint, 100_000);
    const ackedAtFull = load.acked.size;
    await load.until(() => (load.statuses.get(503) ?? 0) > 200, 20_000);
    const health = await fetch(`${gateway.url}/balise/healthz`);
    const healthBody = (await health.json()) as { status: string; problems: string[] };
    expect(health.status).toBe(503);
    expect(healthBody.status).toBe('failing');
    expect(healthBody.problems).toContain('spool_cannot_write');
    expect(load.retryAfterMissing).toBe(0);
    expect(load.statuses.get(500) ?? 0).toBe(0);

    // Space comes back: the gateway accepts again on its own.
    rmSync(ballast);
    const before = load.acked.size;
    await load.until(() => load.acked.size > before + 2000, 20_000);
    await load.stop();
    const healthAfter = (await (await fetch(`${gateway.url}/balise/healthz`)).json()) as { status: string };
    expect(['ok', 'degraded']).toContain(healthAfter.status);
    // Every acknowledged event reaches the tool too (by its number), whatever was refused.
    const delivered = () =>
      new Set((acceptedEvents(hook) as { properties: { n: number } }[]).map((event) => event.properties.n));
    await load
      .until(() => {
        const got = delivered();
        return [...load.acked].every((n) => got.has(n));
      }, 30_000)
      .catch(() => undefined);
    const got = delivered();
    const undelivered = [...load.acked].filter((n) => !got.has(n));
    expect(await stopChild(gateway.child)).toBe(0);
    await hook.close();

    const counts = countStored(await readEvents(mountPoint));
    const missing = [...load.acked].filter((n) => !counts.has(n));
    const duplicated = [...counts].filter(([, c]) => c > 1);
    console.log(
      `full disk: ${load.acked.size} acknowledged (${ackedAtFull} before the disk filled), ` +
        `${load.statuses.get(503) ?? 0} answered 503, ${missing.length} lost, ${duplicated.length} duplicated, ` +
        `${undelivered.length} not delivered to the webhook; ` +
        `${log.split('\n').length} log lines:\n${log}`,
    );
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(undelivered.length).toBe(0);
    // Logs are rate-limited: a line per kind per 10 s, not one per request.
    expect(log.split('\n').length).toBeLessThan(100);
  });
});

describe.skipIf(!IS_ROOT)('the DuckDB store on a full disk (needs root to mount a tmpfs)', () => {
  it('is usable again once space comes back, without being reopened by its caller', async () => {
    const point = join(temp.dir, 'store-disk');
    mountTmpfs(point, '24m');
    const store = await DuckDBStore.open(join(point, 'balise.duckdb'));
    await store.migrate();
    await store.append(Array.from({ length: 1000 }, (_, i) => row(i)));
    const ballast = fill(point, 20_000);
    // Writes and a checkpoint on a full disk: DuckDB fails them (and may invalidate the database).
    let failures = 0;
    for (let i = 1; i <= 5; i++)
      await store.append(Array.from({ length: 2000 }, (_, j) => row(i * 10_000 + j))).catch(() => failures++);
    await store.query('CHECKPOINT').catch(() => failures++);
    expect(failures).toBeGreaterThan(0);
    rmSync(ballast);
    await store.append([row(999_999)]);
    const found = await store.query<{ n: number }>('SELECT count(*) AS n FROM events WHERE id = $1', [
      row(999_999).id,
    ]);
    expect(found[0]?.n).toBe(1);
    await store.close();
  });
});
