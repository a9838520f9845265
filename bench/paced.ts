// Open-loop load for bench/collect: POSTs BODY to URL at RATE requests per second, evenly spaced,
// sent on schedule whether or not earlier answers came (no coordinated omission), for 1 + SECONDS
// over up to 256 keep-alive connections; prints the latency percentiles from each request's
// scheduled time, in ms, leaving out the first second (connections opened, code compiled).
// VISITORS as in load.ts.
import { Pool } from 'undici';
import { browserHeaders, visitorAddress } from './visitors.js';

const [url, seconds, rate, body, visitors = '1'] = process.argv.slice(2);
if (!url || !rate || !body) throw new Error('usage: paced.ts URL SECONDS RATE BODY [VISITORS]');
const target = new URL(url);
const pool = new Pool(target.origin, { connections: 256 });
const perSecond = Number(rate);
const total = Math.floor(perSecond * (Number(seconds) + 1));
const count = Number(visitors);
const latencies: number[] = [];
let errors = 0;
const start = performance.now();
const sent: Promise<void>[] = [];
for (let i = 0; i < total;) {
  const due = start + (i * 1000) / perSecond;
  const now = performance.now();
  if (due > now) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - now - 0.5)));
    continue;
  }
  // Every request whose time has come, each measured from its own scheduled time.
  for (; i < total && start + (i * 1000) / perSecond <= performance.now(); i++) {
    const scheduled = start + (i * 1000) / perSecond;
    const headers = browserHeaders();
    if (count > 1) headers['x-forwarded-for'] = visitorAddress(i % count);
    sent.push(
      pool
        .request({ path: `${target.pathname}${target.search}`, method: 'POST', headers, body })
        .then(async (response) => {
          await response.body.dump();
          if (response.statusCode >= 300) errors++;
          if (scheduled - start >= 1000) latencies.push(performance.now() - scheduled);
        })
        .catch(() => void errors++),
    );
  }
}
await Promise.all(sent);
await pool.close();
latencies.sort((a, b) => a - b);
const at = (q: number) =>
  Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN) * 10) / 10;
process.stdout.write(
  `${JSON.stringify({ rate: perSecond, sent: total, answered: latencies.length, errors, p50: at(0.5), p99: at(0.99), max: at(1) })}\n`,
);
