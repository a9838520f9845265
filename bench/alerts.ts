// bench:alerts — what live detection costs a gateway: N sites on a real DuckDB file with two
// days of per-minute traffic (region and node set), the first look (each series read back: a day
// of minutes, 35 days of hours, the five busiest regions and nodes) and the looks after it (one
// new minute each, as every minute in production), timed in process with their CPU.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { createGateway } from '../src/gateway.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';

const SITES = Number(process.env.BENCH_SITES ?? 10);
const LOOKS = Number(process.env.BENCH_LOOKS ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'balise-bench-alerts-'));
const hosts = Array.from({ length: SITES }, (_, i) => `site${i}.example`);
const now = Math.floor(Date.now() / 60_000) * 60_000;
const gateway = await createGateway(
  parseConfig(
    {
      store: { kind: 'duckdb', path: join(dir, 'b.duckdb') },
      alerts: { detectors: ['anomalies', 'attacks', 'shifts', 'outages'] },
      sites: hosts.map((host) => ({ host })),
    },
    { env: {} },
  ),
  { alerts: false },
);
let rows: EventRow[] = [];
let total = 0;
for (const [s, site] of hosts.entries())
  for (let m = 2 * 1440; m >= 1; m--) {
    const ts = now - m * 60_000;
    const count = 3 + ((m + s) % 5);
    for (let k = 0; k < count; k++) {
      rows.push(
        blankRow({
          id: deterministicId(ts, `${site}${m}:${k}`),
          ts: ts + k * 500,
          site,
          type: 'pageview',
          source: 'import',
          region: ['FR-IDF', 'FR-ARA', 'FR-PAC'][k % 3]!,
          node: k % 2 ? 'par1' : 'lyo1',
        }),
      );
      if (rows.length >= 50_000) {
        await gateway.store.append(rows);
        total += rows.length;
        rows = [];
      }
    }
  }
await gateway.store.append(rows);
total += rows.length;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const time = async (at: number) => {
  const started = performance.now();
  const c = cpu();
  await gateway.alerts!.look(at);
  return { ms: performance.now() - started, cpuMs: cpu() - c };
};
const first = await time(now + 120_000);
const later: { ms: number; cpuMs: number }[] = [];
for (let i = 1; i <= LOOKS; i++) later.push(await time(now + 120_000 + i * 60_000));
const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
process.stdout.write(
  `${SITES} sites, ${total.toLocaleString('en-US')} events over two days\n` +
    `first look (read back): ${first.ms.toFixed(0)} ms, CPU ${first.cpuMs.toFixed(0)} ms\n` +
    `each minute after it (median of ${LOOKS}): ${median(later.map((l) => l.ms)).toFixed(0)} ms, CPU ${median(later.map((l) => l.cpuMs)).toFixed(0)} ms` +
    ` (${((100 * median(later.map((l) => l.cpuMs))) / 60_000).toFixed(2)} % of one core)\n` +
    `alerts recorded: ${gateway.alerts!.log.list({ limit: 1000 }).length}\n`,
);
await gateway.close();
rmSync(dir, { recursive: true, force: true });
