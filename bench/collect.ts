// bench:collect — the gateway's POST {prefix}/e with the full pipeline and a durable (fsynced) spool,
// against a bare node:http server (parse JSON, 204), each loaded in the same run by a separate
// bounded autocannon process on 127.0.0.1. Prints req/s, p50, p99, peak RSS and the ratio.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const BODY = JSON.stringify({
  eventType: 'pageview',
  location: 'https://www.example.fr/politique/article-12?utm_source=newsletter',
  title: 'Article 12 — politique',
  referer: 'https://www.google.com/',
  timestamp: Date.now(),
  offset: -60,
  language: 'fr-FR',
  screenWidth: 1920,
  screenHeight: 1080,
  viewportWidth: 1280,
  viewportHeight: 800,
});

interface Load {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve({ child, url: match[1]! });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function load(url: string): Promise<Load> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/load.ts', url, String(SECONDS), String(CONNECTIONS), BODY],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Load) : reject(new Error(`load exited ${code}`)),
    ),
  );
}

async function measure(name: string, args: string[], path: string): Promise<Load & { rssMb: number }> {
  const server = await start(args);
  await load(`${server.url}${path}`).catch(() => undefined); // warm-up run, discarded
  const result = await load(`${server.url}${path}`);
  const rssMb = peakRssMb(server.child.pid!);
  const exit = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exit;
  const line = `${name.padEnd(22)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  peak RSS ${rssMb} MB  non-2xx ${result.non2xx}  errors ${result.errors}`;
  process.stdout.write(`${line}\n`);
  return { ...result, rssMb };
}

const dir = mkdtempSync(join(tmpdir(), 'balise-bench-'));
try {
  const config = join(dir, 'balise.yaml');
  writeFileSync(
    config,
    [
      'server: { host: 127.0.0.1, port: 0, node: bench, rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
      'store: { kind: duckdb, path: ./balise.duckdb }',
      'sites: [{ host: www.example.fr }]',
    ].join('\n'),
  );
  process.stdout.write(
    `bench:collect — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}, ${SECONDS} s × ${CONNECTIONS} connections, 1 warm-up run each\n`,
  );
  const bare = await measure('bare node:http', ['--import', 'tsx', 'bench/bare-server.ts'], '/');
  const gateway = await measure(
    'balise POST /balise/e',
    ['dist/cli/main.js', 'serve', '--config', config],
    '/balise/e',
  );
  if (gateway.non2xx > 0 || gateway.errors > 0)
    throw new Error('the gateway answered errors under load; figures are not valid');
  const ratio = gateway.rps / bare.rps;
  process.stdout.write(
    `summary: gateway ${gateway.rps.toFixed(0)} req/s vs bare ${bare.rps.toFixed(0)} req/s = ${ratio.toFixed(2)}× (goal ≥ 0.40×), p99 ${gateway.p99} ms, peak RSS ${gateway.rssMb} MB\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
