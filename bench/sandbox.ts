// bench:sandbox — what running a component in its sandbox (worker thread + vm context) costs
// against the same component in the gateway's thread, in the same run: the tools runtime
// dispatches the same events (privacy view, listener, one fetch through the egress guard into the
// durable outbox, delivered to a bare node:http server in a child process on 127.0.0.1).
// Prints events/s, CPU per event (this process, worker threads included), the sandbox's
// memory, and the ratios.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../src/config/load.js';
import { emptyRow, type EventRow } from '../src/store/row.js';
import { Outbox } from '../src/tools/outbox.js';
import { ToolRuntime, type ComponentModule } from '../src/tools/runtime.js';
import { startNoContentServer } from './processes.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const CONCURRENCY = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const server = await startNoContentServer();
const port = server.port;

const dir = mkdtempSync(join(tmpdir(), 'balise-bench-sandbox-'));
const file = join(dir, 'hook.mjs');
writeFileSync(
  file,
  `export const manifest = { name: 'bench-hook', permissions: ['server_network_requests'], settings: { endpoint: { required: true } } };
export default function (manager, settings) {
  const send = (event) => manager.fetch(settings.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: event.payload.__eventId, type: event.type, url: event.client.url.href, title: event.client.title, client: event.client.get('client_id') }),
  });
  manager.addEventListener('pageview', send);
  manager.addEventListener('event', send);
}
`,
);
const inProcess = (await import(pathToFileURL(file).href)) as ComponentModule;

function config(component: string) {
  return parseConfig(
    {
      store: { kind: 'duckdb', path: join(dir, 'unused.duckdb') },
      outbox: { allowHosts: ['127.0.0.1'] },
      sites: [
        {
          host: 'www.example.fr',
          tools: [{ id: 'hook', component, settings: { endpoint: `http://127.0.0.1:${port}/hook` } }],
        },
      ],
    },
    { env: {} },
  );
}

function event(i: number): { raw: Parameters<ToolRuntime['dispatch']>[1]; row: EventRow } {
  const row = emptyRow({
    id: `0190b3c4-0000-7000-8000-${String(i).padStart(12, '0')}`,
    ts: Date.now(),
    site: 'www.example.fr',
    type: 'pageview',
    node: null,
    status: null,
    bytes: null,
    source: 'browser',
  });
  row.path = `/articles/${i % 100}`;
  row.visitorHash = String(1_000_000_007n * BigInt(i + 1));
  return {
    row,
    raw: {
      url: `https://www.example.fr/articles/${i % 100}?utm_source=x`,
      referrer: null,
      ip: '203.0.113.7',
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      language: 'fr-FR',
      props: null,
    },
  };
}

const cpuUs = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

async function round(sandboxed: boolean): Promise<{ perSecond: number; cpuPerEvent: number; rssMb: number }> {
  const outboxDir = mkdtempSync(join(dir, 'outbox-'));
  const cfg = config(sandboxed ? file : 'bench-hook');
  const outbox = await Outbox.open(outboxDir, cfg.outbox, { log: () => undefined });
  let warned = 0;
  const warn = (line: string) => void (warned++ < 1 && console.error(line));
  const rssBefore = process.memoryUsage().rss;
  const runtime = await ToolRuntime.start(
    cfg,
    outbox,
    sandboxed ? { warn } : { warn, components: { 'bench-hook': inProcess } },
    dir,
  );
  const rssMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const site = cfg.sites[0]!;
  // Warm up, then measure.
  for (let i = 0; i < 200; i++) {
    const { raw, row } = event(i);
    await runtime.dispatch(site, raw, row, null);
  }
  const started = performance.now();
  const cpu = cpuUs();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const { raw, row } = event(next++);
        await runtime.dispatch(site, raw, row, null);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuPerEvent = (cpuUs() - cpu) / EVENTS;
  const stats = runtime.stats()['www.example.fr/hook']!;
  if (stats.errors > 0 || stats.deliveries < EVENTS)
    throw new Error(`the component failed: ${JSON.stringify(stats)}`);
  await outbox.idle(30_000);
  await runtime.close();
  await outbox.close();
  return { perSecond: EVENTS / seconds, cpuPerEvent, rssMb };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Record<'in the gateway thread' | 'sandboxed', Awaited<ReturnType<typeof round>>[]> = {
  'in the gateway thread': [],
  sandboxed: [],
};
try {
  for (let r = 0; r < ROUNDS; r++) {
    results['in the gateway thread'].push(await round(false));
    results.sandboxed.push(await round(true));
  }
  for (const [name, runs] of Object.entries(results))
    console.log(
      `${name.padEnd(22)} ${median(runs.map((r) => r.perSecond)).toFixed(0)} events/s, CPU ${median(runs.map((r) => r.cpuPerEvent)).toFixed(0)} µs/event, memory at start +${median(runs.map((r) => r.rssMb)).toFixed(1)} MB (${EVENTS} events, ${CONCURRENCY} at a time, median of ${ROUNDS})`,
    );
  const inThread = results['in the gateway thread'];
  const sandbox = results.sandboxed;
  console.log(
    `sandboxed / in-thread: ${(median(sandbox.map((r) => r.perSecond)) / median(inThread.map((r) => r.perSecond))).toFixed(2)}× events/s, ${(median(sandbox.map((r) => r.cpuPerEvent)) / median(inThread.map((r) => r.cpuPerEvent))).toFixed(2)}× CPU per event`,
  );
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
