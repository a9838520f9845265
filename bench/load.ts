// Load generator for bench/collect and bench/proxy, run as its own process: autocannon against one
// URL, bounded in time. BODY `-` sends GETs (bench/proxy), anything else POSTs it.
import autocannon from 'autocannon';

const [url, seconds, connections, body] = process.argv.slice(2);
if (!url || !body) throw new Error('usage: load.ts URL SECONDS CONNECTIONS BODY');
const result = await autocannon({
  url,
  method: body === '-' ? 'GET' : 'POST',
  duration: Number(seconds ?? 10),
  connections: Number(connections ?? 50),
  headers: {
    'content-type': 'text/plain;charset=UTF-8',
    host: 'www.example.fr',
    'user-agent':
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.207 Safari/537.36',
  },
  ...(body === '-' ? {} : { body }),
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }) + '\n',
);
