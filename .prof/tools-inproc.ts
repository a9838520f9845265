// In-process: N events through the pipeline + ToolRuntime.dispatch (+ outbox with a fake transport).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { parseConfig } = (await import((process.env.DIST ?? '../dist') + '/config/load.js')) as typeof import('../src/config/load.js');
const { Outbox } = (await import((process.env.DIST ?? '../dist') + '/tools/outbox.js')) as typeof import('../src/tools/outbox.js');
const { ToolRuntime } = (await import((process.env.DIST ?? '../dist') + '/tools/runtime.js')) as typeof import('../src/tools/runtime.js');
const { Pipeline } = (await import((process.env.DIST ?? '../dist') + '/pipeline/runner.js')) as typeof import('../src/pipeline/runner.js');
const { PIPELINE_STEPS } = (await import((process.env.DIST ?? '../dist') + '/pipeline/steps.js')) as typeof import('../src/pipeline/steps.js');
const { GeoLookup } = (await import((process.env.DIST ?? '../dist') + '/enrich/geo.js')) as typeof import('../src/enrich/geo.js');
import type { RawEvent, PipelineContext } from '../src/pipeline/event.js';
const N = Number(process.argv[2] ?? 20000);
const VIS = Number(process.argv[3] ?? 1);
const TOOLS = (process.argv[4] ?? 'ga4,meta,hook').split(',').filter((t) => t !== 'none');
const V = 'http://127.0.0.1:18999';
const all: Record<string, unknown> = {
  ga4: { id: 'ga4', component: 'ga4', allowHosts: ['127.0.0.1'], settings: { measurementId: 'G-BENCH1', mode: 'mp', apiSecret: 's', endpoint: `${V}/mp/collect` } },
  meta: { id: 'meta', component: 'meta', region: 'any', allowHosts: ['127.0.0.1'], settings: { pixelId: '1', accessToken: 't', endpoint: V } },
  hook: { id: 'hook', component: 'webhook', allowHosts: ['127.0.0.1'], settings: { url: `${V}/hook`, secret: 's' } },
};
const dir = mkdtempSync(join(tmpdir(), 'tl-'));
const config = parseConfig({ outbox: { concurrency: 16 }, sites: [{ host: 'www.example.fr', aliases: ['127.0.0.1'], tools: TOOLS.map((t) => all[t]) }] }, { env: {} });
let requests = 0, deliveries = 0;
const outbox = await Outbox.open(join(dir, 'outbox'), config.outbox, {
  transport: async (request) => { requests++; try { const b = JSON.parse(request.body ?? ''); deliveries += (b.events ?? b.data)?.length ?? 1; } catch { deliveries++; } return { status: request.url.includes('/events') ? 200 : 204, body: request.url.includes('/events') ? '{"events_received":1}' : '' }; },
  log: () => undefined,
});
const runtime = await ToolRuntime.start(config, outbox);
const geo = GeoLookup.fromData(await GeoLookup.load(config.geo), config.geo);
const ctx: PipelineContext = { countFinding: () => undefined, node: 'bench', geo: (ip) => geo.lookup(ip), visitorHash: (_s, ip, ua) => String(BigInt(1e15) + BigInt(ip.split(".").reduce((a, b) => a * 256 + Number(b), 0)) * 7n + BigInt(ua.length)) };
const steps = new Pipeline(PIPELINE_STEPS);
const site = config.sites[0]!;
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
async function one(i: number) {
  const raw: RawEvent = { type: 'pageview', name: null, url: 'https://www.example.fr/politique/article-12?utm_source=newsletter', title: 'Article 12 — politique', referrer: 'https://www.google.com/', clientTimestamp: Date.now(), props: null, ip: `81.1.${(i % VIS) >> 8 & 255}.${(i % VIS) & 255}`, userAgent: UA, receivedAt: Date.now(), source: 'browser', viewportWidth: 1200, viewportHeight: 800, timezoneOffset: -60 } as RawEvent;
  const made = await steps.run(raw, site, ctx);
  if (made.kind !== 'ok') throw new Error('drop');
  await runtime.dispatch(site, raw as never, made.value, null);
}
const round = async (label: string) => {
  requests = 0; deliveries = 0;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  // 50 concurrent "connections"
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => { while (next < N) await one(next++); }));
  const c1 = process.cpuUsage(c0); const accept = performance.now() - t0;
  await outbox.idle(60000);
  const c2 = process.cpuUsage(c0);
  const us = (c: NodeJS.CpuUsage) => ((c.user + c.system) / N).toFixed(1);
  console.log(`${label}: accept ${us(c1)} µs/event (${(N / accept * 1000).toFixed(0)}/s), with deliveries ${us(c2)} µs/event; ${requests} requests, ${deliveries} deliveries`);
};
for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) await round(`round ${r + 1}`);
await runtime.close(); await outbox.close(); if (process.env.KEEP) console.log(dir); else rmSync(dir, { recursive: true, force: true });
