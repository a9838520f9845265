// bench:transport — the outbox's HTTP client (undici pools, src/tools/transport.ts) against
// node:http with a keep-alive agent (the client it replaced), in the same run: both POST the same
// small JSON body to a bare node:http server in a child process on 127.0.0.1, 16 at a time.
// Prints requests/s and the client's CPU per request (user + system of this process only; the
// server's work is not counted), and the ratio.
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { httpTransport } from '../src/tools/transport.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 16;
const SERVER = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.end('{"ok":true}')); });
s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) =>
  server.stdout.once('data', (d: Buffer) => resolve(Number(d))),
);
const url = `http://127.0.0.1:${port}/mp/collect?measurement_id=G-BENCH`;
const body = JSON.stringify({
  client_id: '1234567890.1234567890',
  events: [
    { name: 'page_view', params: { page_location: 'https://www.example.fr/', engagement_time_msec: 1 } },
  ],
});

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const viaNodeHttp = () =>
  new Promise<number>((resolve, reject) => {
    const payload = Buffer.from(body);
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length) },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
const transport = httpTransport(CONCURRENCY);
const viaTransport = async () =>
  (await transport({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body }, 5000))
    .status;

async function measure(send: () => Promise<number>): Promise<{ rate: number; cpu: number }> {
  for (let i = 0; i < 2000; i++) await send(); // warm-up: connections open, code optimised
  const cpu = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < REQUESTS) {
        sent++;
        if ((await send()) !== 200) throw new Error('the server did not answer 200');
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    rate: REQUESTS / ((performance.now() - started) / 1000),
    cpu: (used.user + used.system) / REQUESTS,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results = { node: [] as { rate: number; cpu: number }[], ours: [] as { rate: number; cpu: number }[] };
for (let round = 0; round < ROUNDS; round++) {
  results.node.push(await measure(viaNodeHttp));
  results.ours.push(await measure(viaTransport));
}
for (const [name, list] of [
  ['node:http keep-alive agent', results.node],
  ['outbox transport (undici)', results.ours],
] as const)
  process.stdout.write(
    `${name.padEnd(28)} ${Math.round(median(list.map((r) => r.rate)))} req/s  CPU ${median(list.map((r) => r.cpu)).toFixed(1)} µs/req  (rounds: ${list.map((r) => r.cpu.toFixed(1)).join(', ')} µs)\n`,
  );
const ratio = median(results.ours.map((r) => r.cpu)) / median(results.node.map((r) => r.cpu));
process.stdout.write(
  `summary: ${REQUESTS} requests × ${ROUNDS} rounds; client CPU per request ${ratio.toFixed(2)}× node:http's\n`,
);
server.kill();
process.exit(0);
