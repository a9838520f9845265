// bench:collect — the gateway's POST {prefix}/e with the full pipeline and a durable (fsynced) spool,
// against a bare node:http server (parse JSON, 204), each loaded in the same run by a separate
// bounded autocannon process on 127.0.0.1. Prints req/s, p50, p99, peak RSS and the ratio.
// BENCH_TOOLS=1 adds a third server: the gateway with GA4, Meta and a webhook enabled against a
// local vendor (this process), and reports how fast the outbox delivers (3 requests per event).
// BENCH_VISITORS=N spreads the load over N visitors (X-Forwarded-For from a trusted 127.0.0.1),
// as a site's traffic is: GA4's Measurement Protocol then batches nothing (one client per request).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, run, startUntil } from './processes.js';
import { BENCH_PAGEVIEW, BENCH_UA } from './visitors.js';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS, GATEWAY_TOOLS_NODE_FLAGS } from '../src/cli/gateway-node.js';

// The gateway starts as docs/deploy.md's unit starts it — the gateway with tools without the
// young generation's bound, as the page says for sites with tools; BENCH_SERVE_FLAGS and
// BENCH_TOOLS_SERVE_FLAGS ("" or other Node options) to compare.
const flags = (variable: string | undefined, fallback: readonly string[]) =>
  variable === undefined ? [...fallback] : variable.split(' ').filter(Boolean);
const SERVE_FLAGS = flags(process.env.BENCH_SERVE_FLAGS, GATEWAY_NODE_FLAGS);
const TOOLS_SERVE_FLAGS = flags(process.env.BENCH_TOOLS_SERVE_FLAGS, GATEWAY_TOOLS_NODE_FLAGS);
const ENV_OPTIONS = Object.entries(GATEWAY_ENV).map(([k, v]) => `${k}=${v}`);
const SERVE_OPTIONS = [...SERVE_FLAGS, ...ENV_OPTIONS].join(' ');
const TOOLS_SERVE_OPTIONS = [...TOOLS_SERVE_FLAGS, ...ENV_OPTIONS].join(' ');
/** Node's arguments for a gateway on `config`, started with `node` (Node's options). */
const serveArgs = (config: string, node: readonly string[] = SERVE_FLAGS) => [
  ...node,
  'dist/cli/main.js',
  'serve',
  '--config',
  config,
];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TOOLS = process.env.BENCH_TOOLS === '1';
const VISITORS = Number(process.env.BENCH_VISITORS ?? 1);
const BODY = BENCH_PAGEVIEW;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

type Generator = 'autocannon' | 'wrk';

/** Starts the gateway (or the bare server) and resolves with its URL once it listens. */
async function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const env = args.includes('serve') ? { ...GATEWAY_ENV, ...process.env } : undefined;
  const { child, found } = await startUntil(process.execPath, args, /on (http:\/\/127\.0\.0\.1:\d+)/, env);
  return { child, url: found };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

