// bench:delivery — do a tool's deliveries keep pace with a site's traffic when its vendor is far
// away? The gateway (`balise serve`, built) with one built-in tool, loaded evenly
// (bench/paced.ts) at BENCH_RATE events/s for BENCH_SECONDS over BENCH_VISITORS visitors — one
// client per request, so GA4 (either mode), Matomo and Universal Analytics send one request per
// event — against a local vendor that answers each request BENCH_RTT_MS later (default 30: a
// vendor in the same region; 100 across an ocean). For each tool of BENCH_TOOLS (default every
// built-in in every mode: ga4-mp, ga4-relay, meta, matomo, ua, webhook) and each outbox setting
// of BENCH_WINDOWS (`concurrency-maxConcurrency`, default `4-64`, the defaults; `4-4` is four in
// flight at most, as before the window) prints the deliveries made during the load, how long the
// rest took after it, the backlog the gateway held and the most requests in flight. A tool sends
// at most window ÷ round trip requests per second.
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
const TOOLS = (process.env.BENCH_TOOLS ?? 'ga4-mp,ga4-relay,meta,matomo,ua,webhook').split(',');
const WINDOWS = (process.env.BENCH_WINDOWS ?? '4-64')
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
      delivered += carried(request.url ?? '', Buffer.concat(chunks).toString());
      response.writeHead(204).end();
    }, RTT_MS);
  });
});
vendor.keepAliveTimeout = 60_000;

/** The events one request carried: a batch's items (GA4 `events`, Meta `data`, webhook `events`), a `/g/collect` body's lines, else one. */
function carried(url: string, body: string): number {
  if (url.startsWith('/g/collect') && body.length > 0) return body.split('\n').filter(Boolean).length;
  try {
    const parsed = JSON.parse(body) as { events?: unknown[]; data?: unknown[] };
    return (parsed.events ?? parsed.data)?.length ?? 1;
  } catch {
    return 1;
  }
}

/** A site's `tools` entry for `tool`, pointed at the vendor. */
function toolLine(tool: string): string {
  const local = 'allowHosts: [127.0.0.1]';
  const lines: Record<string, string> = {
    'ga4-mp': `{ id: ga4, component: ga4, ${local}, settings: { measurementId: G-BENCH1, mode: mp, apiSecret: s, endpoint: "${vendorUrl}/mp/collect" } }`,
    'ga4-relay': `{ id: ga4, component: ga4, ${local}, settings: { measurementId: G-BENCH1, endpoint: "${vendorUrl}/g/collect" } }`,
    meta: `{ id: meta, component: meta, region: any, ${local}, settings: { pixelId: "1", accessToken: t, endpoint: "${vendorUrl}" } }`,
    matomo: `{ id: matomo, component: matomo, ${local}, settings: { url: "${vendorUrl}/matomo.php", siteId: 3 } }`,
    ua: `{ id: ua, component: ua, region: any, ${local}, settings: { trackingId: UA-1-1, endpoint: "${vendorUrl}/collect" } }`,
    webhook: `{ id: hook, component: webhook, ${local}, settings: { url: "${vendorUrl}/hook", secret: s } }`,
  };
  const line = lines[tool];
  if (!line) throw new Error(`unknown tool ${tool} (one of ${Object.keys(lines).join(', ')})`);
  return line;
}
await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
const vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;

const dir = mkdtempSync(join(tmpdir(), 'balise-bench-delivery-'));
process.stdout.write(
  `bench:delivery — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; ${RATE} events/s for ${SECONDS} s over ${VISITORS} visitors; vendor round trip ${RTT_MS} ms\n`,
);
try {
  for (const [tool, [concurrency, maxConcurrency]] of TOOLS.flatMap((t) =>
    WINDOWS.map((w) => [t, w] as const),
  )) {
    const name = `${tool}-${concurrency}-${maxConcurrency}`;
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
        `      - ${toolLine(tool)}`,
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
    const accepted = async () =>
      ((await (await fetch(`${found}/balise/healthz`)).json()) as { accepted: number }).accepted;
    const acceptedBefore = await accepted();
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
    // The events the gateway accepted (each one delivery for this tool).
    const sent = (await accepted()) - acceptedBefore;
    while (delivered - before < sent && performance.now() - loadEnd < 300_000)
      await new Promise((resolve) => setTimeout(resolve, 100));
    clearInterval(watch);
    const drain = (performance.now() - loadEnd) / 1000;
    const loadSeconds = (loadEnd - started) / 1000;
    const { p99 } = JSON.parse(out) as { p99: number };
    process.stdout.write(
      `${tool.padEnd(9)} concurrency ${concurrency}, maxConcurrency ${String(maxConcurrency).padEnd(3)} ${((100 * duringLoad) / sent).toFixed(1).padStart(5)} % delivered during the load (${duringLoad} of ${sent}; ${(duringLoad / loadSeconds).toFixed(0)}/s; window ÷ round trip: at most ${((maxConcurrency * 1000) / RTT_MS).toFixed(0)}/s); the rest in ${drain.toFixed(1)} s after it; backlog up to ${maxPending}; ${maxInFlight} requests in flight at most; collect p99 ${p99.toFixed(1)} ms\n`,
    );
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exit;
  }
} finally {
  vendor.close();
  rmSync(dir, { recursive: true, force: true });
}
