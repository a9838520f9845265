// bench:tools — the tools' work per event in one process, without sockets: BENCH_EVENTS events
// (default 20,000) through the collect pipeline and ToolRuntime.dispatch to GA4 (Measurement
// Protocol), Meta and a webhook, 50 at a time, into a real outbox (journal fsynced on disk) whose
// transport answers at once; then until every delivery is made. Prints the CPU per event of
// accepting (dispatch, egress guard, journal) and with the deliveries (batches, egress log), in
// BENCH_ROUNDS rounds (default 3; the first warms the JIT). BENCH_VISITORS spreads the events over
// that many visitors (GA4's batches are per client). The gateway's own figure, sockets and HTTP
// included, is bench:collect's (BENCH_TOOLS=1); this one shows what a change of the tools' code
// does, steadier than a load through the network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineContext, RawEvent } from '../src/pipeline/event.js';
import { BENCH_UA } from './visitors.js';

// The built JavaScript (npm run build), as the gateway runs it.
const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).href;
const { parseConfig } = (await import(dist('config/load.js'))) as typeof import('../src/config/load.js');
const { Outbox } = (await import(dist('tools/outbox.js'))) as typeof import('../src/tools/outbox.js');
const { ToolRuntime } = (await import(dist('tools/runtime.js'))) as typeof import('../src/tools/runtime.js');
const { Pipeline } = (await import(dist('pipeline/runner.js'))) as typeof import('../src/pipeline/runner.js');
const { PIPELINE_STEPS } = (await import(
  dist('pipeline/steps.js')
)) as typeof import('../src/pipeline/steps.js');
const { GeoLookup } = (await import(dist('enrich/geo.js'))) as typeof import('../src/enrich/geo.js');

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VISITORS = Number(process.env.BENCH_VISITORS ?? 1);
const VENDOR = 'http://127.0.0.1:9';

const dir = mkdtempSync(join(tmpdir(), 'balise-bench-tools-'));
const config = parseConfig(
  {
    outbox: { concurrency: 16 },
    sites: [
      {
        host: 'www.example.fr',
        tools: [
          {
            id: 'ga4',
            component: 'ga4',
            allowHosts: ['127.0.0.1'],
            settings: {
              measurementId: 'G-BENCH1',
              mode: 'mp',
              apiSecret: 's',
              endpoint: `${VENDOR}/mp/collect`,
            },
          },
          {
            id: 'meta',
            component: 'meta',
            region: 'any',
            allowHosts: ['127.0.0.1'],
            settings: { pixelId: '1', accessToken: 't', endpoint: VENDOR },
          },
          {
            id: 'hook',
            component: 'webhook',
            allowHosts: ['127.0.0.1'],
            settings: { url: `${VENDOR}/hook`, secret: 's' },
          },
        ],
      },
    ],
  },
  { env: {} },
);
let requests = 0;
let delivered = 0;
const outbox = await Outbox.open(join(dir, 'outbox'), config.outbox, {
  // The vendors answer at once: what is measured is the gateway's side of each request.
  transport: (request) => {
    requests++;
    const body = JSON.parse(request.body ?? '{}') as { events?: unknown[]; data?: unknown[] };
    delivered += (body.events ?? body.data)?.length ?? 1;
    const meta = request.url.includes('/events');
    return Promise.resolve({ status: meta ? 200 : 204, body: meta ? '{"events_received":1}' : '' });
  },
  log: () => undefined,
});
const runtime = await ToolRuntime.start(config, outbox);
const geo = await GeoLookup.open(config.geo);
const context: PipelineContext = {
  countFinding: () => undefined,
  node: 'bench',
  geo: (ip) => geo.lookup(ip),
  // A decimal 64-bit value per visitor, as the day's visitor hash is.
  visitorHash: (_site, ip) =>
    String(10n ** 15n + BigInt(ip.split('.').reduce((a, b) => a * 256 + Number(b), 0))),
};
const steps = new Pipeline(PIPELINE_STEPS);
const site = config.sites[0]!;

async function event(n: number): Promise<void> {
  const visitor = n % VISITORS;
  const now = Date.now();
  const raw: RawEvent = {
    type: 'pageview',
    name: null,
    url: 'https://www.example.fr/politique/article-12?utm_source=newsletter',
    title: 'Article 12 — politique',
    referrer: 'https://www.google.com/',
    clientTimestamp: now,
    props: null,
    ip: `81.${(visitor >> 16) & 255}.${(visitor >> 8) & 255}.${visitor & 255}`,
    userAgent: BENCH_UA,
    receivedAt: now,
    source: 'browser',
    viewportWidth: 1200,
    viewportHeight: 800,
    timezoneOffset: -60,
  };
  const made = await steps.run(raw, site, context);
  if (made.kind !== 'ok') throw new Error(`event dropped: ${made.reason}`);
  await runtime.dispatch(site, raw, made.value, null);
}

const perEvent = (usage: NodeJS.CpuUsage) => ((usage.user + usage.system) / EVENTS).toFixed(1);
try {
  process.stdout.write(
    `bench:tools — GA4 (mp), Meta, webhook; ${EVENTS} events, ${VISITORS} visitor(s), 50 at a time, ${ROUNDS} rounds\n`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    requests = 0;
    delivered = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < EVENTS) await event(next++);
      }),
    );
    const accepting = process.cpuUsage(cpu);
    const seconds = (performance.now() - started) / 1000;
    if (!(await outbox.idle(60_000))) throw new Error('the deliveries were not all made in 60 s');
    const all = process.cpuUsage(cpu);
    if (delivered !== 3 * EVENTS) throw new Error(`${delivered} deliveries made, ${3 * EVENTS} expected`);
    process.stdout.write(
      `round ${round}: accepting ${perEvent(accepting)} µs CPU per event (${Math.round(EVENTS / seconds)} events/s); with the deliveries ${perEvent(all)} µs; ${delivered} deliveries in ${requests} requests\n`,
    );
  }
} finally {
  await runtime.close();
  await outbox.close();
  rmSync(dir, { recursive: true, force: true });
}
