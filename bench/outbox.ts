// bench:outbox — the outbox draining a backlog, as after a vendor outage: BENCH_PENDING solo
// deliveries (GA4's /g/collect: one request per event) journalled by an outbox that does not
// send, then opened again to deliver them to a bare node:http server in a child process on
// 127.0.0.1. Prints the CPU of opening (replaying and compacting the journal) and per delivery.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { Outbox, type Delivery } from '../src/tools/outbox.js';
import { startNoContentServer } from './processes.js';

const PENDING = Number(process.env.BENCH_PENDING ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const server = await startNoContentServer();
const port = server.port;
const dir = mkdtempSync(join(tmpdir(), 'balise-bench-outbox-'));
const settings = parseConfig(
  { outbox: { concurrency: 16 }, sites: [{ host: 'www.example.fr' }] },
  { env: {} },
).outbox;
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

function delivery(n: number): Delivery {
  return {
    id: `0190b3c4-0000-7000-8000-${String(n).padStart(12, '0')}:ga4:0`,
    site: 'www.example.fr',
    tool: 'ga4',
    eventId: `0190b3c4-0000-7000-8000-${String(n).padStart(12, '0')}`,
    request: {
      url: `http://127.0.0.1:${port}/g/collect?v=2&tid=G-BENCH1&cid=${1e15 + n}&en=page_view&dl=https%3A%2F%2Fwww.example.fr%2Farticle-${n % 100}`,
      method: 'POST',
      headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0.0.0' },
      body: null,
    },
    policy: 'ga4 region=eu query=strip ip=hide ua=reduce referrer=strip-external clientId=hashed dlp=mask',
    operatorHosts: ['127.0.0.1'],
    quoteAnswers: false,
    createdAt: Date.now(),
    attempts: 0,
  };
}

try {
  process.stdout.write(`bench:outbox — ${PENDING} pending solo deliveries, ${ROUNDS} rounds\n`);
  for (let round = 0; round < ROUNDS; round++) {
    const path = join(dir, `round-${round}`);
    const fill = await Outbox.open(path, settings, { deliver: false });
    for (let n = 0; n < PENDING; n += 1000)
      await fill.enqueue(Array.from({ length: Math.min(1000, PENDING - n) }, (_, k) => delivery(n + k)));
    await fill.close();
    let logged = 0;
    const opening = cpuMs();
    const started = performance.now();
    const outbox = await Outbox.open(path, settings, { log: () => void logged++ });
    const opened = cpuMs();
    if (!(await outbox.idle(600_000))) throw new Error('the backlog did not drain in 10 minutes');
    const drained = cpuMs();
    const seconds = (performance.now() - started) / 1000;
    await outbox.close();
    if (logged < PENDING) throw new Error(`only ${logged} of ${PENDING} deliveries were logged as sent`);
    process.stdout.write(
      `round ${round + 1}: open ${(opened - opening).toFixed(0)} ms CPU; drain ${(((drained - opened) * 1000) / PENDING).toFixed(1)} µs CPU per delivery; ${(PENDING / seconds).toFixed(0)} deliveries/s\n`,
    );
  }
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
