// bench:delivery — do a tool's deliveries keep pace with a site's traffic when its vendor is far
// away? The gateway (`balise serve`, built) with GA4 in Measurement Protocol mode, loaded evenly
// (bench/paced.ts) at BENCH_RATE events/s for BENCH_SECONDS over BENCH_VISITORS visitors — one
// client per request, so GA4 sends one request per event — against a local vendor that answers
// each request BENCH_RTT_MS later (default 30: a vendor in the same region; 100 across an ocean).
// For each outbox setting in BENCH_WINDOWS (`concurrency-maxConcurrency`; default `4-4,4-64`:
// four requests in flight at most, as before the window, then the defaults) prints the
// deliveries made during the load, how long the rest took after it, the backlog the gateway held
// and the most requests in flight. A tool sends at most window ÷ round trip requests per second.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startUntil } from './processes.js';
import { BENCH_PAGEVIEW } from './visitors.js';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const VISITORS = Number(process.env.BENCH_VISITORS ?? 10000);
const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 30);
const WINDOWS = (process.env.BENCH_WINDOWS ?? '4-4,4-64')
  .split(',')
  .map((w) => w.split('-').map(Number) as [number, number]);
const TOKEN = 'bench-delivery-token';

// The vendor: each request answered RTT_MS after it arrived; the events it carried counted.
let delivered = 0;
let inFlight = 0;
let maxInFlight = 0;
const vendor = createServer((request, response) => {
  const chunks: Buffer[] = [];
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    setTimeout(() => {
      inFlight--;
      try {
        delivered +=
          (JSON.parse(Buffer.concat(chunks).toString()) as { events?: unknown[] }).events?.length ?? 1;
      } catch {
        delivered++;
      }
      response.writeHead(204).end();
    }, RTT_MS);
  });
});
vendor.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
const vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;

const dir = mkdtempSync(join(tmpdir(), 'balise-bench-delivery-'));
process.stdout.write(
  `bench:delivery — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; GA4 (mp), ${RATE} events/s for ${SECONDS} s over ${VISITORS} visitors; vendor round trip ${RTT_MS} ms\n`,
);
try {
  for (const [concurrency, maxConcurrency] of WINDOWS) {
    const name = `${concurrency}-${maxConcurrency}`;
    const config = join(dir, `${name}.yaml`);
    writeFileSync(
      config,
      [
        'server: { host: 127.0.0.1, port: 0, node: bench, trustedProxies: [127.0.0.1], rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
        `store: { kind: duckdb, path: ${join(dir, `${name}.duckdb`)} }`,
        `outbox: { concurrency: ${concurrency}, maxConcurrency: ${maxConcurrency} }`,
        `admin: { tokens: [${createHash('sha256').update(TOKEN).digest('hex')}] }`,
        'sites:',
        '  - host: www.example.fr',
        '    aliases: [127.0.0.1]',
        '    tools:',
        `      - { id: ga4, component: ga4, allowHosts: [127.0.0.1], settings: { measurementId: G-BENCH1, mode: mp, apiSecret: s, endpoint: "${vendorUrl}/mp/collect" } }`,
      ].join('\n'),
    );
    const { child, found } = await startUntil(
      process.execPath,
      ['dist/cli/main.js', 'serve', '--config', config],
      /on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    const url = `${found}/balise/e`;
    const pending = async () =>
      Number(
        /^balise_outbox_pending (\d+)/m.exec(
          await (
            await fetch(`${found}/balise/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
          ).text(),
        )?.[1] ?? NaN,
      );
    const before = delivered;
    maxInFlight = 0;
    const started = performance.now();
    let maxPending = 0;
    const watch = setInterval(() => {
      void pending().then((n) => (maxPending = Math.max(maxPending, n || 0)));
    }, 500);
    const out = await run(process.execPath, [
      '--import',
      'tsx',
      'bench/paced.ts',
      url,
      String(SECONDS),
      String(RATE),
      BENCH_PAGEVIEW,
      String(VISITORS),
    ]);
    const loadEnd = performance.now();
    const duringLoad = delivered - before;
    const sent = Math.floor(RATE * (SECONDS + 1));
    while (delivered - before < sent && performance.now() - loadEnd < 300_000)
      await new Promise((resolve) => setTimeout(resolve, 100));
    clearInterval(watch);
    const drain = (performance.now() - loadEnd) / 1000;
    const loadSeconds = (loadEnd - started) / 1000;
    const { p99 } = JSON.parse(out) as { p99: number };
    process.stdout.write(
      `concurrency ${concurrency}, maxConcurrency ${String(maxConcurrency).padEnd(3)} ${((100 * duringLoad) / sent).toFixed(1).padStart(5)} % delivered during the load (${duringLoad} of ${sent}; ${(duringLoad / loadSeconds).toFixed(0)}/s; window ÷ round trip: at most ${((maxConcurrency * 1000) / RTT_MS).toFixed(0)}/s); the rest in ${drain.toFixed(1)} s after it; backlog up to ${maxPending}; ${maxInFlight} requests in flight at most; collect p99 ${p99.toFixed(1)} ms\n`,
    );
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exit;
  }
} finally {
  vendor.close();
  rmSync(dir, { recursive: true, force: true });
}