function ms(text: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

async function load(generator: Generator, url: string, seconds: number): Promise<Load> {
  if (generator === 'autocannon') {
    const out = await run(process.execPath, [
      '--import',
      'tsx',
      'bench/load.ts',
      url,
      String(seconds),
      String(CONNECTIONS),
      BODY,
      String(VISITORS),
    ]);
    return JSON.parse(out) as Load;
  }
  const script = join(dir, 'post.lua');
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["Content-Type"] = "text/plain"\nwrk.headers["Host"] = "www.example.fr"\nwrk.headers["User-Agent"] = ${JSON.stringify(BENCH_UA)}\n` +
      // The visitors in turn, with visitorAddress's addresses (Lua 5.1: no bit operators).
      (VISITORS > 1
        ? `local n = 0\nrequest = function()\n  local v = n % ${VISITORS}\n  n = n + 1\n  wrk.headers["X-Forwarded-For"] = string.format("81.%d.%d.%d", math.floor(v / 65536) % 256, math.floor(v / 256) % 256, v % 256)\n  return wrk.format()\nend\n`
        : ''),
  );
  const out = await run('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors =
    /Socket errors: (.*)/
      .exec(out)?.[1]
      ?.match(/\d+/g)
      ?.reduce((a, b) => a + Number(b), 0) ?? 0;
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    p99: ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    non2xx,
    errors,
  };
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// The vendors of the tools round: answers everything at once and counts requests and the
// deliveries they carry (a batch: GA4 `events`, Meta `data`, webhook `events`).
let vendorRequests = 0;
let vendorDeliveries = 0;
const vendor = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    vendorRequests++;
    let carried = 1;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { events?: unknown[]; data?: unknown[] };
      carried = (body.events ?? body.data)?.length ?? 1;
    } catch {
      // not JSON: one delivery
    }
    vendorDeliveries += carried;
    response.writeHead(request.url?.includes('/events') ? 200 : 204, { 'content-type': 'application/json' });
    response.end(request.url?.includes('/events') ? '{"events_received":1}' : undefined);
  });
});
await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
const vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;

interface Delivery {
  events: number;
  requests: number;
  deliveredDuringLoad: number;
  drainSeconds: number;
  rate: number;
  /** The server's CPU from the start of the load until every delivery was made, per event. */
  cpuUsPerEvent: number;
}

/** What one round measured of one server. */
type Round = Load & {
  rssMb: number;
  cpuUsPerRequest: number;
  p99Half: number;
  /** Of the paced run's answers, the share the gateway's own timing puts within 10 ms (/metrics). */
  within10msHalf: number;
  delivery?: Delivery;
};

/** The bench's API token (the gateways' config holds its hash): for /metrics. */
const METRICS_TOKEN = 'bench-metrics-token';
const METRICS_TOKEN_HASH = createHash('sha256').update(METRICS_TOKEN).digest('hex');

/**
 * The gateway's collect latency histogram (balise_http_request_duration_seconds): answers
 * within 10 ms and in all, as counted so far.
 */
async function collectTimings(url: string): Promise<{ within10ms: number; all: number }> {
  const text = await (
    await fetch(`${url}/balise/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const bucket = (le: string) =>
    Number(
      new RegExp(
        `^balise_http_request_duration_seconds_bucket\\{le="${le.replace('+', '\\+')}",route="collect",method="POST"\\} (\\d+)`,
        'm',
      ).exec(text)?.[1] ?? NaN,
    );
  return { within10ms: bucket('0.01'), all: bucket('+Inf') };
}

/** One round: start the server, warm it up, measure, stop it (tools: wait for the outbox to drain). */
async function round(generator: Generator, args: string[], path: string): Promise<Round> {
  const server = await start(args);
  await load(generator, `${server.url}${path}`, 3);
  const accepted = async () =>
    ((await (await fetch(`${server.url}/balise/healthz`)).json()) as { accepted: number }).accepted;
  const before = args.includes(toolsConfig)
    ? { events: await accepted(), vendor: vendorDeliveries, requests: vendorRequests }
    : null;
  const started = performance.now();
  const cpuBefore = cpuMs(server.child.pid!);
  const result = await load(generator, `${server.url}${path}`, SECONDS);
  // The server's CPU per answered request: steadier than req/s, since the load generator shares
  // the machine's cores (tools: the deliveries during the load are included).
  const cpuUsPerRequest = ((cpuMs(server.child.pid!) - cpuBefore) * 1000) / (result.rps * SECONDS);
  // The same requests sent evenly at half the rate just measured (bench/paced.ts: autocannon's
  // rate limit sends each second's requests in a burst): the latency of a server not saturated
  // (the gateway with tools: after its deliveries, below). Beside the generator's p99, the
  // gateway's own timing of the same answers (its /metrics histogram: the share within 10 ms),
  // free of the generator's pauses.
  // The bare server is left out: at half its rate the generator, one Node thread, would be what
  // is measured. The store is given 3 s to take in the rows of the load at full rate.
  const halfRate = async (): Promise<{ p99: number; within10ms: number }> => {
    if (path === '/') return { p99: NaN, within10ms: NaN };
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // The gateway's figures from the generator's second second on, as its own figures are.
    let before: Promise<{ within10ms: number; all: number }> | undefined;
    const paced = [`${server.url}${path}`, String(SECONDS), String(Math.round(result.rps / 2)), BODY];
    const out = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/paced.ts', ...paced, String(VISITORS)],
      {
        text: 'paced: measuring',
        then: () => {
          before = collectTimings(server.url);
        },
      },
    );
    const after = await collectTimings(server.url);
    const from = (await before) ?? { within10ms: NaN, all: NaN };
    return {
      p99: (JSON.parse(out) as { p99: number }).p99,
      within10ms: (after.within10ms - from.within10ms) / (after.all - from.all),
    };
  };
  let delivery: Delivery | undefined;
  if (before) {
    const loadEnd = performance.now();
    const events = (await accepted()) - before.events;
    const deliveredDuringLoad = vendorDeliveries - before.vendor;
    while (vendorDeliveries - before.vendor < 3 * events && performance.now() - loadEnd < 120_000)
      await new Promise((r) => setTimeout(r, 50));
    const total = vendorDeliveries - before.vendor;
    const seconds = (performance.now() - started) / 1000;
    delivery = {
      events,
      requests: vendorRequests - before.requests,
      deliveredDuringLoad,
      drainSeconds: (performance.now() - loadEnd) / 1000,
      rate: total / seconds,
      cpuUsPerEvent: ((cpuMs(server.child.pid!) - cpuBefore) * 1000) / events,
    };
  }
  const { p99: p99Half, within10ms: within10msHalf } = await halfRate();
  const rssMb = peakRssMb(server.child.pid!);
  const exit = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exit;
  return { ...result, rssMb, cpuUsPerRequest, p99Half, within10msHalf, ...(delivery ? { delivery } : {}) };
}

