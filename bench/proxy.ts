// bench:proxy — Balise's proxy mode (script injection on) against Debian's nginx `proxy_pass`
// (keep-alive to the upstream) and against the origin directly, same load, one run: a bare
// node:http origin in a child process serves a 10 KB HTML page without the snippet; autocannon
// (its own process) sends GETs with 50 connections to each in turn. Prints req/s and latency, the
// ratio of Balise's req/s to nginx's, and the latency each proxy adds at p50; and a bare Node
// relay (bench/bare-proxy.ts: node:http and undici, nothing else) as the floor Node sets, with
// Balise's ratio to it. BENCH_INJECT=0: Balise without injection (the proxy alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, run, startUntil } from './processes.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = 50;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, seconds: number): Promise<Load> {
  const out = await run(process.execPath, [
    '--import',
    'tsx',
    'bench/load.ts',
    url,
    String(seconds),
    String(CONNECTIONS),
    '-',
  ]);
  return JSON.parse(out) as Load;
}

const BALISE = `balise proxy (${process.env.BENCH_INJECT === '0' ? 'no injection' : 'inject'})`;
const BARE = 'node:http + undici relay';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'balise-bench-proxy-'));
const children: ChildProcess[] = [];
try {
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Bench</title></head><body>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>'.repeat(170)}</body></html>`;
  writeFileSync(join(dir, 'page.html'), page);
  const origin = await startUntil(
    process.execPath,
    [
      '-e',
      `const page = require('node:fs').readFileSync(${JSON.stringify(join(dir, 'page.html'))});
const s = require('node:http').createServer((q, r) => { r.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length }); r.end(page); });
s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));`,
    ],
    /port (\d+)/,
  );
  children.push(origin.child);
  const originPort = Number(origin.found);
  // nginx on a private configuration: one worker, keep-alive to the upstream, no access log.
  const nginxPort = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx.error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream origin { server 127.0.0.1:${originPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }
  }
}
`,
  );
  const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  children.push(nginx);
  writeFileSync(
    join(dir, 'balise.yaml'),
    [
      'server: { host: 127.0.0.1, port: 0, node: bench, rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
      'store: { kind: duckdb, path: ./balise.duckdb }',
      'sites:',
      '  - host: www.example.fr',
      `    proxy: { upstream: "http://127.0.0.1:${originPort}", inject: ${process.env.BENCH_INJECT !== '0'} }`,
    ].join('\n'),
  );
  const balise = await startUntil(
    process.execPath,
    ['dist/cli/main.js', 'serve', '--config', join(dir, 'balise.yaml')],
    /on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  children.push(balise.child);
  // The floor: the least a Node proxy does (bench/bare-proxy.ts), to tell Node's share from ours.
  const bare = await startUntil(
    process.execPath,
    ['--import', 'tsx', 'bench/bare-proxy.ts', `http://127.0.0.1:${originPort}`],
    /on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  children.push(bare.child);
  await new Promise((r) => setTimeout(r, 500));
  const targets = {
    origin: `http://127.0.0.1:${originPort}/`,
    'nginx proxy_pass': `http://127.0.0.1:${nginxPort}/`,
    [BALISE]: `${balise.found}/article`,
    [BARE]: `${bare.found}/article`,
  };
  // The process that serves each target (the proxies alone: not the origin behind them).
  const servers: Record<string, number> = {
    origin: origin.child.pid!,
    'nginx proxy_pass': nginx.pid!,
    [BALISE]: balise.child.pid!,
    [BARE]: bare.child.pid!,
  };
  const results: Record<string, (Load & { cpuUs: number })[]> = {};
  for (const url of Object.values(targets)) await load(url, 2); // warm-up
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, url] of Object.entries(targets)) {
      const before = cpuMs(servers[name]!);
      const result = await load(url, SECONDS);
      const cpuUs = ((cpuMs(servers[name]!) - before) * 1000) / (result as Load & { total: number }).total;
      // A socket reset as autocannon stops is not a failure; errors beyond one in a thousand are.
      if (result.non2xx > 0 || result.errors > (result as Load & { total: number }).total / 1000)
        throw new Error(`${name} answered errors under load: ${JSON.stringify(result)}`);
      (results[name] ??= []).push({ ...result, cpuUs });
    }
  process.stdout.write(
    `bench:proxy — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}, nginx 1.22; ${ROUNDS} rounds of ${SECONDS} s × ${CONNECTIONS} connections, GET of a ${(page.length / 1024).toFixed(0)} KB HTML page; medians\n`,
  );
  const row = (name: string) => {
    const runs = results[name]!;
    return {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUs: median(runs.map((r) => r.cpuUs)),
    };
  };
  for (const name of Object.keys(targets)) {
    const r = row(name);
    process.stdout.write(
      `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  CPU ${r.cpuUs.toFixed(0)} µs/req\n`,
    );
  }
  const direct = row('origin');
  const nginxRow = row('nginx proxy_pass');
  const ours = row(BALISE);
  const floor = row(BARE);
  const added = (r: { p50: number }) => Math.max(r.p50 - direct.p50, 0.01);
  process.stdout.write(
    `summary: balise/nginx ${(ours.rps / nginxRow.rps).toFixed(2)}× req/s (goal ≥ 0.5×); latency added at p50: balise ${added(ours).toFixed(2)} ms, nginx ${added(nginxRow).toFixed(2)} ms (${(added(ours) / added(nginxRow)).toFixed(2)}×, goal ≤ 1.3×)\n` +
      `the floor: a bare Node relay ÷ nginx ${(floor.rps / nginxRow.rps).toFixed(2)}× req/s, ${floor.cpuUs.toFixed(0)} µs CPU per request; balise ÷ the floor ${(ours.rps / floor.rps).toFixed(2)}× req/s, ${(ours.cpuUs / floor.cpuUs).toFixed(2)}× CPU per request\n`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