const dir = mkdtempSync(join(tmpdir(), 'balise-bench-'));
const toolsConfig = join(dir, 'tools.yaml');
try {
  const config = join(dir, 'balise.yaml');
  writeFileSync(
    config,
    [
      'server: { host: 127.0.0.1, port: 0, node: bench, trustedProxies: [127.0.0.1], rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
      'store: { kind: duckdb, path: ./balise.duckdb }',
      'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
      `admin: { tokens: [${METRICS_TOKEN_HASH}] }`,
    ].join('\n'),
  );
  writeFileSync(
    toolsConfig,
    [
      'server: { host: 127.0.0.1, port: 0, node: bench, trustedProxies: [127.0.0.1], rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
      'store: { kind: duckdb, path: ./tools.duckdb }',
      'outbox: { concurrency: 16 }',
      `admin: { tokens: [${METRICS_TOKEN_HASH}] }`,
      'sites:',
      '  - host: www.example.fr',
      '    aliases: [127.0.0.1]',
      '    tools:',
      `      - { id: ga4, component: ga4, allowHosts: [127.0.0.1], settings: { measurementId: G-BENCH1, mode: mp, apiSecret: s, endpoint: "${vendorUrl}/mp/collect" } }`,
      `      - { id: meta, component: meta, region: any, allowHosts: [127.0.0.1], settings: { pixelId: "1", accessToken: t, endpoint: "${vendorUrl}" } }`,
      // The receiver is on 127.0.0.1 over http: only allowHosts opens that (a url setting never does).
      `      - { id: hook, component: webhook, allowHosts: [127.0.0.1], settings: { url: "${vendorUrl}/hook", secret: s } }`,
    ].join('\n'),
  );
  const generators: Generator[] = spawnSync('wrk', ['--version']).error
    ? ['autocannon']
    : ['autocannon', 'wrk'];
  process.stdout.write(
    `bench:collect — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; ${VISITORS === 1 ? 'one visitor' : `${VISITORS} visitors in turn`}; ${ROUNDS} alternating rounds of ${SECONDS} s × ${CONNECTIONS} connections (after a 3 s warm-up) per server and generator; the gateway started with ${SERVE_OPTIONS}${TOOLS ? ` (with tools: ${TOOLS_SERVE_OPTIONS})` : ''}; medians\n`,
  );
  const summaries: string[] = [];
  for (const generator of generators) {
    const bare: Round[] = [];
    const gateway: Round[] = [];
    const tools: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push(await round(generator, ['--import', 'tsx', 'bench/bare-server.ts'], '/'));
      gateway.push(await round(generator, serveArgs(config), '/balise/e'));
      if (TOOLS) tools.push(await round(generator, serveArgs(toolsConfig, TOOLS_SERVE_FLAGS), '/balise/e'));
    }
    if (tools.some((g) => g.non2xx > 0 || g.errors > 0))
      throw new Error('the gateway with tools answered errors under load; figures are not valid');
    if (gateway.some((g) => g.non2xx > 0 || g.errors > 0))
      throw new Error('the gateway answered errors under load; figures are not valid');
    for (const [name, runs] of [
      ['bare node:http', bare],
      ['balise POST /balise/e', gateway],
      ...(TOOLS ? ([['balise + GA4, Meta, hook', tools]] as const) : []),
    ] as const) {
      process.stdout.write(
        `${generator.padEnd(10)} ${name.padEnd(22)} ${median(runs.map((r) => r.rps))
          .toFixed(0)
          .padStart(
            6,
          )} req/s  p50 ${median(runs.map((r) => r.p50))} ms  p99 ${median(runs.map((r) => r.p99))} ms ${Number.isNaN(runs[0]!.p99Half) ? '' : ` (at half that rate, paced: ${median(runs.map((r) => r.p99Half))} ms; by the gateway's own timing ${(100 * median(runs.map((r) => r.within10msHalf))).toFixed(1)} % within 10 ms)`}  CPU ${median(runs.map((r) => r.cpuUsPerRequest)).toFixed(0)} µs/req  peak RSS ${Math.max(...runs.map((r) => r.rssMb))} MB  (rounds: ${runs.map((r) => r.rps.toFixed(0)).join(', ')})\n`,
      );
    }
    const ratio = median(gateway.map((g) => g.rps)) / median(bare.map((b) => b.rps));
    const cpuRatio =
      median(bare.map((b) => b.cpuUsPerRequest)) / median(gateway.map((g) => g.cpuUsPerRequest));
    summaries.push(`${generator} ${ratio.toFixed(2)}× (CPU per request ${cpuRatio.toFixed(2)}×)`);
    if (TOOLS) {
      for (const t of tools) {
        const d = t.delivery!;
        process.stdout.write(
          `${generator.padEnd(10)} outbox: ${d.events} events → ${3 * d.events} deliveries in ${d.requests} requests; ${d.deliveredDuringLoad} during the load, drained ${d.drainSeconds.toFixed(1)} s after it; ${d.rate.toFixed(0)} deliveries/s; CPU ${d.cpuUsPerEvent.toFixed(0)} µs per event, deliveries included\n`,
        );
      }
      const withTools = median(tools.map((g) => g.rps)) / median(bare.map((b) => b.rps));
      summaries.push(`${generator} with 3 tools ${withTools.toFixed(2)}×`);
    }
  }
  process.stdout.write(`summary: gateway/bare ${summaries.join(', ')} (goal ≥ 0.40×)\n`);
} finally {
  vendor.close();
  rmSync(dir, { recursive: true, force: true });
}
